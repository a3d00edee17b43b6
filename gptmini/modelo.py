"""Capítulo 04: A arquitetura do GPT.

Gerado de 04-gpt/notebook.ipynb por ferramentas/sincronizar.py: edite o notebook, não este arquivo.
"""

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from .atencao import MultiHeadAttention


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    context_length: int = 128  # quantos tokens o modelo vê de uma vez
    d_model: int = 256  # largura dos vetores que circulam pelo modelo
    n_heads: int = 4
    n_layers: int = 4
    dropout: float = 0.1
    qkv_bias: bool = False


PRESETS = {
    "rapido": GPTConfig(context_length=64, d_model=64, n_heads=2, n_layers=2),
    "cpu": GPTConfig(context_length=128, d_model=256, n_heads=4, n_layers=4),
    "gpu": GPTConfig(context_length=256, d_model=384, n_heads=6, n_layers=6, dropout=0.2),
}


class FeedForward(nn.Module):
    """Expande 4×, GELU e volta: aplicada a cada token separadamente."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.expand = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.gelu(self.expand(x)))


class TransformerBlock(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.att = MultiHeadAttention(cfg.d_model, cfg.d_model, cfg.n_heads, cfg.dropout, cfg.qkv_bias)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, kv_cache=None) -> torch.Tensor:
        x = x + self.drop(self.att(self.norm1(x), kv_cache))
        return x + self.drop(self.ff(self.norm2(x)))


class KVCache:
    """Chaves e valores já calculados por um bloco, para gerar um token por vez sem recalcular tudo.

    Os tensores são alocados uma vez, com espaço para o contexto inteiro: a cada token novo só se
    escreve uma fatia, em vez de copiar o cache todo para um tensor maior.
    """

    def __init__(self, max_length: int):
        self.max_length, self.length = max_length, 0
        self.keys = self.values = None

    def update(self, k: torch.Tensor, v: torch.Tensor):
        b, heads, n, head_dim = k.shape
        if self.keys is None:
            self.keys = k.new_empty(b, heads, self.max_length, head_dim)
            self.values = v.new_empty(b, heads, self.max_length, head_dim)
        end = self.length + n
        if end > self.max_length:
            raise ValueError(f"o cache comporta {self.max_length} tokens; pediram {end}")
        self.keys[:, :, self.length:end] = k
        self.values[:, :, self.length:end] = v
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]

    def __len__(self) -> int:
        return self.length


class GPTMini(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.context_length, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg.n_layers)])
        self.final_norm = nn.LayerNorm(cfg.d_model)
        self.out_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.out_head.weight = self.tok_emb.weight  # pesos amarrados
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # projeções que somam ao atalho residual
            if name.endswith(("att.out_proj.weight", "ff.proj.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / (2 * cfg.n_layers) ** 0.5)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, kv_caches: list[KVCache] | None = None) -> torch.Tensor:
        b, n = idx.shape
        start = len(kv_caches[0]) if kv_caches else 0
        if start + n > self.config.context_length:
            raise ValueError(f"{start + n} tokens passam do contexto de {self.config.context_length}")
        pos = torch.arange(start, start + n, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for i, block in enumerate(self.blocks):
            x = block(x, kv_caches[i] if kv_caches else None)
        return self.out_head(self.final_norm(x))  # (b, n, vocab_size)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())  # os pesos amarrados contam uma vez


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Os logits (lote, vocabulário) que a amostragem usa: divididos pela temperatura, -inf fora do
    top-k e fora do núcleo top-p (o menor conjunto de tokens cuja probabilidade somada chega a top_p)."""
    logits = logits.float() / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        sorted_logits, order = torch.sort(logits, descending=True)
        sorted_probs = torch.softmax(sorted_logits, dim=-1)
        outside = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p  # a massa antes dele já bastava
        logits = logits.scatter(-1, order, sorted_logits.masked_fill(outside, float("-inf")))
    return logits


def sample_next_token(logits: torch.Tensor, temperature: float = 0.0, top_k: int | None = None,
                      top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Escolhe o próximo token a partir dos logits (lote, vocabulário); devolve (lote, 1)."""
    if temperature == 0.0:
        return logits.argmax(dim=-1, keepdim=True)  # gulosa
    probs = torch.softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)


@torch.no_grad()
def generate(model: GPTMini, idx: torch.Tensor, max_new_tokens: int, temperature: float = 0.0,
             top_k: int | None = None, top_p: float | None = None, eos_id: int | None = None,
             use_cache: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """Continua `idx` (lote, tokens) com até max_new_tokens tokens; para quando todos geram eos_id."""
    was_training = model.training
    model.eval()
    context = model.config.context_length
    idx = idx[:, -context:]  # o prompt é cortado para caber no contexto
    caches = [KVCache(context) for _ in model.blocks] if use_cache else None
    new_tokens = idx
    finished = torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)
    for _ in range(max_new_tokens):
        if caches is not None and idx.shape[1] <= context:
            logits = model(new_tokens, caches)[:, -1]
        else:  # sem cache, ou o texto passou do contexto: recalcula a janela inteira
            caches = None
            logits = model(idx[:, -context:])[:, -1]
        next_token = sample_next_token(logits, temperature, top_k, top_p, generator)
        if eos_id is not None:  # quem já terminou continua recebendo eos_id
            next_token = torch.where(finished[:, None], torch.full_like(next_token, eos_id), next_token)
            finished |= next_token[:, 0] == eos_id
        idx = torch.cat([idx, next_token], dim=1)
        new_tokens = next_token
        if eos_id is not None and finished.all():
            break
    model.train(was_training)
    return idx


def save_checkpoint(model: GPTMini, path, **extra) -> None:
    """Grava configuração e pesos juntos (e o que vier em extra: métricas, passo...)."""
    torch.save({"config": asdict(model.config), "model": model.state_dict(), **extra}, path)


def load_checkpoint(path, device="cpu") -> GPTMini:
    """Carrega um checkpoint de save_checkpoint, sem executar código arbitrário (weights_only)."""
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = GPTMini(GPTConfig(**checkpoint["config"])).to(device)
    model.load_state_dict(checkpoint["model"])
    return model.eval()
