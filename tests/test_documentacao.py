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
