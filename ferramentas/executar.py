"""Roda os notebooks dos capítulos sem interface, em ordem, e grava as saídas.

Uso:
    python ferramentas/executar.py                # todos os capítulos, modo completo, grava no lugar
    python ferramentas/executar.py 03 04          # só alguns capítulos
    python ferramentas/executar.py --rapido       # modo rápido (GPTMINI_RAPIDO=1); não grava nada
    python ferramentas/executar.py --saida DIR    # grava os notebooks executados em DIR

No modo completo, cada notebook executado guarda em metadata.gptmini.execucao o hash do seu
código, a duração e o hardware: os testes recusam um notebook cujo código mudou depois disso, e
a tabela do README mostra esses tempos. Para na primeira falha, mostrando a célula e o erro.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from capitulos import RAIZ, existentes, hash_codigo, texto_notebook
from resultados import codigo_de_coleta


class FalhaNoNotebook(RuntimeError):
    def __init__(self, notebook: Path, celula: int, fonte: str, erro: str):
        self.notebook, self.celula, self.fonte, self.erro = notebook, celula, fonte, erro
        trecho = "\n".join(fonte.splitlines()[:12])
        super().__init__(f"{notebook}: a célula {celula} falhou.\n--- código ---\n{trecho}\n--- erro ---\n{erro}")


def limpar_fluxos(nb) -> None:
    """Guarda o texto como um terminal o mostraria: só o que sobra depois de cada '\\r' (tqdm)."""
    for celula in nb.cells:
        for saida in celula.get("outputs", []):
            if saida.get("output_type") == "stream":
                linhas = [re.split(r"\r(?!\n)", linha)[-1] for linha in saida["text"].split("\n")]
                saida["text"] = "\n".join(linhas)


def falha_da_execucao(nb, caminho: Path, erro: Exception) -> FalhaNoNotebook:
    indice = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                   and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if indice is None:  # tempo esgotado: a célula que estava rodando é a primeira sem contagem
        indice = next((i for i, c in enumerate(nb.cells)
                       if c.cell_type == "code" and c.get("execution_count") is None), -1)
    fonte = nb.cells[indice].source if indice >= 0 else ""
    texto = re.sub(r"\x1b\[[0-9;]*m", "", str(erro)).strip()  # sem as cores do terminal
    return FalhaNoNotebook(caminho, indice, fonte, texto[-3000:])


def executar_notebook(caminho: Path, pasta: Path, ambiente: dict[str, str | None], timeout: int = 900,
                      coleta: str | None = None):
    """Executa um notebook com `pasta` como diretório de trabalho; devolve (notebook, segundos, resultados).

    `ambiente` acrescenta variáveis ao ambiente do kernel; um valor None remove a variável. `coleta` é
    código rodado no mesmo kernel depois da última célula, fora do notebook, que imprime um JSON: os
    resultados citados no texto (ferramentas/resultados.py).
    """
    env = {**os.environ, **ambiente}
    env = {k: v for k, v in env.items() if v is not None}
    nb = nbformat.read(caminho, as_version=4)
    inicio = time.perf_counter()
    # Transporte IPC (soquetes locais numa pasta temporária), não TCP: mais simples e sem aviso.
    with tempfile.TemporaryDirectory() as conexao:
        # cada capítulo roda como num Colab novo: o modelo que o 05 guarda no cache não vaza para o 06
        env.setdefault("GPTMINI_CACHE", os.path.join(conexao, "cache"))
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(conexao, "ipc"),
                           connection_file=os.path.join(conexao, "kernel.json"))
        cliente = NotebookClient(nb, km=km, timeout=timeout, coalesce_streams=True,
                                 resources={"metadata": {"path": str(pasta)}})
        resultados = {}
        try:
            with cliente.setup_kernel(env=env):  # o mesmo que cliente.execute(), com uma célula a mais no fim
                for indice, celula in enumerate(nb.cells):
                    cliente.execute_cell(celula, indice, execution_count=cliente.code_cells_executed + 1)
                segundos = time.perf_counter() - inicio
                if coleta:
                    nb.cells.append(nbformat.v4.new_code_cell(coleta))  # só durante a coleta
                    cliente.execute_cell(nb.cells[-1], len(nb.cells) - 1)
                    extra = nb.cells.pop()
                    resultados = json.loads("".join(o.get("text", "") for o in extra.outputs))
        except (CellExecutionError, CellTimeoutError) as erro:
            raise falha_da_execucao(nb, caminho, erro) from None
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    limpar_fluxos(nb)
    return nb, segundos, resultados


def descrever_hardware() -> str:
    from gptmini import device_name, pick_device

    return device_name(pick_device())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capitulos", nargs="*", help="números ou pastas (padrão: todos)")
    parser.add_argument("--rapido", action="store_true", help="modo rápido; não grava os notebooks")
    parser.add_argument("--saida", type=Path, help="pasta onde gravar os notebooks executados")
    args = parser.parse_args()

    from sincronizar import arquivos_gerados

    gerados = arquivos_gerados(pendentes=[])  # resultados ainda não gravados: a execução vai gravá-los
    velhos = [p for p, t in gerados.items() if not p.exists() or p.read_text(encoding="utf-8") != t]
    if velhos:
        print("Há arquivos fora de sincronia; rode antes `python ferramentas/sincronizar.py`:")
        print("\n".join(f"  - {p.relative_to(RAIZ)}" for p in velhos))
        return 1

    caps = [c for c in existentes() if not args.capitulos
            or any(c.pasta.startswith(a.rstrip("/")) for a in args.capitulos)]
    hardware = descrever_hardware()
    modo = "rápido" if args.rapido else "completo"
    print(f"Executando {len(caps)} notebook(s) em modo {modo} · {hardware}\n")
    resultados = []
    for cap in caps:
        print(f"→ {cap.pasta} ...", flush=True)
        try:
            nb, segundos, valores = executar_notebook(cap.notebook, cap.notebook.parent,
                                                      {"GPTMINI_RAPIDO": "1" if args.rapido else "0"},
                                                      coleta=None if args.rapido else codigo_de_coleta(cap.numero))
        except FalhaNoNotebook as falha:
            resultados.append((cap.pasta, None, "FALHOU"))
            imprimir_tabela(resultados)
            print(f"\n{falha}")
            return 1
        resultados.append((cap.pasta, segundos, "ok"))
        if not args.rapido:
            nb.metadata["gptmini"] = {"execucao": {
                "hash_codigo": hash_codigo(nb), "duracao_s": round(segundos, 1), "hardware": hardware,
                "modo": modo, "data": date.today().isoformat()}, "resultados": valores}
            destino = args.saida / cap.pasta / "notebook.ipynb" if args.saida else cap.notebook
            destino.parent.mkdir(parents=True, exist_ok=True)
            destino.write_text(texto_notebook(nb), encoding="utf-8")
    imprimir_tabela(resultados)
    if not args.rapido and not args.saida:
        print("\nNotebooks gravados com as saídas. Rode `python ferramentas/sincronizar.py` para "
              "atualizar os tempos na tabela do README.")
    return 0


def imprimir_tabela(resultados) -> None:
    print(f"\n{'capítulo':<24} {'tempo':>10}  situação")
    for pasta, segundos, situacao in resultados:
        tempo = f"{segundos:.1f} s" if segundos is not None else "-"
        print(f"{pasta:<24} {tempo:>10}  {situacao}")


if __name__ == "__main__":
    sys.exit(main())
