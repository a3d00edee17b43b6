"""Cada notebook: saídas gravadas frescas e sem erro, e roda sozinho como no Colab, no modo rápido."""

import re
import shutil

import pytest
from capitulos import existentes, fonte, hash_codigo, ler_notebook
from executar import executar_notebook
from resultados import RESULTADOS, codigo_de_coleta

CAPITULOS = existentes()
LIMITE_MODO_RAPIDO_S = 60
PROXY_MORTO = "http://127.0.0.1:9"  # qualquer acesso à internet falha na hora


@pytest.mark.parametrize("cap", CAPITULOS, ids=[c.pasta for c in CAPITULOS])
def test_saidas_gravadas_vem_do_codigo_atual(cap):
    nb = ler_notebook(cap.notebook)
    refazer = f"rode `python ferramentas/executar.py {cap.numero}`"
    execucao = nb["metadata"].get("gptmini", {}).get("execucao")
    assert execucao and execucao["modo"] == "completo", f"{cap.pasta}: sem saídas de uma execução completa; {refazer}"
    assert execucao["hash_codigo"] == hash_codigo(nb), (
        f"{cap.pasta}: o código mudou depois que as saídas foram geradas; {refazer}")
    codigo = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in codigo), f"{cap.pasta}: há células sem executar; {refazer}"
    erros = [c for c in codigo if any(o.get("output_type") == "error" for o in c["outputs"])]
    assert not erros, f"{cap.pasta}: há saídas de erro gravadas"


@pytest.mark.parametrize("cap", CAPITULOS, ids=[c.pasta for c in CAPITULOS])
def test_nao_importa_gptmini(cap):
    """No Colab só existe o notebook: o código dos capítulos anteriores vem na célula de Preparação.
    (Aqui o gptmini está instalado no .venv, então o teste de execução abaixo não pegaria um import.)"""
    importa = [i for i, c in enumerate(ler_notebook(cap.notebook)["cells"]) if c["cell_type"] == "code"
               and re.search(r"^\s*(import gptmini|from gptmini\b)", fonte(c), re.M)]
    assert not importa, f"{cap.pasta}: células {importa} importam gptmini"


@pytest.mark.parametrize("cap", CAPITULOS, ids=[c.pasta for c in CAPITULOS])
def test_roda_sozinho_como_no_colab(cap, tmp_path, servidor_do_repositorio):
    """Numa pasta vazia, sem internet, com os dados servidos por HTTP local no lugar do GitHub."""
    pasta = tmp_path / "colab"
    pasta.mkdir()
    shutil.copy(cap.notebook, pasta / "notebook.ipynb")
    cache = tmp_path / "cache"
    ambiente = {
        "GPTMINI_RAPIDO": "1", "GPTMINI_TESTE": "1",
        "GPTMINI_URL_BASE": servidor_do_repositorio, "GPTMINI_CACHE": str(cache), "GPTMINI_DADOS": None,
        "PYTHONPATH": None,
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # 2 núcleos: um kernel, uma thread
        "HTTP_PROXY": PROXY_MORTO, "HTTPS_PROXY": PROXY_MORTO, "http_proxy": PROXY_MORTO,
        "https_proxy": PROXY_MORTO, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }
    # a coleta dos resultados citados no texto roda junto: uma expressão que não vale mais falha aqui
    _, segundos, resultados = executar_notebook(pasta / "notebook.ipynb", pasta, ambiente,
                                                timeout=2 * LIMITE_MODO_RAPIDO_S, coleta=codigo_de_coleta(cap.numero))
    assert resultados.keys() == RESULTADOS.get(cap.numero, {}).keys()
    assert any(p.is_file() for p in cache.rglob("*")), "os dados deveriam ter vindo do servidor, pelo cache"
    assert segundos < LIMITE_MODO_RAPIDO_S, f"{cap.pasta} levou {segundos:.0f} s no modo rápido"
