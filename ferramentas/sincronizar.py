"""Mantém o código do curso num lugar só e as páginas em dia.

Fonte da verdade: as células `#| export <modulo>` dos notebooks. Este script regenera
- a biblioteca `gptmini/` e a célula "Preparação" de cada notebook (ferramentas/exportar.py);
- o cabeçalho de cada notebook, as URLs publicadas e a tabela de capítulos do README.md
  (ferramentas/paginas.py).

Uso:
    python ferramentas/sincronizar.py           # regenera tudo
    python ferramentas/sincronizar.py --check   # não escreve; sai com 1 e lista o que está velho
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from capitulos import RAIZ, existentes, ler_notebook, tags, texto_notebook
from exportar import TAG_PREPARO, arquivos_da_biblioteca, celula_preparo, ler_exportado
from paginas import atualizar_readme_raiz, linhas_fonte, nova_celula, paginar_notebook, slug_e_ramo, trocar_urls


def atualizar_preparo(nb: dict, texto: str) -> None:
    """A primeira célula de código marcada `preparo` (criada logo após o cabeçalho se faltar)."""
    celula = next((c for c in nb["cells"] if TAG_PREPARO in tags(c)), None)
    if celula is None:
        celula = nova_celula("code", "", TAG_PREPARO)
        nb["cells"].insert(1, celula)
    if celula["source"] != linhas_fonte(texto):
        celula.update(source=linhas_fonte(texto), outputs=[], execution_count=None)


def arquivos_gerados() -> dict[Path, str]:
    """Tudo o que a sincronização escreve: caminho -> conteúdo esperado."""
    caps = existentes()
    exp = ler_exportado(caps)
    slug, ramo = slug_e_ramo([t.texto for t in exp.trechos])
    saida = arquivos_da_biblioteca(exp)
    for cap in caps:
        nb = paginar_notebook(ler_notebook(cap.notebook), cap, slug, ramo)
        atualizar_preparo(nb, celula_preparo(cap, exp))
        saida[cap.notebook] = texto_notebook(nb)
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
    gerados = arquivos_gerados()
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
        problemas = [f"  - {v}" for v in velhos] + [f"  - {s} (nenhuma célula exporta para ele)" for s in sobrando]
        if problemas:
            print("Arquivos fora de sincronia com os notebooks (rode `python ferramentas/sincronizar.py`):")
            print("\n".join(problemas))
            return 1
        print("Tudo sincronizado.")
        return 0
    for s in sobrando:
        (RAIZ / s).unlink()
    print("Atualizados:" if velhos or sobrando else "Nada a atualizar.",
          *[f"\n  - {v}" for v in velhos], *[f"\n  - {s} (removido)" for s in sobrando])
    return 0


if __name__ == "__main__":
    sys.exit(main())
