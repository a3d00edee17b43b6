"""Velocidade do GPTMini nesta máquina: treino (tokens/s e fração do pico de matmul) e geração.

Uso:  python benchmarks/velocidade.py [--threads N] [--passos 10]

Treino: um passo completo (forward, backward e AdamW) num lote de 16 janelas de 128 tokens,
no preset da questão de desempenho (vocabulário de 8192, d_model 256, 4 camadas, 4 cabeças) e no
preset de CPU do curso (vocabulário de 4096). FLOPs por token de treino, na convenção do PaLM:

    6 * N  +  12 * n_layers * context_length * d_model

onde N conta os pesos que entram em multiplicações de matrizes (os blocos e a cabeça de saída; a
consulta à tabela de embeddings não multiplica nada) e o segundo termo é a atenção (Q·Kᵀ e pesos·V,
ida e volta). O pico é o melhor GFLOP/s medido em multiplicações de matrizes quadradas fp32.
Como nos notebooks, o alocador de memória é ajustado antes (tune_cpu_allocator, capítulo 00);
--sem-ajuste mede sem ele.

Treino com as escolhas do curso: o mesmo passo com o otimizador de configure_optimizer (AdamW
fused) e a precisão de autocast_context (bf16 na CPU quando ela tem instruções para isso).

Geração: 200 tokens novos, lote 1, gulosa, com e sem KV cache, num modelo com as medidas do preset
de CPU e contexto de 256 tokens (para os 200 tokens caberem no contexto). Em lote: 32 prompts de 5 a
60 tokens, 64 tokens novos cada, um por vez (generate) e todos juntos (generate_batch).
"""

import argparse
import statistics
import time

import torch

from gptmini import GPTConfig, GPTMini, generate, generate_batch, load_tokenizer, read_corpus, tune_cpu_allocator
from gptmini.treino import TrainConfig, autocast_context, configure_optimizer


def pico_matmul_gflops() -> tuple[float, int]:
    melhor = (0.0, 0)
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        repeticoes = max(3, int(2e10 / (2 * n**3)))
        inicio = time.perf_counter()
        for _ in range(repeticoes):
            a @ b
        gflops = 2 * n**3 * repeticoes / (time.perf_counter() - inicio) / 1e9
        melhor = max(melhor, (gflops, n))
    return melhor


def flops_por_token(cfg: GPTConfig, modelo: GPTMini) -> float:
    n_matmul = sum(p.numel() for nome, p in modelo.blocks.named_parameters() if p.dim() == 2)
    n_matmul += cfg.vocab_size * cfg.d_model  # a cabeça de saída (amarrada ao embedding)
    return 6 * n_matmul + 12 * cfg.n_layers * cfg.context_length * cfg.d_model


def passo_de_treino(cfg: GPTConfig, lote: int, do_curso: bool = False):
    """Um passo de treino (ida, perda, volta, AdamW) num lote fixo; devolve (passo, modelo).
    Sem do_curso: AdamW simples e fp32. Com do_curso: configure_optimizer e autocast_context."""
    torch.manual_seed(0)
    modelo = GPTMini(cfg).train()
    if do_curso:
        otimizador = configure_optimizer(modelo, TrainConfig(lr=3e-4), torch.device("cpu"))
        autocast, _ = autocast_context(torch.device("cpu"))
    else:
        otimizador = torch.optim.AdamW(modelo.parameters(), lr=3e-4, weight_decay=0.1)
        autocast = torch.autocast("cpu", enabled=False)
    x = torch.randint(0, cfg.vocab_size, (lote, cfg.context_length))
    y = torch.randint(0, cfg.vocab_size, (lote, cfg.context_length))

    def passo():
        with autocast:
            logits = modelo(x)
        perda = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        otimizador.zero_grad(set_to_none=True)
        perda.backward()
        otimizador.step()

    return passo, modelo


def tokens_por_segundo_treino(cfg: GPTConfig, lote: int, passos: int, do_curso: bool = False) -> tuple:
    """Tokens por segundo (a mediana dos passos) e o modelo medido."""
    passo, modelo = passo_de_treino(cfg, lote, do_curso)
    for _ in range(3):  # aquecimento
        passo()
    tempos = []
    for _ in range(passos):  # a mediana dos passos resiste a soluços da máquina
        inicio = time.perf_counter()
        passo()
        tempos.append(time.perf_counter() - inicio)
    return lote * cfg.context_length / statistics.median(tempos), modelo


def geracao(cfg: GPTConfig, prompt: list[int], novos: int, repeticoes: int = 3) -> dict[bool, float]:
    torch.manual_seed(0)
    modelo = GPTMini(cfg).eval()
    idx = torch.tensor([prompt])
    resultado = {}
    for use_cache in (True, False):
        generate(modelo, idx, 8, use_cache=use_cache)  # aquecimento
        inicio = time.perf_counter()
        for _ in range(repeticoes):
            saida = generate(modelo, idx, novos, use_cache=use_cache)
        resultado[use_cache] = novos * repeticoes / (time.perf_counter() - inicio)
        resultado[f"saida_{use_cache}"] = saida
    assert torch.equal(resultado["saida_True"], resultado["saida_False"]), "cache mudou a saída"
    return resultado


def lote_contra_um_por_vez(cfg: GPTConfig, prompts: list[list[int]], novos: int) -> dict:
    torch.manual_seed(0)
    modelo = GPTMini(cfg).eval()
    generate_batch(modelo, prompts[:2], 4)  # aquecimento
    inicio = time.perf_counter()
    um = [generate(modelo, torch.tensor([p]), novos)[0, len(p):].tolist() for p in prompts]
    segundos_um = time.perf_counter() - inicio
    inicio = time.perf_counter()
    lote = generate_batch(modelo, prompts, novos)
    segundos_lote = time.perf_counter() - inicio
    total = len(prompts) * novos
    return {"um": total / segundos_um, "lote": total / segundos_lote, "iguais": um == lote}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--passos", type=int, default=15)
    parser.add_argument("--sem-ajuste", action="store_true", help="não chama tune_cpu_allocator (capítulo 00)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ajuste = "" if args.sem_ajuste or not tune_cpu_allocator() else " · alocador ajustado (tune_cpu_allocator)"
    print(f"torch {torch.__version__} · {args.threads} threads · fp32 · CPU{ajuste}")

    pico, n = pico_matmul_gflops()
    print(f"\nPico de matmul fp32 medido: {pico:.1f} GFLOP/s (matrizes {n}×{n})")

    print(f"\nTreino (lote 16 × 128 tokens, forward + backward + AdamW, {args.passos} passos):")
    print(f"{'vocabulário':>11} {'dropout':>8} {'tokens/s':>9} {'MFLOP/token':>12} {'GFLOP/s':>8} {'% do pico':>10}")
    for vocab in (8192, 4096):
        for dropout in (0.0, 0.1):
            cfg = GPTConfig(vocab_size=vocab, dropout=dropout)
            tps, modelo = tokens_por_segundo_treino(cfg, lote=16, passos=args.passos)
            f = flops_por_token(cfg, modelo)
            print(f"{vocab:>11} {dropout:>8} {tps:>9.0f} {f / 1e6:>12.1f} {tps * f / 1e9:>8.1f} "
                  f"{tps * f / 1e9 / pico:>9.0%}")

    _, tipo = autocast_context(torch.device("cpu"))
    cfg = GPTConfig(vocab_size=4096, dropout=0.1)
    tps_simples, _ = tokens_por_segundo_treino(cfg, lote=16, passos=args.passos)
    tps_curso, _ = tokens_por_segundo_treino(cfg, lote=16, passos=args.passos, do_curso=True)
    print(f"\nTreino com as escolhas do curso (vocabulário 4096, dropout 0.1): AdamW fused e precisão "
          f"{tipo or 'fp32'}: {tps_curso:.0f} tokens/s, {tps_curso / tps_simples:.2f}× o passo simples "
          f"({tps_simples:.0f} tokens/s)")

    tokenizer = load_tokenizer()
    texto = read_corpus("validacao")[0]
    cfg_geracao = GPTConfig(context_length=256)
    print("\nGeração de 200 tokens, lote 1, gulosa (medidas do preset de CPU, contexto de 256 tokens):")
    print(f"{'prompt':>14} {'com cache':>12} {'sem cache':>12} {'ganho':>7}")
    for n_prompt in (5, 56):
        prompt = tokenizer.encode_ordinary(texto)[:n_prompt]
        r = geracao(cfg_geracao, prompt, 200)
        print(f"{n_prompt:>7} tokens {r[True]:>8.0f} t/s {r[False]:>8.0f} t/s {r[True] / r[False]:>6.1f}×")

    documentos = read_corpus("validacao")
    prompts = [tokenizer.encode_ordinary(documentos[i % len(documentos)])[: 5 + (i * 7) % 56] for i in range(32)]
    r = lote_contra_um_por_vez(GPTConfig(), prompts, 64)
    print(f"\nGeração em lote: 32 prompts de {min(map(len, prompts))} a {max(map(len, prompts))} tokens, 64 novos "
          f"cada, gulosa (preset de CPU): um por vez {r['um']:.0f} tokens/s · em lote {r['lote']:.0f} tokens/s · "
          f"{r['lote'] / r['um']:.1f}× mais rápido (mesma saída: {r['iguais']})")


if __name__ == "__main__":
    main()
