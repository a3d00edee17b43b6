"""Treina o modelo base publicado, dados/modelos/base.pt, com o código do curso (gptmini.treino.train).

Uso:
    python ferramentas/treinar_base.py [--passos 3000] [--contexto 128] [--d-model 256] ...
    torchrun --nproc_per_node=N ferramentas/treinar_base.py ...   # N processos (GPUs ou núcleos)

O modelo tem, por padrão, as medidas do preset de CPU do capítulo 05 e treina por mais passos, com
mais dropout. Com torchrun, cada processo treina com a sua parte de cada lote (DistributedDataParallel:
gloo na CPU, nccl na GPU) e só o processo 0 escreve checkpoints e mensagens; o resultado é o de um
processo só com o lote inteiro. O treino roda em trechos de `--avaliar-a-cada` passos, retomando do estado do trecho
anterior (o mesmo mecanismo de retomada do capítulo 05, que dá exatamente a mesma curva de um treino
sem pausas); ao fim de cada trecho mede a validação, e o checkpoint publicado é o do trecho com a
menor perda de validação (parada antecipada). Ao fim de cada trecho, o estado do treino vai para
checkpoints/base-treino.pt: `--retomar` continua dali se o processo morrer. O checkpoint publicado
guarda configuração, pesos (em 16 bits com --fp16: metade do download, carregados em fp32) e as
métricas (perda, bits por caractere), que a ficha técnica (dados/README.md) reproduz e um teste
confere. Depois de treinar, rode `python ferramentas/construir_dados.py` para atualizar o manifesto.
"""

import argparse
import json
import math
import os
import platform
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
from gptmini.treino import bits_per_char, copy_weights, evaluate, load_training_state, save_training_state, train

RAIZ = Path(__file__).resolve().parent.parent

DESTINO = RAIZ / "dados" / "modelos" / "base.pt"
ESTADO = RAIZ / "checkpoints" / "base-treino.pt"  # para retomar (fora do git)


def iniciar_processos() -> tuple[torch.device, int]:
    """Sob torchrun, junta este processo aos outros e devolve (dispositivo, número do processo)."""
    if "RANK" not in os.environ:
        return pick_device(), 0
    cuda = torch.cuda.is_available()
    torch.distributed.init_process_group("nccl" if cuda else "gloo")
    local = int(os.environ["LOCAL_RANK"])
    if cuda:
        torch.cuda.set_device(local)
        return torch.device("cuda", local), torch.distributed.get_rank()
    # na CPU, os núcleos se dividem entre os processos
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ["WORLD_SIZE"])))
    return torch.device("cpu"), torch.distributed.get_rank()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passos", type=int, default=3000)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--avaliar-a-cada", type=int, default=250)
    parser.add_argument("--contexto", type=int, default=PRESETS["cpu"].context_length)
    parser.add_argument("--d-model", type=int, default=PRESETS["cpu"].d_model)
    parser.add_argument("--camadas", type=int, default=PRESETS["cpu"].n_layers)
    parser.add_argument("--cabecas", type=int, default=PRESETS["cpu"].n_heads)
    parser.add_argument("--lote", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--fp16", action="store_true", help="grava os pesos publicados em 16 bits")
    parser.add_argument("--destino", type=Path, default=DESTINO)
    parser.add_argument("--retomar", action="store_true", help=f"continua de {ESTADO.relative_to(RAIZ)}")
    args = parser.parse_args()
    tune_cpu_allocator()
    device, rank = iniciar_processos()
    seed_everything(42)
    tokenizer = load_tokenizer()
    docs_treino, docs_validacao = read_corpus("treino"), read_corpus("validacao")
    ids_treino = encode_documents(tokenizer, docs_treino)
    ids_validacao = encode_documents(tokenizer, docs_validacao)
    caracteres_por_token = len("\n\n".join(docs_validacao)) / len(ids_validacao)

    config_modelo = replace(PRESETS["cpu"], dropout=args.dropout, context_length=args.contexto, d_model=args.d_model,
                            n_layers=args.camadas, n_heads=args.cabecas)
    config_treino = TrainConfig(max_steps=args.passos, batch_size=args.lote, lr=args.lr, warmup_steps=100,
                                eval_interval=args.avaliar_a_cada, sample_interval=1000)
    torch.manual_seed(42)
    modelo, estado, melhor = GPTMini(config_modelo).to(device), None, (float("inf"), 0, None)
    if args.retomar:
        modelo, estado, config_treino = load_training_state(ESTADO, device)
        config_modelo = modelo.config
        guardado = torch.load(ESTADO, map_location="cpu", weights_only=True)["melhor"]
        melhor = (guardado["perda"], guardado["passo"], guardado["pesos"])
        if rank == 0:
            print(f"Retomando do passo {estado.step} (melhor até aqui: passo {melhor[1]}, {melhor[0]:.4f})")
    rede = modelo
    if torch.distributed.is_initialized():
        rede = torch.nn.parallel.DistributedDataParallel(modelo, device_ids=[device.index] if device.type == "cuda"
                                                         else None)
    primeiro = (estado.step if estado else 0) + args.avaliar_a_cada
    for fim in range(primeiro, config_treino.max_steps + 1, args.avaliar_a_cada):
        estado = train(rede, ids_treino, ids_validacao, config_treino, device, state=estado,
                       tokenizer=tokenizer, stop_at=fim, progress=rank == 0)
        perda = estado.history["val_loss"][-1]  # train() acabou de medir a validação no fim do trecho
        if perda < melhor[0]:
            melhor = (perda, fim, copy_weights(modelo))
        if rank == 0:
            print(f"passo {fim}: validação {perda:.4f} (melhor até aqui: passo {melhor[1]}, {melhor[0]:.4f})",
                  flush=True)
            ESTADO.parent.mkdir(parents=True, exist_ok=True)
            save_training_state(ESTADO, modelo, estado, config_treino,
                                melhor={"perda": melhor[0], "passo": melhor[1], "pesos": melhor[2]})
    if rank > 0:
        torch.distributed.destroy_process_group()
        return
    segundos = estado.history["seconds"]  # o tempo de train(), somado entre retomadas
    modelo.load_state_dict(melhor[2])
    if args.fp16:  # as medidas publicadas são as dos pesos em 16 bits, que é o que o aluno baixa
        modelo.load_state_dict({nome: t.half().float() for nome, t in melhor[2].items()})

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
                   f"--avaliar-a-cada {args.avaliar_a_cada} --contexto {args.contexto} --d-model {args.d_model} "
                   f"--camadas {args.camadas} --cabecas {args.cabecas} --lote {args.lote} --lr {args.lr}"
                   + (" --fp16" if args.fp16 else ""),
        "amostra": amostra,
    }
    destino = args.destino
    destino.parent.mkdir(parents=True, exist_ok=True)
    modelo = modelo.eval().cpu()
    if args.fp16:  # metade do tamanho; load_checkpoint copia de volta para os parâmetros em fp32
        modelo = modelo.half()
    save_checkpoint(modelo, destino, metricas=metricas, train_config=asdict(config_treino))
    (destino.with_suffix(".json")).write_text(
        json.dumps({"config": asdict(config_modelo), "treino": asdict(config_treino), "metricas": metricas,
                    "curva_validacao": list(zip(estado.history["val_step"],
                                                [round(v, 4) for v in estado.history["val_loss"]]))},
                   ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(metricas, ensure_ascii=False, indent=1))
    print(f"\nGravado: {destino} ({destino.stat().st_size / 2**20:.1f} MB). "
          "Agora rode: python ferramentas/construir_dados.py")
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
