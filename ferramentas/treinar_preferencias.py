"""Treina o modelo publicado do capítulo 08, dados/modelos/preferencias.pt, com o DPO do curso (gptmini.preferencias).

Uso:
    python ferramentas/treinar_preferencias.py [--beta 0.1] [--lr 2e-5] [--epocas 1] [--fp16]

Parte do assistente publicado (dados/modelos/instrucoes.pt), que também é a referência congelada, e treina com o DPO
nos pares de treino de dados/preferencias.jsonl. Mede no que nenhum treino viu: a acurácia das recompensas
implícitas nos pares do teste e, no teste inteiro do capítulo 07, parada com <|endoftext|>, laços, acerto exato
das famílias verificáveis e o tamanho das respostas, as mesmas medidas da ficha do assistente. O checkpoint
guarda configuração, pesos e essas medidas, que a ficha técnica (dados/README.md) reproduz e um teste confere.
Depois, rode `python ferramentas/construir_dados.py`.
"""

import argparse
import json
from datetime import date
from pathlib import Path

import torch

from gptmini import (
    device_name,
    load_pretrained,
    load_tokenizer,
    pick_device,
    read_splits,
    save_checkpoint,
    seed_everything,
    tune_cpu_allocator,
)
from gptmini.instrucoes import instruction_metrics
from gptmini.preferencias import DPOConfig, dpo_loss, encode_pair, pair_logprobs, train_dpo

RAIZ = Path(__file__).resolve().parent.parent
DESTINO = RAIZ / "dados" / "modelos" / "preferencias.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--epocas", type=int, default=1)
    parser.add_argument("--fp16", action="store_true", help="grava os pesos em 16 bits (medidos assim)")
    args = parser.parse_args()
    tune_cpu_allocator()
    device = pick_device()
    seed_everything(42)
    tokenizer = load_tokenizer()
    pares = {nome: [encode_pair(tokenizer, p) for p in ps] for nome, ps in read_splits("preferencias.jsonl").items()}
    config = DPOConfig(beta=args.beta, lr=args.lr, epochs=args.epocas, eval_interval=25)
    torch.manual_seed(42)
    referencia = load_pretrained("instrucoes", device).eval()
    politica = load_pretrained("instrucoes", device)
    historico = train_dpo(politica, referencia, pares["treino"], pares["validacao"], tokenizer.eot_token, config)
    if args.fp16:  # as medidas publicadas são as dos pesos em 16 bits, que é o que o aluno baixa
        politica.load_state_dict({nome: t.half().float() for nome, t in politica.state_dict().items()})
    logps, logps_ref = (pair_logprobs(m, pares["teste"], tokenizer.eot_token) for m in (politica, referencia))
    _, margem = dpo_loss(logps[:, 0], logps[:, 1], logps_ref[:, 0], logps_ref[:, 1], args.beta)
    teste_07 = read_splits("instrucoes.jsonl")["teste"]
    medidas = instruction_metrics(politica, tokenizer, teste_07)
    respostas = medidas.pop("respostas")
    ficha = {"medidas_teste": medidas | {
                 "acuracia_recompensa_implicita": round((margem > 0).float().mean().item(), 4),
                 "palavras_por_resposta": round(sum(len(r.split()) for r in respostas) / len(respostas), 1)},
             "pares_teste": len(pares["teste"]), "instrucoes_teste": len(teste_07),
             "pares_treino": len(pares["treino"]),
             "beta": args.beta, "lr": args.lr, "epocas": args.epocas,
             "acuracia_validacao": [round(v, 4) for v in historico["val_accuracy"]],
             "margem_validacao": [round(v, 3) for v in historico["val_margin"]],
             "segundos_de_treino": round(historico["seconds"]), "hardware": device_name(device),
             "torch": str(torch.__version__), "data": date.today().isoformat(),
             "comando": f"python ferramentas/treinar_preferencias.py --beta {args.beta} --lr {args.lr} "
                        f"--epocas {args.epocas}" + (" --fp16" if args.fp16 else ""),
             "respostas_teste": respostas}
    politica = politica.cpu().eval()
    save_checkpoint(politica.half() if args.fp16 else politica, DESTINO, ficha=ficha)
    DESTINO.with_suffix(".json").write_text(json.dumps(ficha, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in ficha.items() if k != "respostas_teste"}, ensure_ascii=False, indent=1))
    print(f"\nGravado: {DESTINO.relative_to(RAIZ)}. Agora rode: python ferramentas/construir_dados.py")


if __name__ == "__main__":
    main()
