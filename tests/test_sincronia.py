"""O código vive num lugar só: módulos, células copiadas e dados publicados estão em dia."""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import RAIZ


def rodar(script, *args, raiz=RAIZ):
    return subprocess.run([sys.executable, str(raiz / "ferramentas" / script), *args],
                          capture_output=True, text=True, cwd=raiz)


def test_modulos_e_celulas_sincronizados():
    r = rodar("sincronizar.py", "--check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_manifesto_e_divisoes_em_dia():
    r = rodar("construir_dados.py", "--check")
    assert r.returncode == 0, r.stdout + r.stderr


def copia_do_repositorio(destino):
    ignorar = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache")
    shutil.copytree(RAIZ, destino, ignore=ignorar)
    return destino


def test_check_acusa_modulo_editado_a_mao(tmp_path):
    copia = copia_do_repositorio(tmp_path / "repo")
    assert rodar("sincronizar.py", "--check", raiz=copia).returncode == 0
    with open(copia / "gptmini" / "ambiente.py", "a", encoding="utf-8") as f:
        f.write("\n# edição feita direto no módulo, não no notebook\n")
    r = rodar("sincronizar.py", "--check", raiz=copia)
    assert r.returncode == 1
    assert "gptmini/ambiente.py" in r.stdout


def test_check_acusa_arquivo_de_dados_alterado(tmp_path):
    copia = copia_do_repositorio(tmp_path / "repo")
    assert rodar("construir_dados.py", "--check", raiz=copia).returncode == 0
    corpus = copia / "dados" / "corpus_validacao.txt"
    corpus.write_bytes(corpus.read_bytes().replace(b"a", b"o", 1))
    r = rodar("construir_dados.py", "--check", raiz=copia)
    assert r.returncode == 1
    assert "corpus_validacao.txt" in r.stdout


def test_marcadores_de_resultado_preenchidos_com_o_valor_gravado():
    from resultados import preencher

    texto = "acerto de <!-- r:07.acerto|pct1 -->12,0%<!-- /r --> e <!-- r:ficha.base.passos|int -->1<!-- /r --> passos"
    novo = preencher(texto, {"07.acerto": 0.7254, "ficha.base.passos": 5000})
    assert novo == ("acerto de <!-- r:07.acerto|pct1 -->72,5%<!-- /r --> e "
                    "<!-- r:ficha.base.passos|int -->5.000<!-- /r --> passos")
    assert preencher(novo, {"07.acerto": 0.7254, "ficha.base.passos": 5000}) == novo  # estável
    with pytest.raises(KeyError, match="07.nao_existe"):
        preencher("<!-- r:07.nao_existe -->1<!-- /r -->", {})
    with pytest.raises(ValueError, match="Formato"):
        preencher("<!-- r:07.acerto|pct9 -->1<!-- /r -->", {"07.acerto": 1.0})


def test_check_acusa_resultado_citado_que_nao_bate_com_a_execucao(tmp_path):
    copia = copia_do_repositorio(tmp_path / "repo")
    readme = copia / "dados" / "README.md"
    texto = readme.read_text(encoding="utf-8")
    marcadores = re.findall(r"<!-- r:[^>]+ -->(.*?)<!-- /r -->", texto)
    assert marcadores, "a ficha técnica deveria citar os resultados dos modelos entre marcadores"
    readme.write_text(re.sub(r"(<!-- r:[^>]+ -->).*?(<!-- /r -->)", r"\g<1>999\g<2>", texto, count=1),
                      encoding="utf-8")
    r = rodar("sincronizar.py", "--check", raiz=copia)
    assert r.returncode == 1
    assert "dados/README.md" in r.stdout
