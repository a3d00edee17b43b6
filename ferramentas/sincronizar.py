"""Mantém o código do curso num lugar só e as páginas em dia.

Fonte da verdade: as células `#| export <modulo>` dos notebooks. Este script regenera
- a biblioteca `gptmini/` e a célula "Preparação" de cada notebook (ferramentas/exportar.py);
- o cabeçalho de cada notebook, as URLs publicadas e a tabela de capítulos do README.md
  (ferramentas/paginas.py);
- os resultados citados entre marcadores `<!-- r:... -->` nos READMEs e nas células de texto, com os
  valores gravados pela última execução completa de cada notebook e pelas fichas dos modelos
  (ferramentas/resultados.py).

Uso:
    python ferramentas/sincronizar.py           # regenera tudo
    python ferramentas/sincronizar.py --check   # não escreve; sai com 1 e lista o que está velho
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from capitulos import RAIZ, existentes, fonte, ler_notebook, tags, texto_notebook
from exportar import TAG_PREPARO, arquivos_da_biblioteca, celula_preparo, ler_exportado
from paginas import atualizar_readme_raiz, linhas_fonte, nova_celula, paginar_notebook, slug_e_ramo, trocar_urls
from resultados import preencher, valores_gravados


def atualizar_preparo(nb: dict, texto: str) -> None:
    """A primeira célula de código marcada `preparo` (criada logo após o cabeçalho se faltar)."""
    celula = next((c for c in nb["cells"] if TAG_PREPARO in tags(c)), None)
    if celula is None:
        celula = nova_celula("code", "", TAG_PREPARO)
        nb["cells"].insert(1, celula)
    if celula["source"] != linhas_fonte(texto):
        celula.update(source=linhas_fonte(texto), outputs=[], execution_count=None)


def arquivos_gerados(pendentes: list[str] | None = None) -> dict[Path, str]:
    """Tudo o que a sincronização escreve: caminho -> conteúdo esperado. Os marcadores de resultados que
    nenhuma execução gravou ainda vão para `pendentes` (sem a lista, são erro)."""
    caps = existentes()
    exp = ler_exportado(caps)
    slug, ramo = slug_e_ramo([t.texto for t in exp.trechos])
    saida = arquivos_da_biblioteca(exp)
    valores = valores_gravados()
    for cap in caps:
        nb = paginar_notebook(ler_notebook(cap.notebook), cap, slug, ramo)
        atualizar_preparo(nb, celula_preparo(cap, exp))
        for celula in nb["cells"]:
            if celula["cell_type"] == "markdown":
                texto = preencher(fonte(celula), valores, cap.notebook.relative_to(RAIZ), pendentes)
                celula["source"] = linhas_fonte(texto)
        saida[cap.notebook] = texto_notebook(nb)
    for readme in sorted(RAIZ.glob("*.md")) + sorted(RAIZ.glob("*/README.md")) + sorted(
            RAIZ.glob("infograficos/*/README.md")) + [RAIZ / "dados" / "README.md"]:
        texto = readme.read_text(encoding="utf-8")
        novo = atualizar_readme_raiz(texto, slug, ramo) if readme.parent == RAIZ else trocar_urls(texto, slug, ramo)
        saida[readme] = preencher(novo, valores, readme.relative_to(RAIZ), pendentes)
    return saida


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="só verifica; não escreve nada")
    args = parser.parse_args()
    velhos, pendentes = [], []
    gerados = arquivos_gerados(pendentes)
    for caminho, conteudo in gerados.items():
        atual = caminho.read_text(encoding="utf-8") if caminho.exists() else None
        if atual == conteudo:
            continue
        velhos.append(caminho.relative_to(RAIZ))
        if not args.check:
            caminho.parent.mkdir(parents=True, exist_ok=True)
            caminho.write_text(conteudo, encoding="utf-8")
    sobrando = sorted(p.relative_to(RAIZ) for p in (RAIZ / "gptmini").glob("*.py") if p not in gerados)
    if args.check:
        problemas = ([f"  - {v}" for v in velhos] + [f"  - {s} (nenhuma célula exporta para ele)" for s in sobrando]
                     + [f"  - {p}" for p in pendentes])
        if problemas:
            print("Arquivos fora de sincronia com os notebooks (rode `python ferramentas/sincronizar.py`):")
            print("\n".join(problemas))
            return 1
        print("Tudo sincronizado.")
        return 0
    for s in sobrando:
        (RAIZ / s).unlink()
    for p in pendentes:
        print(f"Aviso: {p}. Rode a execução completa do capítulo.")
    print("Atualizados:" if velhos or sobrando else "Nada a atualizar.",
          *[f"\n  - {v}" for v in velhos], *[f"\n  - {s} (removido)" for s in sobrando])
    return 0


if __name__ == "__main__":
    sys.exit(main())
