"""gptmini: o GPT que o curso "Fazendo um LLM do Zero" constrói, capítulo a capítulo.

Gerado por ferramentas/sincronizar.py a partir dos notebooks dos capítulos. A API pública
é a de CURSO.md e o que os capítulos usam uns dos outros; o resto fica nos módulos
(`gptmini.treino.train`, por exemplo).
"""

from .ambiente import (
    device_name,
    fast_mode,
    pick_device,
    seed_everything,
    show_environment,
    thousands,
    tune_cpu_allocator,
)
from .dados import (
    END_OF_TEXT,
    cache_dir,
    data_file,
    read_corpus,
    read_splits,
)
from .ngramas import (
    best_count_model,
)
from .tokenizacao import (
    GPTDataset,
    create_dataloader,
    encode_documents,
    load_tokenizer,
)
from .modelo import (
    GPTConfig,
    GPTMini,
    MultiHeadAttention,
    PRESETS,
    PRETRAINED,
    eval_mode,
    filter_logits,
    generate,
    generate_batch,
    learner_checkpoint,
    load_base_model,
    load_checkpoint,
    load_pretrained,
    model_from_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from .treino import (
    TrainConfig,
    autocast_context,
    configure_optimizer,
    copy_weights,
    learning_rate,
    optimizer_step,
    set_learning_rate,
)
from .classificacao import (
    add_classification_head,
    classify,
    freeze_for_finetuning,
    last_token_logits,
)
from .instrucoes import (
    IGNORE_INDEX,
    VERIFIABLE_FAMILIES,
    collate_instructions,
    constant_answer_accuracy,
    encode_instruction,
    format_instruction,
    generate_responses,
    has_loop,
    instruction_metrics,
    respond,
    set_dropout,
    train_sft,
)
from . import preferencias  # noqa: F401
from .raciocinio import (
    extract_answer,
    solve,
)

__all__ = [
    "device_name",
    "fast_mode",
    "pick_device",
    "seed_everything",
    "show_environment",
    "thousands",
    "tune_cpu_allocator",
    "END_OF_TEXT",
    "cache_dir",
    "data_file",
    "read_corpus",
    "read_splits",
    "best_count_model",
    "GPTDataset",
    "create_dataloader",
    "encode_documents",
    "load_tokenizer",
    "GPTConfig",
    "GPTMini",
    "MultiHeadAttention",
    "PRESETS",
    "PRETRAINED",
    "eval_mode",
    "filter_logits",
    "generate",
    "generate_batch",
    "learner_checkpoint",
    "load_base_model",
    "load_checkpoint",
    "load_pretrained",
    "model_from_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "TrainConfig",
    "autocast_context",
    "configure_optimizer",
    "copy_weights",
    "learning_rate",
    "optimizer_step",
    "set_learning_rate",
    "add_classification_head",
    "classify",
    "freeze_for_finetuning",
    "last_token_logits",
    "IGNORE_INDEX",
    "VERIFIABLE_FAMILIES",
    "collate_instructions",
    "constant_answer_accuracy",
    "encode_instruction",
    "format_instruction",
    "generate_responses",
    "has_loop",
    "instruction_metrics",
    "respond",
    "set_dropout",
    "train_sft",
    "extract_answer",
    "solve",
]
