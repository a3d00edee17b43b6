"""Classificação: a cabeça de classes, o ajuste fino e as métricas.

Gerado das células "#| export classificacao" de 06-classificacao por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import copy
import dataclasses
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from .modelo import GPTMini, eval_mode
from .treino import (
    TrainConfig,
    autocast_context,
    configure_optimizer,
    copy_weights,
    learning_rate,
    optimizer_step,
    set_learning_rate,
)


LABELS = ("normal", "spam")  # o índice de cada classe


def add_classification_head(model: GPTMini, num_classes: int = len(LABELS)) -> GPTMini:
    """Uma cópia do modelo com a cabeça de saída trocada por uma de num_classes logits. A configuração
    passa a dizer num_classes: save_checkpoint e load_checkpoint tratam o classificador como qualquer GPTMini."""
    classifier = copy.deepcopy(model)
    classifier.config = dataclasses.replace(model.config, num_classes=num_classes)
    classifier.out_head = nn.Linear(model.config.d_model, num_classes)  # nova, e não mais amarrada
    return classifier


def encode_messages(tokenizer, texts: list[str], max_length: int, pad_id: int):
    """Tokeniza, corta, termina cada mensagem com <|endoftext|> e completa à direita com pad_id;
    devolve (ids, comprimentos reais)."""
    encoded = [ids[: max_length - 1] + [tokenizer.eot_token] for ids in tokenizer.encode_ordinary_batch(texts)]
    lengths = torch.tensor([len(ids) for ids in encoded])
    batch = torch.full((len(encoded), int(lengths.max())), pad_id, dtype=torch.long)
    for i, ids in enumerate(encoded):
        batch[i, : len(ids)] = torch.tensor(ids)
    return batch, lengths


def last_token_logits(model: GPTMini, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Os logits da última posição real de cada sequência (lote, classes)."""
    logits = model(ids)  # (lote, tokens, classes)
    return logits[torch.arange(len(ids), device=ids.device), lengths.to(ids.device) - 1]


def message_batches(tokenizer, messages: list[dict], batch_size: int, max_length: int, shuffle: bool,
                    seed: int = 0):
    """Lotes (ids, comprimentos, rótulos); embaralhados de forma reprodutível se shuffle."""
    order = torch.randperm(len(messages), generator=torch.Generator().manual_seed(seed)) if shuffle \
        else torch.arange(len(messages))
    for start in range(0, len(messages), batch_size):
        chunk = [messages[i] for i in order[start:start + batch_size].tolist()]
        ids, lengths = encode_messages(tokenizer, [m["texto"] for m in chunk], max_length, tokenizer.eot_token)
        yield ids, lengths, torch.tensor([LABELS.index(m["rotulo"]) for m in chunk])


@torch.no_grad()
def predict(model: GPTMini, tokenizer, texts: list[str], device, batch_size: int = 64) -> torch.Tensor:
    """A classe prevista (índice em LABELS) para cada texto."""
    predictions = []
    with eval_mode(model):
        for start in range(0, len(texts), batch_size):
            ids, lengths = encode_messages(tokenizer, texts[start:start + batch_size], model.config.context_length,
                                           tokenizer.eot_token)
            predictions.append(last_token_logits(model, ids.to(device), lengths).argmax(-1).cpu())
    return torch.cat(predictions)


def train_classifier(model: GPTMini, tokenizer, train_set: list[dict], val_set: list[dict], device, epochs: int = 3,
                     lr: float = 5e-4, batch_size: int = 16, weight_decay: float = 0.01, progress: bool = True):
    """Ajuste fino para classificação com as peças do capítulo 05: o otimizador (só os parâmetros
    treináveis, weight decay só nas matrizes), a taxa com aquecimento e cosseno, a precisão mista na GPU
    e o passo com corte do gradiente. No fim, o modelo fica com os pesos da época de maior acurácia na
    validação. Devolve o histórico (perda por passo, acurácia por época, época escolhida)."""
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    schedule = TrainConfig(max_steps=epochs * steps_per_epoch, batch_size=batch_size, lr=lr,
                           warmup_steps=max(1, steps_per_epoch // 2), weight_decay=weight_decay)
    optimizer = configure_optimizer(model, schedule, device)
    autocast, dtype = autocast_context(device)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    history = {"loss": [], "val_accuracy": [], "best_epoch": 0, "seconds": 0.0}
    val_labels = torch.tensor([LABELS.index(m["rotulo"]) for m in val_set])
    best_state, step, start = None, 0, time.perf_counter()
    for epoch in range(epochs):
        model.train()
        batches = message_batches(tokenizer, train_set, batch_size, model.config.context_length, True, seed=epoch)
        bar = tqdm(batches, total=steps_per_epoch, desc=f"época {epoch + 1}/{epochs}", disable=not progress,
                   mininterval=1)
        for ids, lengths, labels in bar:
            set_learning_rate(optimizer, learning_rate(step, schedule))
            with autocast:
                logits = last_token_logits(model, ids.to(device), lengths)
            loss = F.cross_entropy(logits.float(), labels.to(device))
            optimizer_step(model, optimizer, scaler, loss, schedule.grad_clip)
            history["loss"].append(loss.item())
            bar.set_postfix(perda=f"{history['loss'][-1]:.3f}")
            step += 1
        predictions = predict(model, tokenizer, [m["texto"] for m in val_set], device)
        history["val_accuracy"].append((predictions == val_labels).float().mean().item())
        if history["val_accuracy"][-1] > max(history["val_accuracy"][:-1], default=-1.0):
            history["best_epoch"] = epoch + 1
            best_state = copy_weights(model)  # a melhor época até aqui
        if progress:
            print(f"época {epoch + 1}: acurácia na validação {history['val_accuracy'][-1]:.1%}")
    model.load_state_dict(best_state)
    if progress:
        print(f"ficamos com a época {history['best_epoch']} ({max(history['val_accuracy']):.1%} na validação)")
    history["seconds"] = time.perf_counter() - start
    return history


def freeze_for_finetuning(model: GPTMini, trainable: str) -> int:
    """Congela o modelo, exceto: "cabeca", "ultimo_bloco" (cabeça + último bloco + norma final) ou
    "tudo"; devolve quantos parâmetros ficam treináveis."""
    parts = {"cabeca": [model.out_head], "ultimo_bloco": [model.out_head, model.blocks[-1], model.final_norm],
             "tudo": [model]}
    if trainable not in parts:
        raise ValueError(f"trainable deve ser um de {list(parts)}, não {trainable!r}")
    for p in model.parameters():
        p.requires_grad = False
    for module in parts[trainable]:
        for p in module.parameters():
            p.requires_grad = True
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


LORA_TARGETS = {"att": ("qkv", "out_proj"), "ff": ("expand", "proj")}  # as camadas lineares de cada bloco


class LoRALinear(nn.Module):
    """Uma nn.Linear congelada mais uma correção de posto baixo treinável: W x + b + (alpha / r) · B A x."""

    def __init__(self, linear: nn.Linear, rank: int = 8, alpha: float = 16.0):
        super().__init__()
        if not isinstance(linear, nn.Linear) or rank < 1:
            raise ValueError(f"LoRALinear envolve uma nn.Linear com rank >= 1, não {type(linear).__name__}, {rank}")
        self.linear = linear.requires_grad_(False)  # os pesos do pré-treino não mudam
        device = linear.weight.device
        # A aleatória e B em zero: no início B A = 0, e a camada é exatamente a original
        self.A = nn.Parameter(torch.randn(rank, linear.in_features, device=device) / math.sqrt(linear.in_features))
        self.B = nn.Parameter(torch.zeros(linear.out_features, rank, device=device))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.scale * (x @ self.A.T @ self.B.T)

    def extra_repr(self) -> str:
        return f"rank={self.A.shape[0]}, scale={self.scale}"


def add_lora(model: GPTMini, rank: int = 8, alpha: float = 16.0, targets: tuple[str, ...] = ("att", "ff")) -> int:
    """Congela o modelo, envolve as camadas lineares da atenção ("att") e/ou do feed-forward ("ff") de cada
    bloco com LoRALinear e deixa treináveis só os adaptadores e a cabeça; devolve quantos parâmetros treinam."""
    if not targets or any(t not in LORA_TARGETS for t in targets):
        raise ValueError(f"targets deve ter só partes de {list(LORA_TARGETS)}, não {targets!r}")
    model.requires_grad_(False)
    for block in model.blocks:
        for part in targets:
            module = getattr(block, part)
            for name in LORA_TARGETS[part]:
                setattr(module, name, LoRALinear(getattr(module, name), rank, alpha))
    model.out_head.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def merge_lora(model: GPTMini) -> GPTMini:
    """A fusão: soma cada correção ao seu peso (W + (alpha / r) · B A) e volta às nn.Linear comuns. O modelo
    fica com o tamanho e a velocidade do original, e save_checkpoint o salva como qualquer GPTMini."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, LoRALinear):
                child.linear.weight += child.scale * child.B @ child.A
                setattr(module, name, child.linear)
    return model.requires_grad_(True)


def binary_metrics(predictions: torch.Tensor, labels: torch.Tensor, positive: int = 1) -> dict:
    """Acurácia, precisão, revocação, F1 e matriz de confusão [[VN, FP], [FN, VP]]."""
    predictions, labels = predictions.long(), labels.long()
    tp = int(((predictions == positive) & (labels == positive)).sum())
    fp = int(((predictions == positive) & (labels != positive)).sum())
    fn = int(((predictions != positive) & (labels == positive)).sum())
    tn = int(((predictions != positive) & (labels != positive)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"acuracia": (tp + tn) / len(labels), "precisao": precision, "revocacao": recall, "f1": f1,
            "confusao": [[tn, fp], [fn, tp]]}


def classify(model: GPTMini, tokenizer, text: str) -> str:
    """"spam" ou "normal" para um texto, com um modelo classificador."""
    if not isinstance(text, str):
        raise TypeError(f"classify espera o texto da mensagem (str), não {type(text).__name__}.")
    if model.config.num_classes != len(LABELS):
        raise ValueError(f"classify precisa de um classificador de {len(LABELS)} classes (como o do capítulo 06 "
                         "ou load_pretrained('classificador')); este modelo tem num_classes="
                         f"{model.config.num_classes}.")
    device = next(model.parameters()).device
    return LABELS[int(predict(model, tokenizer, [text], device)[0])]
