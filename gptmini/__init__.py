"""gptmini: o GPT que o curso "Fazendo um LLM do Zero" constrói, capítulo a capítulo.

Gerado por ferramentas/sincronizar.py a partir dos notebooks dos capítulos.
"""

from .ambiente import (
    DataFileError,
    MANIFEST,
    REPO_BRANCH,
    REPO_SLUG,
    cache_dir,
    data_file,
    data_manifest,
    data_url_base,
    device_name,
    fast_mode,
    file_sha256,
    local_data_dir,
    pick_device,
    seed_everything,
    show_environment,
    thousands,
)
from .intro import (
    CharNGramModel,
    END_OF_TEXT,
    read_corpus,
)
from .tokenizacao import (
    BPETokenizer,
    GPTDataset,
    PRETOKENIZE_PATTERN,
    SimpleTokenizer,
    create_dataloader,
    encode_documents,
    load_tokenizer,
    make_encoding,
    save_tokenizer,
    train_bpe,
)

__all__ = [
    "DataFileError",
    "MANIFEST",
    "REPO_BRANCH",
    "REPO_SLUG",
    "cache_dir",
    "data_file",
    "data_manifest",
    "data_url_base",
    "device_name",
    "fast_mode",
    "file_sha256",
    "local_data_dir",
    "pick_device",
    "seed_everything",
    "show_environment",
    "thousands",
    "CharNGramModel",
    "END_OF_TEXT",
    "read_corpus",
    "BPETokenizer",
    "GPTDataset",
    "PRETOKENIZE_PATTERN",
    "SimpleTokenizer",
    "create_dataloader",
    "encode_documents",
    "load_tokenizer",
    "make_encoding",
    "save_tokenizer",
    "train_bpe",
]
