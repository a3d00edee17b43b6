"""Os dados do curso: manifesto, download conferido por SHA-256, corpus e conjuntos em JSONL.

Gerado das células "#| export dados" de 00-setup, 01-intro, 06-classificacao por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import functools
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm


REPO_SLUG = "vongrossi/fazendo-um-llm-do-zero"  # num fork, troque só esta linha


REPO_BRANCH = "main"


MANIFEST = "manifesto.json"


class DataFileError(RuntimeError):
    """Um arquivo de dados não pôde ser obtido: ausente, corrompido ou servidor inacessível."""


def data_url_base() -> str:
    """De onde baixar os dados: GPTMINI_URL_BASE, ou o repositório publicado no GitHub."""
    published = f"https://raw.githubusercontent.com/{REPO_SLUG}/{REPO_BRANCH}"
    return os.environ.get("GPTMINI_URL_BASE", published).rstrip("/")


def local_data_dir() -> Path | None:
    """A pasta dados/ do repositório quando rodamos dentro de um clone; None no Colab."""
    candidates = [Path(os.environ["GPTMINI_DADOS"])] if os.environ.get("GPTMINI_DADOS") else []
    if "__file__" in globals():  # importado como gptmini/dados.py
        candidates.append(Path(__file__).resolve().parent.parent / "dados")
    cwd = Path.cwd().resolve()
    candidates += [folder / "dados" for folder in (cwd, *cwd.parents)]
    return next((c for c in candidates if (c / MANIFEST).is_file()), None)


def cache_dir() -> Path:
    return Path(os.environ.get("GPTMINI_CACHE", Path.home() / ".cache" / "gptmini"))


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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


@functools.cache  # um download do manifesto por endereço, por sessão
def _published_manifest(base: str) -> dict:
    url = f"{base}/dados/{MANIFEST}"
    with _open_url(url, MANIFEST) as response:
        try:
            return json.loads(response.read().decode("utf-8"))
        except ValueError:
            raise DataFileError(f"O manifesto baixado de {url} não é um JSON válido.") from None


def data_manifest() -> dict:
    """O manifesto dos dados: nome de cada arquivo, tamanho em bytes e SHA-256."""
    local = local_data_dir()
    if local is not None:
        return json.loads((local / MANIFEST).read_text(encoding="utf-8"))
    return _published_manifest(data_url_base())


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


END_OF_TEXT = "<|endoftext|>"


def read_corpus(split: str) -> list[str]:
    """Os documentos do corpus do curso; split é "treino" ou "validacao"."""
    if split not in ("treino", "validacao"):
        raise ValueError(f"split deve ser 'treino' ou 'validacao', não {split!r}")
    text = data_file(f"corpus_{split}.txt").read_text(encoding="utf-8")
    return [doc.strip() for doc in text.split(END_OF_TEXT) if doc.strip()]


def read_splits(name: str) -> dict[str, list[dict]]:
    """As partições de um conjunto de exemplos de dados/ em JSONL (um exemplo por linha, com o campo
    "particao"): {"treino": [...], "validacao": [...], "teste": [...]}. Os capítulos 06 e 07 usam."""
    rows = [json.loads(line) for line in data_file(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return {split: [r for r in rows if r["particao"] == split] for split in ("treino", "validacao", "teste")}
