"""Mantém o código do curso num lugar só.

Fonte da verdade: as células de código marcadas com `#| export` em cada notebook de capítulo.
A partir delas este script gera:

1. `gptmini/<modulo>.py`, um módulo por capítulo (e `gptmini/__init__.py` com a API pública);
2. em cada notebook, a primeira célula de código ("Preparação"): instala o que falta e, a partir
   do capítulo 01, traz o código exportado pelos capítulos anteriores e prepara o ambiente;
3. o cabeçalho de cada notebook (selo do Colab, título, links) e as URLs publicadas (Colab e
   arquivos brutos do GitHub) nos notebooks e READMEs, construídas a partir de REPO_SLUG e
   REPO_BRANCH, definidos uma vez no notebook 00-setup;
4. a tabela de capítulos do README.md raiz, com os tempos medidos gravados nos notebooks.

Uso:
    python ferramentas/sincronizar.py           # regenera tudo
    python ferramentas/sincronizar.py --check   # não escreve; sai com 1 e lista o que está velho
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capitulos import CAPITULOS, RAIZ, Capitulo, existentes  # noqa: E402

MARCA_EXPORT = "#| export"
TAG_CABECALHO = "cabecalho"
TAG_PREPARO = "preparo"
PACOTES = ("torch", "tiktoken", "numpy", "matplotlib", "tqdm")


# ---------------------------------------------------------------- notebooks como JSON


def ler_notebook(caminho: Path) -> dict:
    return json.loads(caminho.read_text(encoding="utf-8"))


def texto_notebook(nb: dict) -> str:
    """Serializa exatamente como o Jupyter salva, para que salvar no Jupyter não mude nada."""
    import nbformat

    texto = nbformat.writes(nbformat.from_dict(nb))
    return texto if texto.endswith("\n") else texto + "\n"


def fonte(celula: dict) -> str:
    src = celula.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def linhas_fonte(texto: str) -> list[str]:
    return texto.splitlines(keepends=True)


def tags(celula: dict) -> list[str]:
    return celula.get("metadata", {}).get("tags", [])


def hash_codigo(nb: dict) -> str:
    """Impressão digital das células de código: muda quando qualquer código muda."""
    h = hashlib.sha256()
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            h.update(fonte(c).encode("utf-8") + b"\x00")
    return h.hexdigest()


def nova_celula(tipo: str, texto: str, tag: str) -> dict:
    celula = {"cell_type": tipo, "id": uuid.uuid4().hex[:8], "metadata": {"tags": [tag]},
              "source": linhas_fonte(texto)}
    if tipo == "code":
        celula.update(execution_count=None, outputs=[])
    return celula


# ---------------------------------------------------------------- células exportadas


def celulas_exportadas(cap: Capitulo) -> list[str]:
    nb = ler_notebook(cap.notebook)
    corpos = []
    for c in nb["cells"]:
        texto = fonte(c)
        if c["cell_type"] == "code" and texto.startswith(MARCA_EXPORT):
            corpos.append(texto.split("\n", 1)[1] if "\n" in texto else "")
    return corpos


def separar_imports(codigo: str) -> tuple[list[str], str]:
    """Tira os imports do nível de topo (que vão para o início do arquivo) e devolve o resto."""
    arvore = ast.parse(codigo)
    linhas = codigo.splitlines()
    imports, remover = [], set()
    for no in arvore.body:
        if isinstance(no, (ast.Import, ast.ImportFrom)):
            imports.append("\n".join(linhas[no.lineno - 1:no.end_lineno]))
            remover.update(range(no.lineno - 1, no.end_lineno))
    resto = "\n".join(linha for i, linha in enumerate(linhas) if i not in remover)
    return imports, resto.strip("\n")


def nomes_definidos(codigo: str) -> set[str]:
    """Os nomes que o código define no nível de topo (funções, classes, variáveis)."""
    nomes = set()
    for no in ast.parse(codigo).body:
        if isinstance(no, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            nomes.add(no.name)
        elif isinstance(no, (ast.Assign, ast.AnnAssign)):
            for alvo in no.targets if isinstance(no, ast.Assign) else [no.target]:
                # `X = ...` e `a, b = ...` definem; `X["k"] = ...` e `X.y = ...` só usam X
                elementos = alvo.elts if isinstance(alvo, ast.Tuple) else [alvo]
                nomes.update(e.id for e in elementos if isinstance(e, ast.Name))
    return nomes


def nomes_usados(codigo: str) -> set[str]:
    """Os nomes lidos pelo código, fora os que são locais da função onde aparecem."""
    usados: set[str] = set()

    def visitar(no: ast.AST, locais: frozenset) -> None:
        if isinstance(no, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = no.args
            novos = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
            novos |= {a.arg for a in (args.vararg, args.kwarg) if a}
            corpo = no.body if isinstance(no.body, list) else [no.body]
            for filho in corpo:
                novos |= {n.id for n in ast.walk(filho) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            for filho in ast.iter_child_nodes(no):  # decoradores e padrões dos argumentos: escopo de fora
                if filho not in corpo:
                    visitar(filho, locais)
            for filho in corpo:
                visitar(filho, locais | novos)
            return
        if isinstance(no, ast.Name) and isinstance(no.ctx, ast.Load) and no.id not in locais:
            usados.add(no.id)
        for filho in ast.iter_child_nodes(no):
            visitar(filho, locais)

    visitar(ast.parse(codigo), frozenset())
    return usados


class Exportado:
    """O código exportado por um capítulo: imports e corpo, já separados."""

    def __init__(self, cap: Capitulo):
        self.cap = cap
        self.imports: list[str] = []
        partes = []
        for corpo in celulas_exportadas(cap):
            imps, resto = separar_imports(corpo)
            self.imports += [i for i in imps if i not in self.imports]
            if resto:
                partes.append(resto)
        self.corpo = "\n\n\n".join(partes)
        self.definidos = nomes_definidos(self.corpo) if self.corpo else set()


def unir_imports(grupos: list[list[str]]) -> list[str]:
    """Junta os imports sem repetir (`from m import a` e `from m import b` viram um só) e ordena como o
    isort: biblioteca padrão antes das de terceiros, `import` antes de `from` dentro de cada grupo."""
    simples: set[str] = set()
    de_modulo: dict[str, set[str]] = {}
    for grupo in grupos:
        for imp in grupo:
            for no in ast.parse(imp).body:
                if isinstance(no, ast.ImportFrom):
                    nomes = {a.name + (f" as {a.asname}" if a.asname else "") for a in no.names}
                    de_modulo.setdefault("." * no.level + (no.module or ""), set()).update(nomes)
                else:
                    simples.update(f"import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in no.names)
    linhas = list(simples) + [f"from {m} import {', '.join(sorted(n))}" for m, n in de_modulo.items()]

    def chave(imp: str) -> tuple:
        modulo = imp.split()[1]
        return (modulo.split(".")[0] not in sys.stdlib_module_names, imp.startswith("from"), modulo)

    ordenados = sorted(linhas, key=chave)
    # uma linha em branco entre a biblioteca padrão e as de terceiros
    return [linha for i, imp in enumerate(ordenados)
            for linha in ([""] if i and chave(imp)[0] != chave(ordenados[i - 1])[0] else []) + [imp]]


def gerar_modulo(exp: Exportado, anteriores: list[Exportado]) -> str:
    cap = exp.cap
    cabecalho = (f'"""Capítulo {cap.numero}: {cap.titulo}.\n\n'
                 f"Gerado de {cap.pasta}/notebook.ipynb por ferramentas/sincronizar.py: "
                 'edite o notebook, não este arquivo.\n"""\n')
    usados = nomes_usados(exp.corpo) - exp.definidos
    relativos = []
    for ant in anteriores:
        comuns = sorted(usados & ant.definidos)
        if comuns:
            relativos.append(f"from .{ant.cap.modulo} import {', '.join(comuns)}")
    imports = "\n".join(unir_imports([exp.imports]) + ([""] + relativos if relativos else []))
    return f"{cabecalho}\n{imports}\n\n\n{exp.corpo}\n"


def gerar_init(exportados: list[Exportado]) -> str:
    linhas = ['"""gptmini: o GPT que o curso "Fazendo um LLM do Zero" constrói, capítulo a capítulo.',
              "",
              "Gerado por ferramentas/sincronizar.py a partir dos notebooks dos capítulos.",
              '"""', ""]
    todos = []
    for exp in exportados:
        publicos = sorted(n for n in exp.definidos if not n.startswith("_"))
        if publicos:
            linhas += [f"from .{exp.cap.modulo} import ("] + [f"    {n}," for n in publicos] + [")"]
            todos += publicos
    linhas += ["", "__all__ = ["] + [f'    "{n}",' for n in todos] + ["]", ""]
    return "\n".join(linhas)


# ---------------------------------------------------------------- a célula "Preparação"


def celula_preparo(anteriores: list[Exportado]) -> str:
    pacotes = ", ".join(f'"{p}"' for p in PACOTES)
    partes = [
        '#@title Preparação: instala o que falta e traz o código dos capítulos anteriores '
        '{ display-mode: "form" }' if anteriores else
        '#@title Preparação: instala o que falta { display-mode: "form" }',
        "# Célula gerada por ferramentas/sincronizar.py: não edite aqui (veja CONTRIBUTING.md).",
        "import importlib.util",
        "import os",
        "import subprocess",
        "import sys",
        "",
        f"_faltando = [p for p in ({pacotes}) if importlib.util.find_spec(p) is None]",
        "if _faltando:",
        '    if os.environ.get("GPTMINI_TESTE") == "1":',
        '        raise RuntimeError(f"Pacotes ausentes no ambiente de teste: {_faltando}")',
        '    print("Instalando o que falta:", ", ".join(_faltando))',
        '    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *_faltando])',
    ]
    if anteriores:
        imports = [i for i in unir_imports([a.imports for a in anteriores])
                   if i not in ("import os", "import sys", "import subprocess", "import importlib.util")]
        partes += ["", *imports]
        for ant in anteriores:
            titulo = f"# ===== Capítulo {ant.cap.pasta} (gptmini/{ant.cap.modulo}.py) "
            partes += ["", "", titulo + "=" * max(0, 99 - len(titulo)), "", ant.corpo]
        partes += ["", "", "# ===== O ambiente deste capítulo " + "=" * 66,
                   "DEVICE = pick_device()", "RAPIDO = fast_mode()", "seed_everything(42)",
                   "tune_cpu_allocator()  # capítulo 00: reaproveita a memória dos tensores grandes",
                   "show_environment(DEVICE)"]
    return "\n".join(partes)


# ---------------------------------------------------------------- URLs a partir do slug


def slug_e_ramo(exportados: list[Exportado]) -> tuple[str, str]:
    """REPO_SLUG e REPO_BRANCH, lidos do código exportado pelo capítulo 00."""
    valores = {}
    for no in ast.parse(exportados[0].corpo).body:
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


SELO_COLAB = "https://colab.research.google.com/assets/colab-badge.svg"


def celula_cabecalho(cap: Capitulo, slug: str, ramo: str) -> str:
    return (f"[![Abrir no Colab]({SELO_COLAB})]({url_colab(cap, slug, ramo)})\n\n"
            f"# Fazendo um LLM do Zero · {cap.numero}: {cap.titulo}\n\n"
            f"Post que acompanha este capítulo: [Medium]({cap.post}) · "
            f"Texto do capítulo: [README](https://github.com/{slug}/blob/{ramo}/{cap.pasta}/README.md)")


# ---------------------------------------------------------------- tabela do README


def formatar_duracao(segundos: float) -> str:
    minutos, seg = divmod(round(segundos), 60)
    return f"{minutos} min {seg:02d} s" if minutos else f"{seg} s"


def tempos_gpu() -> dict:
    caminho = RAIZ / "ferramentas" / "tempos_gpu.json"
    return json.loads(caminho.read_text(encoding="utf-8")) if caminho.exists() else {}


def tabela_capitulos(slug: str, ramo: str) -> str:
    gpu = tempos_gpu()
    linhas = ["| Capítulo | Colab | Post | CPU (2 núcleos) | GPU |", "|---|---|---|---|---|"]
    for cap in CAPITULOS:
        if not cap.notebook.exists():
            linhas.append(f"| {cap.numero} · {cap.titulo} | em construção | [Medium]({cap.post}) | n/d | n/d |")
            continue
        execucao = ler_notebook(cap.notebook).get("metadata", {}).get("gptmini", {}).get("execucao")
        cpu = formatar_duracao(execucao["duracao_s"]) if execucao else "não medido"
        g = gpu.get(cap.pasta)
        gpu_txt = f"{formatar_duracao(g['duracao_s'])} ({g['dispositivo']})" if g else "não medido"
        linhas.append(f"| [{cap.numero} · {cap.titulo}]({cap.pasta}/README.md) "
                      f"| [![Abrir no Colab]({SELO_COLAB})]({url_colab(cap, slug, ramo)}) "
                      f"| [Medium]({cap.post}) | {cpu} | {gpu_txt} |")
    return "\n".join(linhas)


INICIO_TABELA, FIM_TABELA = "<!-- tabela-capitulos:inicio -->", "<!-- tabela-capitulos:fim -->"


def atualizar_readme_raiz(texto: str, slug: str, ramo: str) -> str:
    if INICIO_TABELA in texto and FIM_TABELA in texto:
        antes, resto = texto.split(INICIO_TABELA, 1)
        _, depois = resto.split(FIM_TABELA, 1)
        texto = f"{antes}{INICIO_TABELA}\n{tabela_capitulos(slug, ramo)}\n{FIM_TABELA}{depois}"
    return trocar_urls(texto, slug, ramo)


# ---------------------------------------------------------------- montagem


def sincronizar_notebook(nb: dict, cap: Capitulo, anteriores: list[Exportado], slug: str, ramo: str) -> dict:
    celulas = nb["cells"]
    # cabeçalho: a primeira célula markdown marcada; criada se faltar
    if not celulas or TAG_CABECALHO not in tags(celulas[0]):
        celulas.insert(0, nova_celula("markdown", "", TAG_CABECALHO))
    celulas[0]["source"] = linhas_fonte(celula_cabecalho(cap, slug, ramo))
    # preparação: a primeira célula de código marcada; criada logo após o cabeçalho se faltar
    preparo = next((c for c in celulas if TAG_PREPARO in tags(c)), None)
    if preparo is None:
        preparo = nova_celula("code", "", TAG_PREPARO)
        celulas.insert(1, preparo)
    nova_fonte = linhas_fonte(celula_preparo(anteriores))
    if preparo["source"] != nova_fonte:
        preparo.update(source=nova_fonte, outputs=[], execution_count=None)
    for c in celulas:
        c.setdefault("id", uuid.uuid4().hex[:8])
        if c["cell_type"] == "markdown":
            c["source"] = linhas_fonte(trocar_urls(fonte(c), slug, ramo))
    return nb


def arquivos_gerados() -> dict[Path, str]:
    """Tudo o que a sincronização escreve: caminho -> conteúdo esperado."""
    caps = existentes()
    if not caps or caps[0].pasta != "00-setup":
        raise SystemExit("O notebook 00-setup/notebook.ipynb define REPO_SLUG e precisa existir.")
    exportados = [Exportado(c) for c in caps]
    slug, ramo = slug_e_ramo(exportados)
    saida: dict[Path, str] = {}
    for i, exp in enumerate(exportados):
        if exp.corpo:
            saida[RAIZ / "gptmini" / f"{exp.cap.modulo}.py"] = gerar_modulo(exp, exportados[:i])
        nb = sincronizar_notebook(ler_notebook(exp.cap.notebook), exp.cap,
                                  [e for e in exportados[:i] if e.corpo], slug, ramo)
        saida[exp.cap.notebook] = texto_notebook(nb)
    saida[RAIZ / "gptmini" / "__init__.py"] = gerar_init(exportados)
    for readme in sorted(RAIZ.glob("*.md")) + sorted(RAIZ.glob("*/README.md")) + sorted(
            RAIZ.glob("infograficos/*/README.md")):
        texto = readme.read_text(encoding="utf-8")
        novo = atualizar_readme_raiz(texto, slug, ramo) if readme.parent == RAIZ else trocar_urls(texto, slug, ramo)
        saida[readme] = novo
    return saida


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="só verifica; não escreve nada")
    args = parser.parse_args()
    velhos = []
    for caminho, conteudo in arquivos_gerados().items():
        atual = caminho.read_text(encoding="utf-8") if caminho.exists() else None
        if atual == conteudo:
            continue
        velhos.append(caminho.relative_to(RAIZ))
        if not args.check:
            caminho.parent.mkdir(parents=True, exist_ok=True)
            caminho.write_text(conteudo, encoding="utf-8")
    if args.check:
        if velhos:
            print("Arquivos fora de sincronia com os notebooks (rode `python ferramentas/sincronizar.py`):")
            for v in velhos:
                print(f"  - {v}")
            return 1
        print("Tudo sincronizado.")
        return 0
    print("Atualizados:" if velhos else "Nada a atualizar.", *[f"\n  - {v}" for v in velhos])
    return 0


if __name__ == "__main__":
    sys.exit(main())
