"""Pares de preferência com respostas reais do assistente publicado (dados/fontes/preferencias/assistente.jsonl).

Uso:
    python ferramentas/gerar_rejeitadas.py

Para cada instrução dos pares escritos (dados/fontes/preferencias/lote_*.jsonl), pede a resposta gulosa do
assistente publicado (`load_pretrained("instrucoes")`, até 200 tokens). Quando ela anda em círculos (`has_loop`,
a medida do capítulo 07) ou não termina com <|endoftext|>, vira a **rejeitada** de um par novo, com a mesma
instrução e a mesma escolhida escrita, critério `repeticao` ou `parada` e origem `assistente`. São as falhas que o
modelo comete de fato ("on-policy"), que o capítulo 08 quer corrigir. A instrução é a mesma do par escrito, então
o par novo cai na mesma partição. Refaça quando o assistente publicado mudar; depois, rode
`python ferramentas/construir_dados.py`.
"""

import json
import sys
from pathlib import Path

from construir_dados import FONTES, ler_jsonl, normalizar

from gptmini import load_pretrained, load_tokenizer, seed_everything, tune_cpu_allocator
from gptmini.instrucoes import generate_responses, has_loop

DESTINO = FONTES / "preferencias" / "assistente.jsonl"
MAX_TOKENS = 200


def main() -> int:
    tune_cpu_allocator()
    seed_everything(0)
    tokenizer = load_tokenizer()
    assistente = load_pretrained("instrucoes")
    escritos, vistos = [], set()
    for par in ler_jsonl(FONTES / "preferencias"):
        chave = (normalizar(par["instrucao"]), normalizar(par["entrada"]))
        if par.get("origem", "escrita") == "escrita" and chave not in vistos:
            vistos.add(chave)
            escritos.append(par)
    respostas = generate_responses(assistente, tokenizer, [(p["instrucao"], p["entrada"]) for p in escritos],
                                   MAX_TOKENS, progress=True)
    novos = []
    for par, (texto, parou) in zip(escritos, respostas):
        criterio = "repeticao" if has_loop(texto) else None if parou else "parada"
        if criterio and texto.strip():
            novos.append({"instrucao": par["instrucao"], "entrada": par["entrada"], "escolhida": par["escolhida"],
                          "rejeitada": texto, "criterio": criterio, "origem": "assistente"})
    DESTINO.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in novos), encoding="utf-8")
    laco = sum(p["criterio"] == "repeticao" for p in novos)
    print(f"{len(escritos)} instruções; o assistente entrou em laço em {laco} e não parou (sem laço) em "
          f"{len(novos) - laco}: {len(novos)} pares novos em {Path(DESTINO).relative_to(FONTES.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
