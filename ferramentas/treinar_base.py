"""Treina o modelo base publicado, dados/modelos/base.pt, com o código do curso (gptmini.treino.train).

Uso:
    python ferramentas/treinar_base.py [--passos 3000]

O modelo tem as medidas do preset de CPU do capítulo 05 e treina por mais passos, com mais
dropout. O treino roda em trechos de `--avaliar-a-cada` passos, retomando do estado do trecho
anterior (o mesmo mecanismo de retomada do capítulo 05, que dá exatamente a mesma curva de um treino
sem pausas); ao fim de cada trecho mede a validação, e o checkpoint publicado é o do trecho com a
menor perda de validação (parada antecipada). O checkpoint guarda configuração, pesos e as métricas
(perda, bits por caractere), que a ficha técnica (dados/README.md) reproduz e um teste confere.
Depois de treinar, rode `python ferramentas/construir_dados.py` para atualizar o manifesto.
"""

import argparse
import json
import math
import platform
import time
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

import torch

from gptmini import (
    PRESETS,
    GPTMini,
    TrainConfig,
    device_name,
    encode_documents,
    generate,
    load_tokenizer,
    pick_device,
    read_corpus,
    save_checkpoint,
    seed_everything,
    tune_cpu_allocator,
)
from gptmini.treino import bits_per_char, evaluate, train

RAIZ = Path(__file__).resolve().parent.parent

DESTINO = RAIZ / "dados" / "modelos" / "base.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passos", type=int, default=3000)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--avaliar-a-cada", type=int, default=250)
    args = parser.parse_args()
    tune_cpu_allocator()
    device = pick_device()
    seed_everything(42)
    tokenizer = load_tokenizer()
    docs_treino, docs_validacao = read_corpus("treino"), read_corpus("validacao")
    ids_treino = encode_documents(tokenizer, docs_treino)
    ids_validacao = encode_documents(tokenizer, docs_validacao)
    caracteres_por_token = len("\n\n".join(docs_validacao)) / len(ids_validacao)

    config_modelo = replace(PRESETS["cpu"], dropout=args.dropout)
    config_treino = TrainConfig(max_steps=args.passos, batch_size=16, lr=2e-3, warmup_steps=100,
                                eval_interval=args.avaliar_a_cada, sample_interval=1000)
    torch.manual_seed(42)
    modelo = GPTMini(config_modelo).to(device)
    inicio = time.perf_counter()
    estado, melhor = None, (float("inf"), 0, None)
    for fim in range(args.avaliar_a_cada, args.passos + 1, args.avaliar_a_cada):
        estado = train(modelo, ids_treino, ids_validacao, config_treino, device, state=estado,
                       tokenizer=tokenizer, stop_at=fim)
        perda = estado.history["val_loss"][-1]  # train() acabou de medir a validação no fim do trecho
        if perda < melhor[0]:
            melhor = (perda, fim, {k: v.detach().clone() for k, v in modelo.state_dict().items()})
        print(f"passo {fim}: validação {perda:.4f} (melhor até aqui: passo {melhor[1]}, {melhor[0]:.4f})")
    segundos = time.perf_counter() - inicio
    modelo.load_state_dict(melhor[2])

    perda_val = evaluate(modelo, ids_validacao, config_modelo.context_length, device)
    perda_treino = evaluate(modelo, ids_treino, config_modelo.context_length, device)
    prompt = torch.tensor([tokenizer.encode_ordinary("Era uma vez")], device=device)
    amostra = tokenizer.decode(generate(modelo, prompt, 60, temperature=0.8, top_p=0.9,
                                        generator=torch.Generator(device=device).manual_seed(0))[0].tolist())
    metricas = {
        "perda_validacao": round(perda_val, 5),
        "bits_por_caractere_validacao": round(bits_per_char(perda_val, caracteres_por_token), 5),
        "perda_treino": round(perda_treino, 5),
        "bits_por_caractere_treino": round(bits_per_char(perda_treino, len("\n\n".join(docs_treino))
                                                         / len(ids_treino)), 5),
        "perplexidade_validacao": round(math.exp(perda_val), 3),
        "passo_escolhido": melhor[1],
        "tokens_vistos": melhor[1] * config_treino.batch_size * config_modelo.context_length,
        "passadas_pelo_corpus": round(melhor[1] * config_treino.batch_size * config_modelo.context_length
                                      / len(ids_treino), 2),
        "segundos_de_treino": round(segundos),
        "hardware": device_name(device),
        "torch": str(torch.__version__),  # TorchVersion não passa no weights_only
        "python": platform.python_version(),
        "data": date.today().isoformat(),
        "comando": f"python ferramentas/treinar_base.py --passos {args.passos} --dropout {args.dropout} "
                   f"--avaliar-a-cada {args.avaliar_a_cada}",
        "amostra": amostra,
    }
    DESTINO.parent.mkdir(parents=True, exist_ok=True)
    modelo.eval()
    save_checkpoint(modelo.cpu(), DESTINO, metricas=metricas, train_config=asdict(config_treino))
    (DESTINO.with_suffix(".json")).write_text(
        json.dumps({"config": asdict(config_modelo), "treino": asdict(config_treino), "metricas": metricas,
                    "curva_validacao": list(zip(estado.history["val_step"],
                                                [round(v, 4) for v in estado.history["val_loss"]]))},
                   ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(metricas, ensure_ascii=False, indent=1))
    print(f"\nGravado: {DESTINO.relative_to(RAIZ)} ({DESTINO.stat().st_size / 2**20:.1f} MB). "
          "Agora rode: python ferramentas/construir_dados.py")


if __name__ == "__main__":
    main()
