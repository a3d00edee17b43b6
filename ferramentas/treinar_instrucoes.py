"""Treina o assistente publicado, dados/modelos/instrucoes.pt, com o código do curso (gptmini.instrucoes.train_sft).

Uso:
    python ferramentas/treinar_instrucoes.py [--epocas 12] [--lr 5e-4] [--dropout 0.1] [--fp16]
    python ferramentas/treinar_instrucoes.py --epocas 5 --desde CHECKPOINT   # continua um ajuste anterior

Parte do modelo base publicado (dados/modelos/base.pt), ou de `--desde`, ajusta nas instruções de treino (as escritas à
mão, o aumento das famílias verificáveis e a cópia) com a perda só nas respostas, fica com a época de
maior acerto exato na validação e mede no teste: acerto exato por família verificável, parada com
<|endoftext|> e respostas sem "###". O checkpoint guarda configuração, pesos e essas medidas, que a ficha
técnica (dados/README.md) reproduz e um teste confere.
Depois, rode `python ferramentas/construir_dados.py`.
"""

import argparse
import json
import math
from datetime import date
from pathlib import Path

import torch

from gptmini import (
    TrainConfig,
    device_name,
    load_checkpoint,
    load_pretrained,
    load_tokenizer,
    pick_device,
    read_splits,
    save_checkpoint,
    seed_everything,
    tune_cpu_allocator,
)
from gptmini.instrucoes import (VERIFIABLE_FAMILIES, encode_instruction, instruction_metrics, response_loss,
                                set_dropout, train_sft)

RAIZ = Path(__file__).resolve().parent.parent

DESTINO = RAIZ / "dados" / "modelos" / "instrucoes.pt"


def ficha_anterior(desde: Path | None) -> dict | None:
    """As medidas do checkpoint de onde o ajuste continuou (sem as respostas), para a ficha contar a história."""
    if desde is None or not desde.with_suffix(".json").exists():
        return None
    return json.loads(desde.with_suffix(".json").read_text(encoding="utf-8")) | {"respostas_teste": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epocas", type=int, default=12)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--fp16", action="store_true", help="grava os pesos em 16 bits (medidos assim)")
    parser.add_argument("--desde", type=Path, help="continua o ajuste a partir deste checkpoint, em vez do base")
    args = parser.parse_args()
    tune_cpu_allocator()
    device = pick_device()
    seed_everything(42)
    tokenizer = load_tokenizer()
    particoes = read_splits("instrucoes.jsonl")
    passos_por_epoca = math.ceil(len(particoes["treino"]) / 16)
    config = TrainConfig(max_steps=args.epocas * passos_por_epoca, batch_size=16, lr=args.lr, warmup_steps=20,
                         eval_interval=passos_por_epoca, sample_interval=0)
    torch.manual_seed(42)
    inicial = load_checkpoint(args.desde, device) if args.desde else load_pretrained("base", device)
    # ficamos com a época de maior acerto exato na validação (o teste só é usado no fim); só as famílias
    # verificáveis entram nessa nota, então só elas são geradas a cada época. A perda nas respostas abertas
    # da validação também é medida, para a ficha: ela mostra o que o ajuste faz com as tarefas abertas
    verificaveis = [e for e in particoes["validacao"] if e["familia"] in VERIFIABLE_FAMILIES]
    abertas = [encode_instruction(tokenizer, e) for e in particoes["validacao"]
               if e["familia"] not in VERIFIABLE_FAMILIES]
    perda_abertas_partida = response_loss(inicial, abertas, tokenizer.eot_token, device)
    perdas_abertas = []
    modelo = set_dropout(inicial, args.dropout).train()

    def nota_na_validacao(m):
        perdas_abertas.append(response_loss(m, abertas, tokenizer.eot_token, device))
        acerto = instruction_metrics(m, tokenizer, verificaveis, progress=False)["acerto_exato_geral"]
        print(f"acerto exato {acerto:.3f}, perda nas abertas {perdas_abertas[-1]:.3f} "
              f"(partida: {perda_abertas_partida:.3f})", flush=True)
        return acerto

    historico = train_sft(modelo, tokenizer, particoes["treino"], particoes["validacao"], config, device,
                          val_score=nota_na_validacao)
    if args.fp16:  # as medidas publicadas são as dos pesos em 16 bits, que é o que o aluno baixa
        modelo.load_state_dict({nome: t.half().float() for nome, t in modelo.state_dict().items()})
    medidas = instruction_metrics(modelo, tokenizer, particoes["teste"])
    ficha = {"medidas_teste": {k: v for k, v in medidas.items() if k != "respostas"},
             "instrucoes_teste": len(particoes["teste"]), "respostas_teste": medidas["respostas"],
             "instrucoes_treino": len(particoes["treino"]), "epocas": args.epocas, "lr": args.lr,
             "dropout": args.dropout,
             "perda_abertas_validacao_partida": round(perda_abertas_partida, 4),
             "perda_abertas_validacao": [round(v, 4) for v in perdas_abertas],
             "perda_validacao_respostas": [round(v, 4) for v in historico["val_loss"]],
             "acerto_exato_validacao": [round(v, 4) for v in historico["val_score"]],
             "epoca_escolhida": historico["best_step"] // passos_por_epoca,
             "segundos_de_treino": round(historico["seconds"]), "hardware": device_name(device),
             "torch": str(torch.__version__), "data": date.today().isoformat(),
             "comando": f"python ferramentas/treinar_instrucoes.py --epocas {args.epocas} --lr {args.lr} "
                        f"--dropout {args.dropout}" + (" --fp16" if args.fp16 else "")
                        + (f" --desde {args.desde}" if args.desde else ""),
             "etapa_anterior": ficha_anterior(args.desde)}
    modelo = modelo.cpu().eval()
    save_checkpoint(modelo.half() if args.fp16 else modelo, DESTINO, ficha=ficha)
    DESTINO.with_suffix(".json").write_text(json.dumps(ficha, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(ficha, ensure_ascii=False, indent=1))
    print(f"\nGravado: {DESTINO.relative_to(RAIZ)}. Agora rode: python ferramentas/construir_dados.py")


if __name__ == "__main__":
    main()
