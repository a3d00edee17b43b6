"""O código vive num lugar só: as células `#| export <modulo>` dos notebooks.

Daqui saem:
1. `gptmini/<modulo>.py`, um módulo por conceito (a atenção do capítulo 03 e o GPT do 04 vão
   juntos para `modelo.py`), com os imports entre módulos deduzidos do código, e
   `gptmini/__init__.py`, com a API pública;
2. a célula "Preparação" de cada notebook: instala o que falta e traz, dos capítulos anteriores,
   só as definições que o capítulo usa (e as que elas usam). Mudar uma função que nenhum capítulo
   seguinte usa não muda os notebooks seguintes.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field

from capitulos import RAIZ, Capitulo, existentes, fonte, ler_notebook, tags

MARCA_EXPORT = re.compile(r"#\| export (\w+)[ \t]*(?:\n|$)")
TAG_PREPARO = "preparo"
PACOTES = ("torch", "tiktoken", "numpy", "matplotlib", "tqdm")

# Os módulos de gptmini, na ordem em que podem depender uns dos outros, com o que cada um guarda.
MODULOS = {
    "ambiente": "O ambiente: dispositivo, sementes, modo rápido e ajustes da CPU",
    "dados": "Os dados do curso: manifesto, download conferido por SHA-256, corpus e conjuntos em JSONL",
    "ngramas": "O modelo de linguagem por contagem de caracteres do capítulo 01",
    "tokenizacao": "Tokenização: o BPE do curso, o tokenizador no tiktoken, janelas de treino",
    "modelo": "O GPTMini: atenção, bloco transformer, modelo, geração com KV cache e checkpoints",
    "treino": "O pré-treino e o que os outros treinos reusam: taxa, otimizador, passo, avaliação",
    "classificacao": "Classificação: a cabeça de classes, o ajuste fino e as métricas",
    "instrucoes": "Instruções: o formato, a máscara das respostas, o SFT e a avaliação",
    "preferencias": "Preferências: os pares, o modelo de recompensa (Bradley-Terry), o best-of-n e o DPO",
    "raciocinio": "Raciocínio: problemas com resposta verificável, o verificador, pass@k e o GRPO",
}

# A API pública de CURSO.md; o resto de __all__ é o que os capítulos seguintes usam.
API_DO_CURSO = {"load_tokenizer", "GPTConfig", "GPTMini", "save_checkpoint", "load_checkpoint", "generate",
                "generate_batch", "format_instruction", "respond", "classify", "solve", "extract_answer",
                "load_pretrained"}
# O que a célula de Preparação usa no fim, para preparar o ambiente do capítulo.
AMBIENTE_DO_CAPITULO = ["DEVICE = pick_device()", "RAPIDO = fast_mode()", "seed_everything(42)",
                        "tune_cpu_allocator()  # capítulo 00: reaproveita a memória dos tensores grandes",
                        "show_environment(DEVICE)"]


# ---------------------------------------------------------------- análise de nomes


def nomes_definidos(no: ast.stmt) -> set[str]:
    """Os nomes que um comando do nível de topo define (função, classe, variável)."""
    if isinstance(no, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {no.name}
    alvos = no.targets if isinstance(no, ast.Assign) else [no.target] if isinstance(no, ast.AnnAssign) else []
    # `X = ...` e `a, b = ...` definem; `X["k"] = ...` e `X.y = ...` só usam X
    return {e.id for alvo in alvos for e in (alvo.elts if isinstance(alvo, ast.Tuple) else [alvo])
            if isinstance(e, ast.Name)}


def nomes_usados(codigo: str | ast.AST) -> set[str]:
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
                novos |= {nome for n in ast.walk(filho) if isinstance(n, (ast.Import, ast.ImportFrom))
                          for nome in nomes_importados(n)}  # um import dentro da função é local
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

    visitar(ast.parse(codigo) if isinstance(codigo, str) else codigo, frozenset())
    return usados


def nomes_importados(no: ast.Import | ast.ImportFrom) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in no.names}


# ---------------------------------------------------------------- o código exportado


@dataclass
class Trecho:
    """Um comando do nível de topo de uma célula exportada, com os comentários logo acima dele."""

    capitulo: Capitulo
    modulo: str
    texto: str
    definidos: set[str]
    usados: set[str]


@dataclass
class Exportado:
    """Todo o código exportado: os trechos em ordem e os imports de cada módulo."""

    trechos: list[Trecho] = field(default_factory=list)
    imports: dict[str, list[str]] = field(default_factory=dict)  # módulo -> imports, sem repetir

    def definidor(self) -> dict[str, Trecho]:
        return {nome: t for t in self.trechos for nome in t.definidos}


def celulas_exportadas(cap: Capitulo) -> list[tuple[str, str]]:
    """(módulo, código) de cada célula `#| export <modulo>` do notebook."""
    saida = []
    for c in ler_notebook(cap.notebook)["cells"]:
        texto = fonte(c)
        if c["cell_type"] == "code" and texto.startswith("#| export"):
            marca = MARCA_EXPORT.match(texto)
            if not marca or marca.group(1) not in MODULOS:
                raise SystemExit(f"{cap.pasta}: a célula que começa com {texto.splitlines()[0]!r} precisa dizer "
                                 f"o módulo: '#| export <modulo>', com <modulo> em {', '.join(MODULOS)}.")
            saida.append((marca.group(1), texto[marca.end():]))
    return saida


def ler_exportado(caps: list[Capitulo]) -> Exportado:
    exp = Exportado()
    for cap in caps:
        for modulo, codigo in celulas_exportadas(cap):
            linhas = codigo.splitlines()
            arvore = ast.parse(codigo)
            inicio = 0
            for i, no in enumerate(arvore.body):
                fim = no.end_lineno if i + 1 < len(arvore.body) else len(linhas)
                texto = "\n".join(linhas[inicio:fim]).strip("\n")
                inicio = fim
                if isinstance(no, (ast.Import, ast.ImportFrom)):
                    lista = exp.imports.setdefault(modulo, [])
                    lista += [texto] if texto not in lista else []
                else:
                    exp.trechos.append(Trecho(cap, modulo, texto, nomes_definidos(no), nomes_usados(no)))
    duplicados = [n for n, t in exp.definidor().items() if sum(n in u.definidos for u in exp.trechos) > 1]
    if duplicados:
        raise SystemExit(f"Nomes exportados mais de uma vez: {', '.join(sorted(duplicados))}.")
    return exp


def linha_from(modulo: str, nomes: list[str]) -> str:
    """`from modulo import a, b`, quebrada entre parênteses se passar de 120 caracteres."""
    linha = f"from {modulo} import {', '.join(nomes)}"
    return linha if len(linha) <= 120 else f"from {modulo} import (\n" + "".join(f"    {n},\n" for n in nomes) + ")"


def unir_imports(imports: list[str], usados: set[str]) -> list[str]:
    """Os imports que o código usa, sem repetir (`from m import a` e `from m import b` viram um só),
    na ordem do isort: biblioteca padrão antes das de terceiros, `import` antes de `from`."""
    simples: set[str] = set()
    de_modulo: dict[str, set[str]] = {}
    for imp in imports:
        for no in ast.parse(imp).body:
            for a in no.names:
                if (a.asname or a.name).split(".")[0] not in usados:
                    continue
                nome = a.name + (f" as {a.asname}" if a.asname else "")
                if isinstance(no, ast.ImportFrom):
                    de_modulo.setdefault("." * no.level + (no.module or ""), set()).add(nome)
                else:
                    simples.add(f"import {nome}")
    linhas = list(simples) + [linha_from(m, sorted(n)) for m, n in de_modulo.items()]

    def chave(imp: str) -> tuple:
        modulo = imp.split()[1]
        return (modulo.split(".")[0] not in sys.stdlib_module_names, imp.startswith("from"), modulo)

    ordenados = sorted(linhas, key=chave)
    # uma linha em branco entre a biblioteca padrão e as de terceiros
    return [linha for i, imp in enumerate(ordenados)
            for linha in ([""] if i and chave(imp)[0] != chave(ordenados[i - 1])[0] else []) + [imp]]


def gerar_modulo(modulo: str, exp: Exportado) -> str:
    trechos = [t for t in exp.trechos if t.modulo == modulo]
    pastas = ", ".join(dict.fromkeys(t.capitulo.pasta for t in trechos))
    cabecalho = (f'"""{MODULOS[modulo]}.\n\nGerado das células "#| export {modulo}" de {pastas} por '
                 'ferramentas/sincronizar.py:\nedite os notebooks, não este arquivo.\n"""\n')
    definidos = set().union(*(t.definidos for t in trechos))
    usados = set().union(*(t.usados for t in trechos))
    definidor, ordem = exp.definidor(), list(MODULOS)
    relativos = {}
    for nome in sorted(usados - definidos):
        if nome in definidor:
            origem = definidor[nome].modulo
            if ordem.index(origem) > ordem.index(modulo):
                raise SystemExit(f"gptmini/{modulo}.py usaria {nome} de gptmini/{origem}.py, que vem depois: "
                                 f"mova {nome} ou o código que o usa.")
            relativos.setdefault(origem, []).append(nome)
    imports = unir_imports(exp.imports.get(modulo, []), usados)
    locais = [linha_from(f".{m}", relativos[m]) for m in ordem if m in relativos]
    linhas_imports = "\n".join(imports + ([""] + locais if locais else []))
    corpo = "\n\n\n".join(t.texto for t in trechos)
    return f"{cabecalho}\n{linhas_imports}\n\n\n{corpo}\n"


def nomes_que_o_capitulo_usa(cap: Capitulo) -> set[str]:
    """Os nomes lidos pelo código do capítulo (fora a célula de Preparação, que é gerada)."""
    nb = ler_notebook(cap.notebook)
    usados = set()
    for c in nb["cells"]:
        if c["cell_type"] == "code" and TAG_PREPARO not in tags(c):
            codigo = "\n".join(linha for linha in fonte(c).splitlines() if not linha.lstrip().startswith(("%", "!")))
            usados |= nomes_usados(codigo)
    return usados


def trechos_necessarios(cap: Capitulo, exp: Exportado) -> list[Trecho]:
    """Os trechos dos capítulos anteriores que o capítulo usa, e os que esses usam, em ordem."""
    indice = [c.pasta for c in existentes()].index(cap.pasta)
    anteriores = {c.pasta for c in existentes()[:indice]}
    definidor = {n: t for n, t in exp.definidor().items() if t.capitulo.pasta in anteriores}
    fila = sorted((nomes_que_o_capitulo_usa(cap) | nomes_usados("\n".join(AMBIENTE_DO_CAPITULO))) & set(definidor))
    incluidos: set[int] = set()
    while fila:
        trecho = definidor[fila.pop()]
        if id(trecho) not in incluidos:
            incluidos.add(id(trecho))
            fila += sorted(trecho.usados & set(definidor))
    return [t for t in exp.trechos if id(t) in incluidos]


def celula_preparo(cap: Capitulo, exp: Exportado) -> str:
    trechos = trechos_necessarios(cap, exp) if cap.pasta != "00-setup" else []
    pacotes = ", ".join(f'"{p}"' for p in PACOTES)
    partes = [
        '#@title Preparação: instala o que falta e traz o código dos capítulos anteriores '
        '{ display-mode: "form" }' if trechos else
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
    if not trechos:
        return "\n".join(partes)
    # os imports que o código trazido usa e os que o próprio capítulo usa sem importar (as células do
    # capítulo contam com eles: `torch`, `Counter`...)
    usados = set().union(*(t.usados for t in trechos)) | nomes_que_o_capitulo_usa(cap)
    todos_imports = [i for lista in exp.imports.values() for i in lista]
    imports = [i for i in unir_imports(todos_imports, usados)
               if i not in ("import os", "import sys", "import subprocess", "import importlib.util")]
    partes += ["", *imports]
    grupo = None
    for t in trechos:
        if (t.capitulo.pasta, t.modulo) != grupo:
            grupo = (t.capitulo.pasta, t.modulo)
            titulo = f"# ===== Do capítulo {t.capitulo.pasta} (gptmini/{t.modulo}.py) "
            partes += ["", "", titulo + "=" * max(0, 99 - len(titulo))]
        partes += ["", t.texto]
    partes += ["", "", "# ===== O ambiente deste capítulo " + "=" * 66, *AMBIENTE_DO_CAPITULO]
    return "\n".join(partes)


def nomes_publicos(exp: Exportado) -> set[str]:
    """API de CURSO.md e o que os capítulos usam de capítulos anteriores."""
    caps = existentes()
    publicos = set(API_DO_CURSO) | nomes_usados("\n".join(AMBIENTE_DO_CAPITULO))
    for i, cap in enumerate(caps):
        anteriores = {c.pasta for c in caps[:i]}
        publicos |= {n for n in nomes_que_o_capitulo_usa(cap)
                     if n in exp.definidor() and exp.definidor()[n].capitulo.pasta in anteriores}
    return {n for n in publicos if n in exp.definidor() and not n.startswith("_")}


def gerar_init(exp: Exportado) -> str:
    linhas = ['"""gptmini: o GPT que o curso "Fazendo um LLM do Zero" constrói, capítulo a capítulo.',
              "",
              "Gerado por ferramentas/sincronizar.py a partir dos notebooks dos capítulos. A API pública",
              "é a de CURSO.md e o que os capítulos usam uns dos outros; o resto fica nos módulos",
              "(`gptmini.treino.train`, por exemplo).",
              '"""', ""]
    publicos = nomes_publicos(exp)
    todos = []
    for modulo in MODULOS:
        nomes = sorted(n for t in exp.trechos if t.modulo == modulo for n in t.definidos if n in publicos)
        if nomes:
            linhas += [f"from .{modulo} import ("] + [f"    {n}," for n in nomes] + [")"]
            todos += nomes
        elif any(t.modulo == modulo for t in exp.trechos):
            # sem nome público, o módulo ainda acrescenta o seu modelo a PRETRAINED: `import gptmini` o carrega,
            # e load_pretrained("preferencias") funciona sem importar gptmini.preferencias antes
            linhas += [f"from . import {modulo}  # noqa: F401"]
    linhas += ["", "__all__ = ["] + [f'    "{n}",' for n in todos] + ["]", ""]
    return "\n".join(linhas)


def arquivos_da_biblioteca(exp: Exportado) -> dict:
    saida = {RAIZ / "gptmini" / f"{m}.py": gerar_modulo(m, exp)
             for m in MODULOS if any(t.modulo == m for t in exp.trechos)}
    saida[RAIZ / "gptmini" / "__init__.py"] = gerar_init(exp)
    return saida
