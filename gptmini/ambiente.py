"""O ambiente: dispositivo, sementes, modo rápido e ajustes da CPU.

Gerado das células "#| export ambiente" de 00-setup por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import ctypes
import os
import platform
import random

import numpy as np
import torch


def pick_device() -> torch.device:
    """CUDA se houver; MPS só se pedida (GPTMINI_MPS=1); senão, CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if os.environ.get("GPTMINI_MPS") == "1" and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """Um nome legível para o dispositivo, para registrar junto com os tempos medidos."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "GPU Apple (MPS)"
    return f"CPU {platform.machine()} com {os.cpu_count()} núcleos lógicos"


def seed_everything(seed: int = 42) -> None:
    """Fixa as sementes do Python, do NumPy e do PyTorch (CPU e GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def thousands(n: int) -> str:
    """Inteiros no jeito brasileiro de escrever: 1234567 -> '1.234.567'."""
    return f"{n:_}".replace("_", ".")


def fast_mode() -> bool:
    """Modo rápido (GPTMINI_RAPIDO=1): os mesmos passos, com tamanhos mínimos."""
    return os.environ.get("GPTMINI_RAPIDO", "0") == "1"


def show_environment(device: torch.device) -> None:
    """Mostra versões, dispositivo e modo: o que é preciso para reproduzir um resultado."""
    import matplotlib
    import tiktoken

    print(f"Python {platform.python_version()} · torch {torch.__version__} · "
          f"tiktoken {tiktoken.__version__} · numpy {np.__version__} · "
          f"matplotlib {matplotlib.__version__}")
    print(f"Dispositivo: {device} ({device_name(device)}) · threads na CPU: {torch.get_num_threads()}")
    print("Modo rápido (GPTMINI_RAPIDO=1):", "ligado" if fast_mode() else "desligado")


def tune_cpu_allocator() -> bool:
    """No Linux, faz o malloc reaproveitar blocos grandes em vez de devolvê-los ao sistema a cada uso.

    Devolve True se o ajuste foi feito. Custo: a memória liberada fica com o processo.
    """
    if platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # Linux sem a glibc (Alpine, por exemplo)
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # constantes de malloc.h
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
