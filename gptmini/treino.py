"""O pré-treino e o que os outros treinos reusam: taxa, otimizador, passo, avaliação.

Gerado das células "#| export treino" de 05-pretreino por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import functools
import math
import os
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .tokenizacao import GPTDataset, create_dataloader
from .modelo import GPTMini, PRESETS, eval_mode, generate, model_from_checkpoint, read_checkpoint, save_checkpoint


def bits_per_char(loss_nats: float, chars_per_token: float) -> float:
    """Converte nats por token em bits por caractere, a medida do capítulo 01."""
    return loss_nats / math.log(2) / chars_per_token


def get_batch(dataset: GPTDataset, step: int, batch_size: int, seed: int):
    """O lote do passo `step`: janelas sorteadas de um jeito que só depende de (seed, step).

    Assim, retomar um treino do passo 500 vê exatamente os lotes que o treino sem pausa veria.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
    starts = torch.randint(len(dataset), (batch_size,), generator=generator).tolist()
    inputs, targets = zip(*(dataset[i] for i in starts))
    return torch.stack(inputs), torch.stack(targets)


@dataclass
class TrainConfig:
    max_steps: int = 800
    batch_size: int = 16
    lr: float = 2e-3  # pico da taxa de aprendizado, depois do aquecimento
    min_lr_ratio: float = 0.1  # o cosseno desce até lr * min_lr_ratio
    warmup_steps: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_interval: int = 100
    sample_interval: int = 200  # 0: sem amostras durante o treino
    seed: int = 42


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Aquecimento linear e depois decaimento em cosseno até lr * min_lr_ratio."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def configure_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW com weight decay só nas matrizes; vieses e LayerNorms (vetores) ficam livres."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    # fused: o passo do AdamW num kernel só, em vez de um por tensor (na CPU e na GPU; no Mac, não existe)
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), fused=torch.device(device).type in ("cpu", "cuda"))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """A taxa do passo, em todos os grupos do otimizador (o cronograma muda a cada passo)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


@functools.cache  # mede uma vez por sessão
def cpu_supports_fast_bf16() -> bool:
    """Se esta CPU multiplica matrizes em bf16 bem mais rápido que em fp32 (GPTMINI_BF16=0/1 decide à mão)."""
    if os.environ.get("GPTMINI_BF16") in ("0", "1"):
        return os.environ["GPTMINI_BF16"] == "1"
    sorteio = torch.Generator().manual_seed(0)  # um gerador só daqui: medir não mexe nas sementes do treino
    a, b = torch.randn(512, 512, generator=sorteio), torch.randn(512, 512, generator=sorteio)

    def seconds(dtype: torch.dtype) -> float:
        x, y = a.to(dtype), b.to(dtype)
        x @ y  # aquecimento
        start = time.perf_counter()
        for _ in range(10):
            x @ y
        return time.perf_counter() - start

    return seconds(torch.bfloat16) < 0.6 * seconds(torch.float32)


def autocast_context(device: torch.device):
    """Precisão mista: na GPU, bf16 onde existe, senão fp16 (T4); na CPU, bf16 se ela tiver instruções para
    isso (cpu_supports_fast_bf16), senão fp32 puro. Devolve o contexto e o tipo de 16 bits (ou None)."""
    device = torch.device(device)
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype), dtype
    if device.type == "cpu" and cpu_supports_fast_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16), torch.bfloat16
    return torch.autocast(device.type, enabled=False), None


@torch.no_grad()
def evaluate(model: torch.nn.Module, ids, context_length: int, device: torch.device, batch_size: int = 32) -> float:
    """Perda média (nats por token) em todas as janelas não sobrepostas de `ids`."""
    loader = create_dataloader(ids, context_length, context_length, batch_size, shuffle=False, drop_last=False)
    autocast, _ = autocast_context(device)
    total, count = 0.0, 0
    with eval_mode(model):  # o eval_mode do capítulo 04: sem dropout, e o modo volta no fim
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with autocast:
                logits = model(x)
            total += F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), reduction="sum").item()
            count += y.numel()
    return total / count


@dataclass
class TrainState:
    """Tudo o que um treino precisa para continuar de onde parou."""

    step: int = 0
    history: dict = field(default_factory=lambda: {"step": [], "train_loss": [], "lr": [], "val_step": [],
                                                   "val_loss": [], "samples": [], "seconds": 0.0, "tokens": 0})
    optimizer: dict | None = None
    rng: dict | None = None  # estados dos geradores aleatórios (CPU e, se houver, GPU)


def optimizer_step(model: torch.nn.Module, optimizer, scaler, loss: torch.Tensor, grad_clip: float) -> None:
    """A volta e o passo do otimizador: gradientes (escalados, no fp16), corte da norma e AdamW."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)  # o corte precisa dos gradientes na escala verdadeira
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()


def process_share() -> tuple[int, int]:
    """(número deste processo, quantos processos): (0, 1) no caso comum; com torchrun, cada processo
    treina com a sua parte de cada lote (ferramentas/treinar_base.py)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def train(model: GPTMini, train_ids, val_ids, cfg: TrainConfig, device: torch.device, state: TrainState | None = None,
          tokenizer=None, sample_prompt: str = "Era uma vez", stop_at: int | None = None,
          progress: bool = True) -> TrainState:
    """Pré-treina `model`; devolve o estado (passo, histórico, otimizador, RNG) para salvar ou retomar.

    stop_at interrompe antes de max_steps (para mostrar uma pausa e uma retomada).
    """
    state = state or TrainState()
    rank, world = process_share()
    net = getattr(model, "module", model)  # com torchrun, `model` é o DistributedDataParallel que embrulha o GPTMini
    if cfg.batch_size % world:
        raise ValueError(f"O lote de {cfg.batch_size} precisa se dividir igualmente entre {world} processos.")
    context = net.config.context_length
    dataset = GPTDataset(train_ids, context, stride=1)  # toda posição pode começar uma janela
    optimizer = configure_optimizer(model, cfg, device)
    if state.optimizer is not None:
        optimizer.load_state_dict(state.optimizer)
    if state.rng is not None:  # o dropout sorteia o mesmo que sortearia sem a pausa
        torch.set_rng_state(state.rng["cpu"])
        if "cuda" in state.rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(state.rng["cuda"])
    autocast, dtype = autocast_context(device)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    history, end = state.history, min(stop_at or cfg.max_steps, cfg.max_steps)
    model.train()
    bar = tqdm(range(state.step, end), desc="treino", disable=not progress or rank > 0, mininterval=2)
    write = bar.write if progress and rank == 0 else lambda _: None
    start_time = time.perf_counter()
    for step in bar:
        lr = learning_rate(step, cfg)
        set_learning_rate(optimizer, lr)
        x, y = get_batch(dataset, step, cfg.batch_size, cfg.seed)
        x, y = (t[rank::world].to(device, non_blocking=True) for t in (x, y))  # a parte deste processo
        with autocast:
            logits = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        optimizer_step(model, optimizer, scaler, loss, cfg.grad_clip)
        loss_value = loss.detach()
        if world > 1:  # a perda do lote inteiro: a média das partes (os gradientes, o DDP já juntou)
            torch.distributed.all_reduce(loss_value)
            loss_value /= world
        loss_value = loss_value.item()
        history["step"].append(step + 1)  # passos feitos até aqui: o 1º passo é o 1
        history["train_loss"].append(loss_value)
        history["lr"].append(lr)
        history["tokens"] += x.numel() * world
        elapsed = history["seconds"] + time.perf_counter() - start_time
        bar.set_postfix(perda=f"{loss_value:.3f}", tokens_s=f"{history['tokens'] / elapsed:.0f}")
        if (step + 1) % cfg.eval_interval == 0 or step + 1 == cfg.max_steps:
            history["val_step"].append(step + 1)
            history["val_loss"].append(evaluate(net, val_ids, context, device))
            write(f"passo {step + 1:>5}: treino {loss_value:.3f} · validação {history['val_loss'][-1]:.3f}")
        if tokenizer is not None and cfg.sample_interval and (step + 1) % cfg.sample_interval == 0:
            prompt = torch.tensor([tokenizer.encode_ordinary(sample_prompt)], device=device)
            sampler = torch.Generator(device=device).manual_seed(step)  # não mexe no sorteio do dropout
            out = generate(net, prompt, 40, temperature=0.8, top_k=40, generator=sampler)
            history["samples"].append((step + 1, tokenizer.decode(out[0].tolist())))
            write(f"  amostra: {history['samples'][-1][1]!r}")
    history["seconds"] += time.perf_counter() - start_time
    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state()
    return TrainState(step=end, history=history, optimizer=optimizer.state_dict(), rng=rng)


TRAIN_PRESETS = {
    "rapido": (PRESETS["rapido"], TrainConfig(max_steps=30, batch_size=8, warmup_steps=5, eval_interval=10,
                                              sample_interval=15)),
    "cpu": (PRESETS["cpu"], TrainConfig(max_steps=600, batch_size=8, lr=2e-3, warmup_steps=50,
                                        eval_interval=150, sample_interval=200)),
    "gpu": (PRESETS["gpu"], TrainConfig(max_steps=500, batch_size=32, lr=1e-3, warmup_steps=50,
                                        eval_interval=50, sample_interval=125)),
}


def save_training_state(path, model: GPTMini, state: TrainState, cfg: TrainConfig, **extra) -> None:
    """Checkpoint de treino: modelo, otimizador, passo, histórico, RNG e a configuração do treino
    (e o que vier em extra, como os pesos da melhor validação)."""
    save_checkpoint(model, path, train_config=asdict(cfg), step=state.step, history=state.history,
                    optimizer=state.optimizer, rng=state.rng, **extra)


def copy_weights(model: torch.nn.Module) -> dict:
    """Uma cópia dos pesos na memória: os ajustes dos capítulos 06 e 07 voltam à melhor época com ela."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def load_training_state(path, device) -> tuple[GPTMini, TrainState, TrainConfig]:
    """O inverso de save_training_state, também com weights_only=True."""
    checkpoint = read_checkpoint(path)  # uma leitura só: o modelo e o estado saem do mesmo dicionário
    state = TrainState(step=checkpoint["step"], history=checkpoint["history"], optimizer=checkpoint["optimizer"],
                       rng=checkpoint["rng"])
    return model_from_checkpoint(checkpoint, device).train(), state, TrainConfig(**checkpoint["train_config"])
