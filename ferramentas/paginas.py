"""As partes das páginas que se escrevem sozinhas: o cabeçalho de cada notebook (selo do Colab,
título, links), as URLs publicadas (Colab e arquivos brutos do GitHub) nos notebooks e READMEs,
construídas a partir de REPO_SLUG e REPO_BRANCH (definidos uma vez no notebook 00-setup), e a
tabela de capítulos do README.md raiz, com os tempos medidos gravados nos notebooks.
"""

from __future__ import annotations

import ast
import re
import uuid

from capitulos import CAPITULOS, Capitulo, fonte, ler_notebook, tags

TAG_CABECALHO = "cabecalho"
SELO_COLAB = "https://colab.research.google.com/assets/colab-badge.svg"


def slug_e_ramo(codigo_exportado: list[str]) -> tuple[str, str]:
    """REPO_SLUG e REPO_BRANCH, lidos do código exportado."""
    valores = {}
    for codigo in codigo_exportado:
        for no in ast.parse(codigo).body:
            if isinstance(no, ast.Assign) and isinstance(no.targets[0], ast.Name):
                if no.targets[0].id in ("REPO_SLUG", "REPO_BRANCH"):
                    valores[no.targets[0].id] = ast.literal_eval(no.value)
    return valores["REPO_SLUG"], valores["REPO_BRANCH"]


_URL_COLAB = re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/")
_URL_BRUTA = re.compile(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[\w.-]+/")
_URL_GITHUB = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/(blob|tree)/[\w.-]+/")


def trocar_urls(texto: str, slug: str, ramo: str) -> str:
    texto = _URL_COLAB.sub(f"https://colab.research.google.com/github/{slug}/blob/{ramo}/", texto)
    texto = _URL_BRUTA.sub(f"https://raw.githubusercontent.com/{slug}/{ramo}/", texto)
    return _URL_GITHUB.sub(lambda m: f"https://github.com/{slug}/{m.group(1)}/{ramo}/", texto)


def url_colab(cap: Capitulo, slug: str, ramo: str) -> str:
    return f"https://colab.research.google.com/github/{slug}/blob/{ramo}/{cap.pasta}/notebook.ipynb"


def celula_cabecalho(cap: Capitulo, slug: str, ramo: str) -> str:
    post = f"[Medium]({cap.post})" if cap.post else "ainda sem post"
    return (f"[![Abrir no Colab]({SELO_COLAB})]({url_colab(cap, slug, ramo)})\n\n"
            f"# Fazendo um LLM do Zero · {cap.numero}: {cap.titulo}\n\n"
            f"Post que acompanha este capítulo: {post} · "
            f"Texto do capítulo: [README](https://github.com/{slug}/blob/{ramo}/{cap.pasta}/README.md)")


def linhas_fonte(texto: str) -> list[str]:
    return texto.splitlines(keepends=True)


def nova_celula(tipo: str, texto: str, tag: str) -> dict:
    celula = {"cell_type": tipo, "id": uuid.uuid4().hex[:8], "metadata": {"tags": [tag]},
              "source": linhas_fonte(texto)}
    if tipo == "code":
        celula.update(execution_count=None, outputs=[])
    return celula


def formatar_duracao(segundos: float) -> str:
    minutos, seg = divmod(round(segundos), 60)
    return f"{minutos} min {seg:02d} s" if minutos else f"{seg} s"


def tabela_capitulos(slug: str, ramo: str) -> str:
    linhas = ["| Capítulo | Colab | Post | CPU (2 núcleos) |", "|---|---|---|---|"]
    for cap in CAPITULOS:
        post = f"[Medium]({cap.post})" if cap.post else "ainda sem post"
        if not cap.notebook.exists():
            linhas.append(f"| {cap.numero} · {cap.titulo} | em construção | {post} | n/d |")
            continue
        execucao = ler_notebook(cap.notebook).get("metadata", {}).get("gptmini", {}).get("execucao")
        cpu = formatar_duracao(execucao["duracao_s"]) if execucao else "não medido"
        linhas.append(f"| [{cap.numero} · {cap.titulo}]({cap.pasta}/README.md) "
                      f"| [![Abrir no Colab]({SELO_COLAB})]({url_colab(cap, slug, ramo)}) | {post} | {cpu} |")
    return "\n".join(linhas)


INICIO_TABELA, FIM_TABELA = "<!-- tabela-capitulos:inicio -->", "<!-- tabela-capitulos:fim -->"


def atualizar_readme_raiz(texto: str, slug: str, ramo: str) -> str:
    if INICIO_TABELA in texto and FIM_TABELA in texto:
        antes, resto = texto.split(INICIO_TABELA, 1)
        _, depois = resto.split(FIM_TABELA, 1)
        texto = f"{antes}{INICIO_TABELA}\n{tabela_capitulos(slug, ramo)}\n{FIM_TABELA}{depois}"
    return trocar_urls(texto, slug, ramo)


def paginar_notebook(nb: dict, cap: Capitulo, slug: str, ramo: str) -> dict:
    """O cabeçalho (a primeira célula markdown marcada, criada se faltar) e as URLs do markdown."""
    celulas = nb["cells"]
    if not celulas or TAG_CABECALHO not in tags(celulas[0]):
        celulas.insert(0, nova_celula("markdown", "", TAG_CABECALHO))
    celulas[0]["source"] = linhas_fonte(celula_cabecalho(cap, slug, ramo))
    for c in celulas:
        c.setdefault("id", uuid.uuid4().hex[:8])
        if c["cell_type"] == "markdown":
            c["source"] = linhas_fonte(trocar_urls(fonte(c), slug, ramo))
    return nb
