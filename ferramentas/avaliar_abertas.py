"""Avaliação cega das tarefas abertas por um juiz (o protocolo de ferramentas/juiz.md).

Uso:
    python ferramentas/avaliar_abertas.py preparar PASTA [--modelos base instrucoes]
        [--decodificacoes gulosa amostrada] [--uma-em 4] [--partes 2] [--particao validacao]
    python ferramentas/avaliar_abertas.py resumir PASTA

`preparar` gera a resposta de cada modelo, em cada decodificação, a cada instrução aberta do teste (as
famílias sem resposta exata; com `--uma-em N`, uma em cada N; com `--particao validacao`, as da validação,
para escolher uma receita sem olhar o teste) e grava em PASTA:
- `para_o_juiz.jsonl` (ou `para_o_juiz_1.jsonl`, `_2`... com `--partes`, um arquivo por juiz): uma linha
  por resposta, com `id`, `instrucao`, `entrada`, `referencia` e `resposta`, embaralhadas com semente fixa
  e sem dizer o modelo nem a decodificação: é o que o juiz recebe, junto com ferramentas/juiz.md;
- `chave.json`: de que modelo e decodificação veio cada `id` (o juiz não vê).
As decodificações: `gulosa` (o padrão de `respond`) e `amostrada` (temperatura 0,7 e top-p 0,9, a que o
capítulo 07 usa para conversar; semente fixa). O juiz devolve as notas em
arquivos `notas*.jsonl` na mesma pasta (`{"id": ..., "nota": 0-100}` por linha); `resumir` junta as notas
à chave e imprime a média de cada modelo e decodificação, no geral e por família.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import torch

from gptmini import load_checkpoint, load_pretrained, load_tokenizer, read_splits
from gptmini.instrucoes import VERIFIABLE_FAMILIES, generate_responses


def carregar(nome: str):
    return load_checkpoint(nome) if nome.endswith(".pt") else load_pretrained(nome)


DECODIFICACOES = {"gulosa": {}, "amostrada": {"temperature": 0.7, "top_p": 0.9}}


def preparar(pasta: Path, modelos: list[str], decodificacoes: list[str], uma_em: int = 1, partes: int = 1,
             particao: str = "teste") -> None:
    tokenizer = load_tokenizer()
    abertas = [e for e in read_splits("instrucoes.jsonl")[particao] if e["familia"] not in VERIFIABLE_FAMILIES]
    abertas = abertas[::uma_em]
    linhas, chave = [], {}
    for nome in modelos:
        modelo = carregar(nome)
        for decodificacao in decodificacoes:
            respostas = generate_responses(modelo, tokenizer, [(e["instrucao"], e["entrada"]) for e in abertas],
                                           progress=True, generator=torch.Generator().manual_seed(0),
                                           **DECODIFICACOES[decodificacao])
            for e, (texto, _) in zip(abertas, respostas):
                linhas.append({"instrucao": e["instrucao"], "entrada": e["entrada"], "referencia": e["resposta"],
                               "resposta": texto, "_modelo": f"{nome} · {decodificacao}", "_familia": e["familia"]})
    random.Random(0).shuffle(linhas)
    pasta.mkdir(parents=True, exist_ok=True)
    arquivos = [pasta / (f"para_o_juiz_{k + 1}.jsonl" if partes > 1 else "para_o_juiz.jsonl") for k in range(partes)]
    for k, arquivo in enumerate(arquivos):
        with open(arquivo, "w", encoding="utf-8") as f:
            for i in range(k, len(linhas), partes):
                linha = dict(linhas[i])
                chave[i] = {"modelo": linha.pop("_modelo"), "familia": linha.pop("_familia")}
                f.write(json.dumps({"id": i, **linha}, ensure_ascii=False) + "\n")
    (pasta / "chave.json").write_text(json.dumps(chave, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(linhas)} respostas ({len(abertas)} instruções × {len(modelos)} modelos × {len(decodificacoes)} "
          f"decodificações) em {', '.join(str(a) for a in arquivos)}; a chave fica em {pasta / 'chave.json'}")


def resumir(pasta: Path) -> None:
    chave = {int(k): v for k, v in json.loads((pasta / "chave.json").read_text(encoding="utf-8")).items()}
    notas = {}
    linhas = [linha for arquivo in sorted(pasta.glob("notas*.jsonl"))
              for linha in arquivo.read_text(encoding="utf-8").splitlines()]
    for linha in linhas:
        if linha.strip():
            r = json.loads(linha)
            if not isinstance(r.get("nota"), int) or not 0 <= r["nota"] <= 100:
                raise SystemExit(f"Nota inválida (precisa ser um inteiro de 0 a 100): {linha}")
            notas[int(r["id"])] = r["nota"]
    desconhecidos = sorted(set(notas) - set(chave))
    if desconhecidos:
        raise SystemExit(f"Notas para ids que a chave não tem: {desconhecidos[:10]}.")
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
    parser.add_argument("--decodificacoes", nargs="+", default=["gulosa"], choices=sorted(DECODIFICACOES))
    parser.add_argument("--uma-em", type=int, default=1, help="avalia uma instrução aberta em cada N")
    parser.add_argument("--partes", type=int, default=1, help="divide as respostas em N arquivos, um por juiz")
    parser.add_argument("--particao", default="teste", choices=("validacao", "teste"),
                        help="de onde vêm as instruções abertas (a escolha de uma receita se faz na validação)")
    args = parser.parse_args()
    if args.acao == "preparar":
        preparar(args.pasta, args.modelos, args.decodificacoes, args.uma_em, args.partes, args.particao)
    else:
        resumir(args.pasta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
