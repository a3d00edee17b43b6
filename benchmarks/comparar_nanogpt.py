"""O passo de treino do GPTMini lado a lado com o do nanoGPT, no mesmo processo e nas mesmas medidas.

Uso:
    python benchmarks/comparar_nanogpt.py --nanogpt CAMINHO/nanoGPT/model.py [--pares 8]

O model.py vem de um clone de https://github.com/karpathy/nanoGPT (licença MIT); o curso não guarda
uma cópia dele. Medidas da questão de desempenho: vocabulário de 8192, contexto de 128, d_model 256,
4 camadas, 4 cabeças, lote de 16, fp32, sem dropout, AdamW (lr 3e-4) com os parâmetros de cada
modelo. Os dois passos se alternam em pares (GPTMini, nanoGPT, GPTMini, ...), cada um a mediana de
alguns passos; a razão é a mediana das razões dos pares, o que desconta os soluços da máquina.
Também mede o passo com as escolhas do curso (configure_optimizer e autocast_context: AdamW fused e
bf16 onde a CPU compensa), em relação ao mesmo nanoGPT em fp32.
"""

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import torch

from velocidade import passo_de_treino  # roda como script: a pasta benchmarks/ está no caminho

from gptmini import GPTConfig

VOCAB, CONTEXTO, D_MODEL, CAMADAS, CABECAS, LOTE = 8192, 128, 256, 4, 4, 16


def carregar_nanogpt(caminho: Path):
    if not caminho.is_file():
        raise SystemExit(f"Não achei {caminho}. Clone https://github.com/karpathy/nanoGPT e passe o model.py.")
    spec = importlib.util.spec_from_file_location("nanogpt_model", caminho)
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    return modulo


def passo_gptmini(do_curso: bool):
    cfg = GPTConfig(vocab_size=VOCAB, context_length=CONTEXTO, d_model=D_MODEL, n_layers=CAMADAS, n_heads=CABECAS,
                    dropout=0.0)
    return passo_de_treino(cfg, LOTE, do_curso)[0]  # o mesmo passo de benchmarks/velocidade.py


def passo_nanogpt(modulo):
    torch.manual_seed(0)
    modelo = modulo.GPT(modulo.GPTConfig(block_size=CONTEXTO, vocab_size=VOCAB, n_layer=CAMADAS, n_head=CABECAS,
                                         n_embd=D_MODEL, dropout=0.0)).train()
    otimizador = torch.optim.AdamW(modelo.parameters(), lr=3e-4)
    x, y = torch.randint(VOCAB, (LOTE, CONTEXTO)), torch.randint(VOCAB, (LOTE, CONTEXTO))

    def passo():
        _, perda = modelo(x, y)
        otimizador.zero_grad(set_to_none=True)
        perda.backward()
        otimizador.step()

    return passo


def mediana_do_passo(passo, n: int = 5) -> float:
    tempos = []
    for _ in range(n):
        inicio = time.perf_counter()
        passo()
        tempos.append(time.perf_counter() - inicio)
    return statistics.median(tempos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nanogpt", type=Path, required=True, help="o model.py de um clone do nanoGPT")
    parser.add_argument("--pares", type=int, default=8)
    args = parser.parse_args()
    modulo = carregar_nanogpt(args.nanogpt)
    passos = {"GPTMini (fp32, AdamW)": passo_gptmini(False), "GPTMini (escolhas do curso)": passo_gptmini(True),
              "nanoGPT (fp32, AdamW)": passo_nanogpt(modulo)}
    for passo in passos.values():  # aquecimento
        for _ in range(3):
            passo()
    tempos = {nome: [] for nome in passos}
    for _ in range(args.pares):
        for nome, passo in passos.items():
            tempos[nome].append(mediana_do_passo(passo))
    nano = tempos["nanoGPT (fp32, AdamW)"]
    print(f"torch {torch.__version__} · {torch.get_num_threads()} threads · lote {LOTE} × {CONTEXTO} tokens · "
          f"{args.pares} pares")
    print(f"{'modelo':<30} {'ms/passo':>9} {'tokens/s':>9} {'razão ao nanoGPT':>17}")
    for nome, lista in tempos.items():
        razao = statistics.median(a / b for a, b in zip(lista, nano))
        mediana = statistics.median(lista)
        print(f"{nome:<30} {mediana * 1000:>9.0f} {LOTE * CONTEXTO / mediana:>9.0f} {razao:>16.2f}×")


if __name__ == "__main__":
    main()
