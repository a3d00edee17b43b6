"""Treina o classificador de spam publicado, dados/modelos/classificador.pt, com o código do curso.

Uso:
    python ferramentas/treinar_classificador.py [--epocas 8] [--receita tudo] [--lr 2e-4] [--grafias]

Parte do modelo base publicado (dados/modelos/base.pt), troca a cabeça de saída por uma de 2
classes (gptmini.classificacao.add_classification_head), ajusta com
gptmini.classificacao.train_classifier nas mensagens de
treino (ficando com a época de maior acurácia na validação) e mede no teste. O checkpoint guarda
configuração, pesos e as métricas de teste, que a ficha técnica (dados/README.md) reproduz e um
teste confere. Depois, rode `python ferramentas/construir_dados.py` para atualizar o manifesto.
"""

import argparse
import json
import random
from datetime import date
from pathlib import Path

import torch
from construir_dados import sem_acentos  # ferramentas/, ao lado deste script

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
from gptmini.classificacao import (
    LABELS,
    add_classification_head,
    binary_metrics,
    freeze_for_finetuning,
    predict,
    train_classifier,
)

RAIZ = Path(__file__).resolve().parent.parent

DESTINO = RAIZ / "dados" / "modelos" / "classificador.pt"


def outras_grafias(mensagens: list[dict], semente: int = 0) -> list[dict]:
    """Uma cópia de cada mensagem numa grafia sorteada entre MAIÚSCULAS, minúsculas e sem acentos
    (só as que mudam o texto). No celular a mesma mensagem aparece assim, e o tokenizador, treinado
    num corpus de grafia cuidada, corta "VC GANHOU" em letras soltas (V, C, G, A, N...), enquanto
    "vc ganhou" tem o token " ganhou"."""
    sorteio = random.Random(semente)
    copias = []
    for m in mensagens:
        opcoes = sorted({f(m["texto"]) for f in (str.upper, str.lower, sem_acentos)} - {m["texto"]})
        if opcoes:
            copias.append({**m, "texto": sorteio.choice(opcoes)})
    return copias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epocas", type=int, default=8)
    parser.add_argument("--receita", default="tudo", choices=["cabeca", "ultimo_bloco", "tudo"])
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--grafias", action="store_true",
                        help="acrescenta ao treino uma cópia de cada mensagem em outra grafia")
    parser.add_argument("--fp16", action="store_true", help="grava os pesos em 16 bits (medidos assim)")
    args = parser.parse_args()
    tune_cpu_allocator()
    device = pick_device()
    seed_everything(123)
    tokenizer = load_tokenizer()
    particoes = read_splits("mensagens.jsonl")

    treino = particoes["treino"] + (outras_grafias(particoes["treino"]) if args.grafias else [])

    modelo = add_classification_head(load_pretrained("base", device)).to(device)
    treinaveis = freeze_for_finetuning(modelo, args.receita)
    historico = train_classifier(modelo, tokenizer, treino, particoes["validacao"], device,
                                 epochs=args.epocas, lr=args.lr)
    if args.fp16:  # as medidas publicadas são as dos pesos em 16 bits, que é o que o aluno baixa
        modelo.load_state_dict({nome: t.half().float() for nome, t in modelo.state_dict().items()})
    textos = [m["texto"] for m in particoes["teste"]]
    rotulos = torch.tensor([LABELS.index(m["rotulo"]) for m in particoes["teste"]])
    metricas = binary_metrics(predict(modelo, tokenizer, textos, device), rotulos)
    metricas = {k: (round(v, 5) if isinstance(v, float) else v) for k, v in metricas.items()}
    ficha = {"metricas_teste": metricas, "mensagens_teste": len(textos), "receita": args.receita,
             "mensagens_treino": len(treino), "outras_grafias": args.grafias,
             "parametros_treinaveis": treinaveis, "epocas": args.epocas, "lr": args.lr,
             "acuracia_validacao_por_epoca": [round(a, 5) for a in historico["val_accuracy"]],
             "epoca_escolhida": historico["best_epoch"],
             "segundos_de_treino": round(historico["seconds"]), "hardware": device_name(device),
             "torch": str(torch.__version__), "data": date.today().isoformat(),
             "comando": f"python ferramentas/treinar_classificador.py --epocas {args.epocas} "
                        f"--receita {args.receita} --lr {args.lr}" + (" --grafias" if args.grafias else "")
                        + (" --fp16" if args.fp16 else "")}
    for p in modelo.parameters():
        p.requires_grad = True
    modelo = modelo.cpu().eval()
    save_checkpoint(modelo.half() if args.fp16 else modelo, DESTINO, ficha=ficha)
    DESTINO.with_suffix(".json").write_text(json.dumps(ficha, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(ficha, ensure_ascii=False, indent=1))
    print(f"\nGravado: {DESTINO.relative_to(RAIZ)} ({DESTINO.stat().st_size / 2**20:.1f} MB). "
          "Agora rode: python ferramentas/construir_dados.py")


if __name__ == "__main__":
    main()
