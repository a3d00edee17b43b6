"""Preferências: os pares, o modelo de recompensa (Bradley-Terry), o best-of-n e o DPO.

Gerado das células "#| export preferencias" de 08-preferencias por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import random
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .modelo import PRETRAINED, eval_mode
from .treino import optimizer_step
from .classificacao import last_token_logits
from .instrucoes import IGNORE_INDEX, collate_instructions, encode_instruction, generate_responses, set_dropout


# O modelo publicado deste capítulo: a lista do capítulo 04 vai até o 07, e este capítulo acrescenta o seu.
PRETRAINED.update(preferencias="modelos/preferencias.pt")


def encode_pair(tokenizer, pair: dict) -> tuple[tuple[list[int], int], tuple[list[int], int]]:
    """Os dois exemplos do par, escolhida e rejeitada, no formato do capítulo 07: (tokens, tamanho do prompt)."""
    def encode(response):
        return encode_instruction(tokenizer, {"instrucao": pair["instrucao"], "entrada": pair["entrada"],
                                              "resposta": response})
    return encode(pair["escolhida"]), encode(pair["rejeitada"])


def reward_scores(reward_model, examples: list[tuple[list[int], int]], pad_id: int) -> torch.Tensor:
    """A nota do modelo de recompensa para cada exemplo: a saída única da cabeça, lida no último token (o
    <|endoftext|> da resposta), como o classificador do capítulo 06. Textos longos perdem o começo."""
    device = next(reward_model.parameters()).device
    rows = [ids[-reward_model.config.context_length:] for ids, _ in examples]
    lengths = torch.tensor([len(r) for r in rows])
    x = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        x[i, :len(r)] = torch.tensor(r)
    return last_token_logits(reward_model, x.to(device), lengths.to(device))[:, 0].float()


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """−log σ(r_escolhida − r_rejeitada): o modelo de Bradley-Terry dá à escolhida a probabilidade σ(diferença)
    de vencer; a perda é a entropia cruzada dessa probabilidade com a preferência observada."""
    return -F.logsigmoid(chosen - rejected).mean()


def pair_batches(pairs: list, batch_size: int, seed: int):
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


@torch.no_grad()
def reward_accuracy(reward_model, pairs: list[tuple], pad_id: int, batch_size: int = 32) -> float:
    """A fração de pares em que o modelo de recompensa dá nota maior à escolhida."""
    with eval_mode(reward_model):
        wins = [(reward_scores(reward_model, [c for c, _ in pairs[i:i + batch_size]], pad_id) >
                 reward_scores(reward_model, [r for _, r in pairs[i:i + batch_size]], pad_id)).float()
                for i in range(0, len(pairs), batch_size)]
    return torch.cat(wins).mean().item()


def train_reward_model(reward_model, train_pairs: list[tuple], val_pairs: list[tuple], pad_id: int,
                       epochs: int = 2, lr: float = 5e-5, batch_size: int = 16, progress: bool = True) -> dict:
    """Treina a nota com a perda de Bradley-Terry nos pares codificados; mede a acurácia nos pares da validação."""
    optimizer = torch.optim.AdamW(reward_model.parameters(), lr=lr, weight_decay=0.0)
    no_scaling = torch.amp.GradScaler("cuda", enabled=False)  # fp32: o passo sem escala
    history = {"step": [], "loss": [], "val_step": [], "val_accuracy": [], "seconds": 0.0}
    start, step = time.perf_counter(), 0
    for epoch in range(epochs):
        for idx in tqdm(pair_batches(train_pairs, batch_size, epoch), desc=f"modelo de recompensa, época {epoch + 1}",
                        disable=not progress, mininterval=2):
            reward_model.train()
            loss = bradley_terry_loss(reward_scores(reward_model, [train_pairs[k][0] for k in idx], pad_id),
                                      reward_scores(reward_model, [train_pairs[k][1] for k in idx], pad_id))
            optimizer_step(reward_model, optimizer, no_scaling, loss, grad_clip=1.0)  # o passo do capítulo 05
            step += 1
            history["step"].append(step)
            history["loss"].append(loss.item())
        history["val_step"].append(step)
        history["val_accuracy"].append(reward_accuracy(reward_model, val_pairs, pad_id))
    history["seconds"] = time.perf_counter() - start
    return history


@torch.no_grad()
def best_of_n(policy, reward_model, tokenizer, instruction: str, input: str = "", n: int = 8,
              temperature: float = 0.8, top_p: float | None = 0.95, generator=None,
              max_new_tokens: int = 200) -> tuple[str, list[str], list[float]]:
    """Sorteia n respostas da política e fica com a de maior nota: o uso mais simples de um modelo de recompensa.
    Devolve a melhor, todas e as notas."""
    answers = [text for text, _ in generate_responses(policy, tokenizer, [(instruction, input)] * n, max_new_tokens,
                                                        temperature=temperature, top_p=top_p, generator=generator)]
    examples = [encode_instruction(tokenizer, {"instrucao": instruction, "entrada": input, "resposta": a})
                for a in answers]
    with eval_mode(reward_model):
        scores = reward_scores(reward_model, examples, tokenizer.eot_token).tolist()
    return answers[max(range(n), key=scores.__getitem__)], answers, scores


def response_logprobs(model, examples: list[tuple[list[int], int]], pad_id: int) -> torch.Tensor:
    """log p(resposta | prompt) de cada exemplo: a soma das log-probabilidades dos tokens da resposta e do
    <|endoftext|>, com a máscara do capítulo 07 (o prompt e o enchimento ficam fora)."""
    device = next(model.parameters()).device
    x, y = collate_instructions(examples, pad_id, model.config.context_length)
    x, y = x.to(device), y.to(device)
    logp = -F.cross_entropy(model(x).flatten(0, 1).float(), y.flatten(), reduction="none").view(y.shape)
    return (logp * (y != IGNORE_INDEX)).sum(dim=1)


@torch.no_grad()
def pair_logprobs(model, pairs: list[tuple], pad_id: int, batch_size: int = 32) -> torch.Tensor:
    """(pares, 2): log p da escolhida e da rejeitada de cada par codificado, sem gradiente."""
    with eval_mode(model):
        return torch.cat([torch.stack([response_logprobs(model, [c for c, _ in pairs[i:i + batch_size]], pad_id),
                                       response_logprobs(model, [r for _, r in pairs[i:i + batch_size]], pad_id)], 1)
                          for i in range(0, len(pairs), batch_size)]).cpu()


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, reference_chosen: torch.Tensor,
             reference_rejected: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A perda do DPO e a margem: as recompensas implícitas são β·(log π − log π_ref) de cada resposta, e a perda é
    a de Bradley-Terry sobre elas."""
    margin = beta * ((policy_chosen - reference_chosen) - (policy_rejected - reference_rejected))
    return -F.logsigmoid(margin).mean(), margin.detach()


@dataclass
class DPOConfig:
    beta: float = 0.1  # quanto a política pode se afastar da referência (menor: pode mais)
    lr: float = 2e-5
    epochs: int = 1
    batch_size: int = 16
    eval_interval: int = 20
    seed: int = 0


def train_dpo(policy, reference, train_pairs: list[tuple], val_pairs: list[tuple], pad_id: int, cfg: DPOConfig,
              progress: bool = True) -> dict:
    """DPO: aumenta log π(escolhida) − log π(rejeitada) em relação à referência congelada. As log-probabilidades da
    referência são calculadas uma vez, antes do treino. Mede, na validação, a acurácia das recompensas implícitas
    (a escolhida com recompensa maior) e a margem média."""
    set_dropout(policy, 0.0)
    device = next(policy.parameters()).device
    reference_train = pair_logprobs(reference, train_pairs, pad_id).to(device)
    reference_val = pair_logprobs(reference, val_pairs, pad_id)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=0.0)
    no_scaling = torch.amp.GradScaler("cuda", enabled=False)  # fp32: o passo sem escala
    history = {"step": [], "loss": [], "margin": [], "val_step": [], "val_accuracy": [], "val_margin": [],
               "seconds": 0.0}

    def measure_validation(step):
        policy_val = pair_logprobs(policy, val_pairs, pad_id)
        _, margin = dpo_loss(policy_val[:, 0], policy_val[:, 1], reference_val[:, 0], reference_val[:, 1], cfg.beta)
        history["val_step"].append(step)
        history["val_accuracy"].append((margin > 0).float().mean().item())
        history["val_margin"].append(margin.mean().item())

    measure_validation(0)
    start, step = time.perf_counter(), 0
    for epoch in range(cfg.epochs):
        for idx in tqdm(pair_batches(train_pairs, cfg.batch_size, cfg.seed + epoch), desc=f"DPO, época {epoch + 1}",
                        disable=not progress, mininterval=2):
            policy.train()
            chosen = response_logprobs(policy, [train_pairs[k][0] for k in idx], pad_id)
            rejected = response_logprobs(policy, [train_pairs[k][1] for k in idx], pad_id)
            loss, margin = dpo_loss(chosen, rejected, reference_train[idx, 0], reference_train[idx, 1], cfg.beta)
            optimizer_step(policy, optimizer, no_scaling, loss, grad_clip=1.0)  # o passo do capítulo 05
            step += 1
            history["step"].append(step)
            history["loss"].append(loss.item())
            history["margin"].append(margin.mean().item())
            if step % cfg.eval_interval == 0:
                measure_validation(step)
    if history["val_step"][-1] != step:
        measure_validation(step)
    history["seconds"] = time.perf_counter() - start
    return history
