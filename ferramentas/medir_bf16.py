"""Quanto o bf16 acelera o treino nesta CPU: um passo de treino do preset de CPU (8 janelas de 256 tokens,
AdamW, corte do gradiente) com e sem autocast em bf16, mediana de 10 passos depois de 3 de aquecimento.

Uso:
    python ferramentas/medir_bf16.py

É a medida citada no README principal ("bf16 na CPU"). Rode sem outro processo pesado na máquina.
"""

import statistics
import time

import torch
import torch.nn.functional as F

from gptmini import PRESETS, GPTMini, TrainConfig, configure_optimizer, optimizer_step, tune_cpu_allocator


def segundos_por_passo(bf16: bool, passos: int = 10, aquecimento: int = 3) -> float:
    torch.manual_seed(0)
    modelo = GPTMini(PRESETS["cpu"]).train()
    otimizador = configure_optimizer(modelo, TrainConfig(), torch.device("cpu"))
    sem_escala = torch.amp.GradScaler("cuda", enabled=False)  # bf16 não precisa de escala da perda
    x, y = (torch.randint(0, PRESETS["cpu"].vocab_size, (8, PRESETS["cpu"].context_length)) for _ in range(2))
    tempos = []
    for i in range(aquecimento + passos):
        inicio = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = modelo(x)
        perda = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        optimizer_step(modelo, otimizador, sem_escala, perda, grad_clip=1.0)
        if i >= aquecimento:
            tempos.append(time.perf_counter() - inicio)
    return statistics.median(tempos)


if __name__ == "__main__":
    tune_cpu_allocator()
    bf16, fp32 = segundos_por_passo(True), segundos_por_passo(False)
    print(f"um passo do preset de CPU: bf16 {bf16:.2f} s · fp32 {fp32:.2f} s ({fp32 / bf16:.2f}× em bf16)")
