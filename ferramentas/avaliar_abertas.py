"""Avaliação cega das tarefas abertas do teste por um juiz (o protocolo de ferramentas/juiz.md).

Uso:
    python ferramentas/avaliar_abertas.py preparar PASTA [--modelos base instrucoes]
    python ferramentas/avaliar_abertas.py resumir PASTA

`preparar` gera, de forma gulosa (como `respond`), a resposta de cada modelo a cada instrução aberta
do teste (as famílias sem resposta exata) e grava em PASTA:
- `para_o_juiz.jsonl`: uma linha por resposta, com `id`, `instrucao`, `entrada`, `referencia` e
  `resposta`, embaralhadas com semente fixa e sem dizer o modelo: é o que o juiz recebe, junto com
  ferramentas/juiz.md;
- `chave.json`: de que modelo veio cada `id` (o juiz não vê).
O juiz devolve `notas.jsonl` na mesma pasta (`{"id": ..., "nota": 0-100}` por linha); `resumir`
junta as notas à chave e imprime a média de cada modelo, no geral e por família.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from gptmini import load_checkpoint, load_pretrained, load_tokenizer, read_splits
from gptmini.instrucoes import VERIFIABLE_FAMILIES, generate_responses


def carregar(nome: str):
    return load_checkpoint(nome) if nome.endswith(".pt") else load_pretrained(nome)


def preparar(pasta: Path, modelos: list[str]) -> None:
    tokenizer = load_tokenizer()
    abertas = [e for e in read_splits("instrucoes.jsonl")["teste"] if e["familia"] not in VERIFIABLE_FAMILIES]
    linhas, chave = [], {}
    for nome in modelos:
        respostas = generate_responses(carregar(nome), tokenizer, [(e["instrucao"], e["entrada"]) for e in abertas],
                                       progress=True)
        for e, (texto, _) in zip(abertas, respostas):
            linhas.append({"instrucao": e["instrucao"], "entrada": e["entrada"], "referencia": e["resposta"],
                           "resposta": texto, "_modelo": nome, "_familia": e["familia"]})
    random.Random(0).shuffle(linhas)
    pasta.mkdir(parents=True, exist_ok=True)
    with open(pasta / "para_o_juiz.jsonl", "w", encoding="utf-8") as f:
        for i, linha in enumerate(linhas):
            chave[i] = {"modelo": linha.pop("_modelo"), "familia": linha.pop("_familia")}
            f.write(json.dumps({"id": i, **linha}, ensure_ascii=False) + "\n")
    (pasta / "chave.json").write_text(json.dumps(chave, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(linhas)} respostas ({len(abertas)} instruções × {len(modelos)} modelos) em "
          f"{pasta / 'para_o_juiz.jsonl'}; a chave fica em {pasta / 'chave.json'}")


def resumir(pasta: Path) -> None:
    chave = {int(k): v for k, v in json.loads((pasta / "chave.json").read_text(encoding="utf-8")).items()}
    notas = {}
    for linha in (pasta / "notas.jsonl").read_text(encoding="utf-8").splitlines():
        if linha.strip():
            r = json.loads(linha)
            if not isinstance(r.get("nota"), int) or not 0 <= r["nota"] <= 100:
                raise SystemExit(f"Nota inválida (precisa ser um inteiro de 0 a 100): {linha}")
            notas[int(r["id"])] = r["nota"]
    faltando = sorted(set(chave) - set(notas))
    if faltando:
        raise SystemExit(f"Faltam notas para {len(faltando)} respostas (ids {faltando[:10]}...).")
    por_modelo, por_familia = defaultdict(list), defaultdict(list)
    for i, nota in notas.items():
        por_modelo[chave[i]["modelo"]].append(nota)
        por_familia[(chave[i]["modelo"], chave[i]["familia"])].append(nota)
    for modelo, lista in por_modelo.items():
        familias = ", ".join(f"{f} {statistics.mean(v):.0f}"
                             for (m, f), v in sorted(por_familia.items()) if m == modelo)
        print(f"{modelo}: média {statistics.mean(lista):.1f} em {len(lista)} respostas ({familias})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("acao", choices=("preparar", "resumir"))
    parser.add_argument("pasta", type=Path)
    parser.add_argument("--modelos", nargs="+", default=["base", "instrucoes"],
                        help="nomes de load_pretrained ou caminhos de checkpoints .pt")
    args = parser.parse_args()
    preparar(args.pasta, args.modelos) if args.acao == "preparar" else resumir(args.pasta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
