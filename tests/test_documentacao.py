"""READMEs, links, imagens e infográficos: tudo o que um leitor abre precisa existir e abrir."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from capitulos import existentes
from conftest import RAIZ
from capitulos import fonte, ler_notebook

from gptmini import dados

READMES = sorted(p for p in {*RAIZ.glob("*.md"), *RAIZ.glob("*/README.md"), *RAIZ.glob("infograficos/*/README.md")}
                 if not p.relative_to(RAIZ).parts[0].startswith("."))  # fora .pytest_cache e afins
SVGS = sorted(RAIZ.glob("infograficos/**/*.svg"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
URL_PUBLICADA = f"https://raw.githubusercontent.com/{dados.REPO_SLUG}/{dados.REPO_BRANCH}/"


def ids(caminhos):
    return [str(p.relative_to(RAIZ)) for p in caminhos]


@pytest.mark.parametrize("readme", READMES, ids=ids(READMES))
def test_links_relativos_existem(readme: Path):
    quebrados = []
    for alvo in LINK.findall(readme.read_text(encoding="utf-8")):
        if urlparse(alvo).scheme or alvo.startswith("#"):
            continue
        caminho = (readme.parent / unquote(alvo.split("#")[0])).resolve()
        if not caminho.exists():
            quebrados.append(alvo)
    assert not quebrados, f"{readme.relative_to(RAIZ)}: links quebrados {quebrados}"


@pytest.mark.parametrize("cap", existentes(), ids=[c.pasta for c in existentes()])
def test_capitulo_tem_readme_e_imagens_publicadas_existem(cap):
    assert (RAIZ / cap.pasta / "README.md").is_file()
    assert list((RAIZ / "infograficos" / cap.pasta).glob("*.svg")), f"{cap.pasta} sem infográficos"
    for celula in ler_notebook(cap.notebook)["cells"]:
        if celula["cell_type"] != "markdown":
            continue
        for alvo in LINK.findall(fonte(celula)):
            if "raw.githubusercontent.com" in alvo:
                assert alvo.startswith(URL_PUBLICADA), f"{alvo} não usa REPO_SLUG; rode sincronizar.py"
                assert (RAIZ / alvo[len(URL_PUBLICADA):].split("?")[0]).is_file(), f"{alvo} não existe"


@pytest.mark.parametrize("svg", SVGS, ids=ids(SVGS))
def test_svg_valido_e_dentro_das_diretrizes(svg: Path):
    raiz = ET.parse(svg).getroot()
    assert raiz.tag == "{http://www.w3.org/2000/svg}svg"
    assert raiz.get("viewBox"), "defina viewBox"
    assert re.fullmatch(r"\d\d-[a-z0-9-]+\.svg", svg.name), "nome fora do padrão NN-nome-do-conceito.svg"
    texto = svg.read_text(encoding="utf-8")
    for proibido in ("<script", "<image", "foreignObject", "@import", "@font-face", "xlink:href=\"http"):
        assert proibido not in texto, f"{svg.name} usa {proibido}"
    assert raiz.find("{http://www.w3.org/2000/svg}title") is not None, "dê um <title> (acessibilidade)"


# ---------------------------------------------------------------- números dos infográficos
# Um infográfico que mostra ids ou probabilidades mostra os de verdade: estes testes refazem as
# contas e falham quando o tokenizador ou o modelo base publicado mudam sem a figura mudar junto.

SVG = "{http://www.w3.org/2000/svg}"


def _svg(caminho: str):
    return ET.parse(RAIZ / "infograficos" / caminho).getroot()


def _elemento(raiz, ident: str):
    achado = raiz.find(f".//*[@id='{ident}']")
    assert achado is not None, f"o infográfico não tem o elemento id={ident!r}"
    return achado


def _textos(elemento) -> list[str]:
    return [t.text for t in elemento.iter(f"{SVG}text")]


def test_do_texto_aos_ids_mostra_os_ids_do_tokenizador(tokenizer):
    import regex

    from gptmini.tokenizacao import PRETOKENIZE_PATTERN

    raiz = _svg("02-tokenizacao/00-do-texto-aos-ids.svg")
    texto = _elemento(raiz, "texto").text
    ids = [int(t) for t in _textos(_elemento(raiz, "ids"))]
    assert ids == tokenizer.encode_ordinary(texto)
    tokens = [t.replace("␣", " ") for t in _textos(_elemento(raiz, "tokens"))]  # ␣ marca o espaço
    assert tokens == [tokenizer.decode([i]) for i in ids]
    pedacos = [t.replace("␣", " ") for t in _textos(_elemento(raiz, "pedacos"))]
    assert pedacos == regex.findall(PRETOKENIZE_PATTERN, texto)


def test_janela_deslizante_mostra_os_ids_do_tokenizador(tokenizer):
    raiz = _svg("02-tokenizacao/02-janela-deslizante.svg")
    palavras = _textos(_elemento(raiz, "palavras"))
    sequencia = {t.get("x"): int(t.text) for t in _elemento(raiz, "ids").iter(f"{SVG}text")}
    assert list(sequencia.values()) == tokenizer.encode_ordinary(" ".join(palavras))
    # nas janelas (entrada e alvo), cada id fica embaixo do mesmo token da sequência
    for t in raiz.iter(f"{SVG}text"):
        if t.text and t.text.isdigit():
            assert int(t.text) == sequencia[t.get("x")], f"id {t.text} fora do lugar (x={t.get('x')})"


def test_embeddings_mostram_os_ids_do_tokenizador(tokenizer):
    raiz = _svg("02-tokenizacao/03-embeddings-token-posicao.svg")
    ids = [int(t.text) for t in raiz.iter(f"{SVG}text") if t.get("class") == "id"]
    linhas = [int(t.text) for t in raiz.iter(f"{SVG}text") if t.get("class") == "linha"]
    assert ids == tokenizer.encode_ordinary(_elemento(raiz, "frase").text)
    assert linhas == sorted(ids)  # as linhas da tabela, na ordem da tabela
    assert any(f"V = {tokenizer.n_vocab}" in (t.text or "") for t in raiz.iter(f"{SVG}text"))


def test_proxima_palavra_mostra_as_probabilidades_do_modelo_base(tokenizer):
    import torch

    from gptmini import load_pretrained

    raiz = _svg("01-intro/00-proxima-palavra.svg")
    contexto = _elemento(raiz, "contexto")
    ids = tokenizer.encode_ordinary(contexto.get("data-texto"))
    assert _textos(contexto) == [tokenizer.decode([i]).strip() for i in ids]
    assert any(t.text == f"{len(ids)} tokens" for t in raiz.iter(f"{SVG}text"))
    modelo = load_pretrained("base").eval()
    with torch.no_grad():
        probs = torch.softmax(modelo(torch.tensor([ids]))[0, -1].float(), dim=-1)
    topo = torch.topk(probs, 4)
    candidatos = [tokenizer.decode([i]).strip() for i in topo.indices.tolist()] + ["outras"]
    assert _textos(_elemento(raiz, "candidatos")) == candidatos
    mostradas = [float(t.replace(",", ".")) for t in _textos(_elemento(raiz, "probabilidades"))]
    assert mostradas == pytest.approx(topo.values.tolist() + [1 - topo.values.sum().item()], abs=0.006)


def test_avaliacao_mostra_respostas_reais_do_assistente_publicado():
    """As linhas das tarefas verificáveis do infográfico 07/04 (pedido, resposta do modelo, esperada, certo ou
    errado) saem do teste e das respostas gravadas na ficha do assistente publicado: um assistente novo
    obriga a redesenhar."""
    import json

    from gptmini import read_splits
    from gptmini.instrucoes import normalize_answer

    raiz = _svg("07-instruction-tuning/04-avaliacao-respostas.svg")
    ficha = json.loads((RAIZ / "dados" / "modelos" / "instrucoes.json").read_text(encoding="utf-8"))
    pares = {(e["resposta"], r.strip()) for e, r in zip(read_splits("instrucoes.jsonl")["teste"],
                                                       ficha["respostas_teste"], strict=True)}
    celulas = {}  # y da linha -> {x da coluna: texto}
    for t in raiz.iter(f"{SVG}text"):
        if t.get("x") in ("183", "274", "324", "374") and t.get("y") not in ("176",):
            celulas.setdefault(int(t.get("y")) - (t.get("x") == "324"), {})[t.get("x")] = t.text
    linhas = [c for c in celulas.values() if len(c) == 4]
    assert len(linhas) == 5
    for c in linhas:
        modelo, esperada = c["274"], c["374"]
        assert (esperada, modelo) in pares, f"{modelo!r} para {esperada!r} não é uma resposta gravada do teste"
        assert c["324"] == ("=" if normalize_answer(modelo) == normalize_answer(esperada) else "≠")
