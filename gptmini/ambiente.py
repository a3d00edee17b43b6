"""Capítulo 00: A oficina: ambiente, tensores e o primeiro loop de treino.

Gerado de 00-setup/notebook.ipynb por ferramentas/sincronizar.py: edite o notebook, não este arquivo.
"""

import ctypes
import hashlib
import json
import os
import platform
import random
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm


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


REPO_SLUG = "vongrossi/fazendo-um-llm-do-zero"  # num fork, troque só esta linha
REPO_BRANCH = "main"
MANIFEST = "manifesto.json"


def thousands(n: int) -> str:
    """Inteiros no jeito brasileiro de escrever: 1234567 -> '1.234.567'."""
    return f"{n:_}".replace("_", ".")


def fast_mode() -> bool:
    """Modo rápido (GPTMINI_RAPIDO=1): os mesmos passos, com tamanhos mínimos."""
    return os.environ.get("GPTMINI_RAPIDO", "0") == "1"


class DataFileError(RuntimeError):
    """Um arquivo de dados não pôde ser obtido: ausente, corrompido ou servidor inacessível."""


def data_url_base() -> str:
    """De onde baixar os dados: GPTMINI_URL_BASE, ou o repositório publicado no GitHub."""
    published = f"https://raw.githubusercontent.com/{REPO_SLUG}/{REPO_BRANCH}"
    return os.environ.get("GPTMINI_URL_BASE", published).rstrip("/")


def local_data_dir() -> Path | None:
    """A pasta dados/ do repositório quando rodamos dentro de um clone; None no Colab."""
    candidates = [Path(os.environ["GPTMINI_DADOS"])] if os.environ.get("GPTMINI_DADOS") else []
    if "__file__" in globals():  # importado como gptmini/ambiente.py
        candidates.append(Path(__file__).resolve().parent.parent / "dados")
    cwd = Path.cwd().resolve()
    candidates += [folder / "dados" for folder in (cwd, *cwd.parents)]
    return next((c for c in candidates if (c / MANIFEST).is_file()), None)


def cache_dir() -> Path:
    return Path(os.environ.get("GPTMINI_CACHE", Path.home() / ".cache" / "gptmini"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _open_url(url: str, name: str):
    """Abre a URL ou explica, em português, por que não deu."""
    try:
        return urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as error:
        raise DataFileError(f"Não consegui baixar '{name}' de {url}: o servidor respondeu "
                            f"{error.code} ({error.reason}).") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataFileError(f"Não consegui me conectar a {url} para baixar '{name}' ({reason}). "
                            "Confira a internet ou a variável GPTMINI_URL_BASE.") from None


_manifests: dict[str, dict] = {}


def data_manifest() -> dict:
    """O manifesto dos dados: nome de cada arquivo, tamanho em bytes e SHA-256."""
    local = local_data_dir()
    if local is not None:
        return json.loads((local / MANIFEST).read_text(encoding="utf-8"))
    base = data_url_base()
    if base not in _manifests:
        url = f"{base}/dados/{MANIFEST}"
        with _open_url(url, MANIFEST) as response:
            try:
                _manifests[base] = json.loads(response.read().decode("utf-8"))
            except ValueError:
                raise DataFileError(f"O manifesto baixado de {url} não é um JSON válido.") from None
    return _manifests[base]


def data_file(name: str) -> Path:
    """Caminho local de um arquivo de dados/: a cópia do repositório ou um download conferido."""
    local = local_data_dir()
    if local is not None and (local / name).is_file():
        return local / name
    entry = data_manifest()["arquivos"].get(name)
    if entry is None:
        raise DataFileError(f"'{name}' não está no manifesto dados/{MANIFEST}. "
                            f"Disponíveis: {', '.join(sorted(data_manifest()['arquivos']))}.")
    target = cache_dir() / entry["sha256"][:16] / name
    if target.is_file():  # já baixado e conferido antes
        return target
    url = f"{data_url_base()}/dados/{urllib.parse.quote(name)}"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".parcial")
    try:
        with _open_url(url, name) as response, open(partial, "wb") as out, tqdm(
                total=entry["bytes"], unit="B", unit_scale=True, desc=f"baixando {name}",
                disable=entry["bytes"] < 2**20) as bar:
            while block := response.read(1 << 16):
                out.write(block)
                bar.update(len(block))
        got = file_sha256(partial)
        if got != entry["sha256"]:
            raise DataFileError(f"O arquivo '{name}' baixado de {url} veio corrompido: SHA-256 "
                                f"{got[:12]}… em vez de {entry['sha256'][:12]}…. Nada foi guardado "
                                "no cache; tente de novo.")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


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
