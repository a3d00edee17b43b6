"""Treina os modelos publicados do capítulo 09, dados/modelos/raciocinio_sft.pt e raciocinio.pt, com o código do curso.

Uso:
    python ferramentas/treinar_raciocinio.py [--passos-sft 2000] [--passos-grpo 100] [--lr-grpo 0.1] [--fp16]
    python ferramentas/treinar_raciocinio.py --so-grpo ...   # só o GRPO, a partir do raciocinio_sft.pt gravado

1. Partida a quente: SFT (gptmini.instrucoes.train_sft) a partir do assistente publicado, nos problemas de treino,
   metade só com a resposta (o gabarito) e metade com as contas (warm_start_examples), com uma parte das instruções
   de treino do capítulo 07 misturada (para o assistente não esquecer o que sabia); fica com a avaliação de maior
   acerto guloso na validação.
2. GRPO (gptmini.raciocinio.train_grpo) a partir do modelo aquecido; fica com a avaliação de maior acerto
   guloso na validação.
Cada checkpoint guarda configuração, pesos e as medidas no teste (pass@1 guloso e pass@8 por número de passos,
e o acerto exato das famílias verificáveis do capítulo 07), que a ficha técnica (dados/README.md) reproduz e um
teste confere. Depois, rode `python ferramentas/construir_dados.py`.
"""

import argparse
import dataclasses
import json
import random
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
from gptmini.instrucoes import VERIFIABLE_FAMILIES, generate_responses, instruction_metrics, set_dropout, train_sft
from gptmini.raciocinio import (
    GRPOConfig,
    accuracy_by_steps,
    as_instruction,
    extract_answer,
    pass_at_k,
    problem_splits,
    shows_work,
    train_grpo,
    warm_start_examples,
)
from gptmini.treino import copy_weights

RAIZ = Path(__file__).resolve().parent.parent
MODELOS = RAIZ / "dados" / "modelos"


def media(acertos: dict[int, float]) -> float:
    return sum(acertos.values()) / len(acertos)


def medir(modelo, tokenizer, particoes, verificaveis) -> dict:
    """As medidas publicadas: no teste, pass@1 guloso e pass@8 por passos e a fração das respostas gulosas que
    escrevem as contas; nas famílias do capítulo 07, o acerto."""
    teste = particoes["teste"]
    gulosas = [t for t, _ in generate_responses(modelo, tokenizer, [(p["problema"], "") for p in teste], 64,
                                                batch_size=128)]
    instrucoes = instruction_metrics(modelo, tokenizer, verificaveis, 24, progress=False)
    certas = [extract_answer(t) == p["resposta"] for t, p in zip(gulosas, teste)]
    return {"pass1_teste": accuracy_by_steps(teste, certas),
            "pass8_teste": pass_at_k(modelo, tokenizer, teste, k=8, temperature=1.0),
            "com_contas_teste": round(sum(map(shows_work, gulosas)) / len(gulosas), 4),
            "acerto_exato_familias_07": round(instrucoes["acerto_exato_geral"], 4),
            "parou_com_eot_familias_07": round(instrucoes["parou_com_eot"], 4)}


def gravar(modelo, nome: str, ficha: dict, fp16: bool) -> None:
    destino = MODELOS / f"{nome}.pt"
    modelo = modelo.cpu().eval()
    save_checkpoint(modelo.half() if fp16 else modelo, destino, ficha=ficha)
    destino.with_suffix(".json").write_text(json.dumps(ficha, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(ficha, ensure_ascii=False, indent=1))


def arredondar_fp16(modelo) -> None:
    """As medidas publicadas são as dos pesos em 16 bits, que é o que o aluno baixa."""
    modelo.load_state_dict({nome: t.half().float() for nome, t in modelo.state_dict().items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passos-sft", type=int, default=2000)
    parser.add_argument("--so-gabarito", type=float, default=0.5,
                        help="fração dos problemas da partida a quente que vêm só com a resposta, sem as contas")
    parser.add_argument("--mistura-07", type=float, default=0.25,
                        help="instruções do capítulo 07 por problema no SFT (0,25: uma para cada quatro)")
    parser.add_argument("--passos-grpo", type=int, default=100)
    parser.add_argument("--lr-grpo", type=float, default=0.1)
    parser.add_argument("--grupo", type=int, default=8)
    parser.add_argument("--problemas-por-passo", type=int, default=16)
    parser.add_argument("--so-grpo", action="store_true", help="parte do raciocinio_sft.pt gravado")
    parser.add_argument("--fp16", action="store_true", help="grava os pesos em 16 bits (medidos assim)")
    args = parser.parse_args()
    tune_cpu_allocator()
    device = pick_device()
    seed_everything(42)
    tokenizer = load_tokenizer()
    particoes = problem_splits()
    verificaveis = [e for e in read_splits("instrucoes.jsonl")["teste"] if e["familia"] in VERIFIABLE_FAMILIES]
    comando = "python ferramentas/treinar_raciocinio.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if not isinstance(v, bool)) + (
        " --fp16" if args.fp16 else "")

    def acerto_na_validacao(m):
        return media(pass_at_k(m, tokenizer, particoes["validacao"], k=1, temperature=0.0))

    if args.so_grpo:
        modelo = load_checkpoint(MODELOS / "raciocinio_sft.pt", device)
    else:
        instrucoes_07 = read_splits("instrucoes.jsonl")["treino"]
        mistura = random.Random(0).sample(instrucoes_07, int(args.mistura_07 * len(particoes["treino"])))
        treino = warm_start_examples(particoes["treino"], args.so_gabarito) + mistura
        config = TrainConfig(max_steps=args.passos_sft, batch_size=32, lr=5e-4, warmup_steps=30,
                             eval_interval=max(1, args.passos_sft // 6), sample_interval=0)
        torch.manual_seed(42)
        modelo = set_dropout(load_pretrained("instrucoes", device), 0.0).train()
        historico = train_sft(modelo, tokenizer, treino, [as_instruction(p) for p in particoes["validacao"][:100]],
                              config, device, val_score=acerto_na_validacao)
        if args.fp16:
            arredondar_fp16(modelo)
        ficha = {"medidas": medir(modelo, tokenizer, particoes, verificaveis),
                 "problemas_treino": len(particoes["treino"]), "so_gabarito": args.so_gabarito,
                 "instrucoes_07_misturadas": len(mistura),
                 "passos": args.passos_sft, "lote": config.batch_size, "lr": config.lr,
                 "passo_escolhido": historico["best_step"],
                 "acerto_validacao": [round(v, 4) for v in historico["val_score"]],
                 "segundos_de_treino": round(historico["seconds"]), "hardware": device_name(device),
                 "torch": str(torch.__version__), "data": date.today().isoformat(), "comando": comando}
        gravar(modelo, "raciocinio_sft", ficha, args.fp16)
        modelo = load_checkpoint(MODELOS / "raciocinio_sft.pt", device)

    config = GRPOConfig(steps=args.passos_grpo, problems_per_step=args.problemas_por_passo, group_size=args.grupo,
                        lr=args.lr_grpo, eval_interval=20)
    melhor = {"nota": acerto_na_validacao(modelo), "passo": 0, "pesos": copy_weights(modelo)}
    historico = {"val_step": [], "val_pass1": [], "com_contas_amostras": []}
    segundos = 0.0
    # o GRPO roda em trechos de eval_interval passos para guardarmos os pesos da melhor avaliação
    for inicio in range(0, args.passos_grpo, config.eval_interval):
        trecho = dataclasses.replace(config, steps=min(config.eval_interval, args.passos_grpo - inicio),
                                     seed=config.seed + inicio)
        h = train_grpo(modelo, tokenizer, particoes["treino"], particoes["validacao"], trecho, progress=False)
        historico["val_step"].append(inicio + trecho.steps)
        historico["val_pass1"].append(h["val_pass1"][-1])
        historico["com_contas_amostras"].append(round(sum(h["shows_work"]) / len(h["shows_work"]), 4))
        segundos += h["seconds"]
        nota = media(h["val_pass1"][-1])
        print(f"GRPO passo {inicio + trecho.steps}: acerto guloso na validação {h['val_pass1'][-1]} "
              f"(média {nota:.3f}, recompensa média do trecho {sum(h['reward']) / len(h['reward']):.3f}, "
              f"{h['seconds']:.0f} s)", flush=True)
        if nota > melhor["nota"]:
            melhor = {"nota": nota, "passo": inicio + trecho.steps, "pesos": copy_weights(modelo)}
    modelo.load_state_dict(melhor["pesos"])
    if args.fp16:
        arredondar_fp16(modelo)
    ficha = {"medidas": medir(modelo, tokenizer, particoes, verificaveis), "partida": "raciocinio_sft",
             "grpo": {k: v for k, v in dataclasses.asdict(config).items()}, "passo_escolhido": melhor["passo"],
             "segundos_de_treino": round(segundos),
             "acerto_validacao": historico, "hardware": device_name(device), "torch": str(torch.__version__),
             "data": date.today().isoformat(), "comando": comando}
    gravar(modelo, "raciocinio", ficha, args.fp16)
    print("\nAgora rode: python ferramentas/construir_dados.py")


if __name__ == "__main__":
    main()
