"""O GPTMini: atenção, bloco transformer, modelo, geração com KV cache e checkpoints.

Gerado das células "#| export modelo" de 03-atencao, 04-gpt, 05-pretreino por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .ambiente import fast_mode
from .dados import cache_dir, data_file


class MultiHeadAttention(nn.Module):
    """Atenção causal multi-cabeça com F.scaled_dot_product_attention (a versão do GPTMini)."""

    def __init__(self, d_in: int, d_out: int, num_heads: int, dropout: float = 0.0, qkv_bias: bool = False):
        super().__init__()
        if d_out % num_heads:
            raise ValueError(f"d_out ({d_out}) precisa ser múltiplo de num_heads ({num_heads})")
        self.num_heads, self.head_dim, self.dropout = num_heads, d_out // num_heads, dropout
        self.qkv = nn.Linear(d_in, 3 * d_out, bias=qkv_bias)  # Q, K e V numa multiplicação só
        self.out_proj = nn.Linear(d_out, d_out)

    def forward(self, x: torch.Tensor, kv_cache=None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, _ = x.shape
        # (b, n, 3 * d_out) -> 3 tensores (b, cabeças, n, head_dim)
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if kv_cache is not None:  # geração (capítulo 04): junta K e V dos tokens anteriores
            k, v = kv_cache.update(k, v)
        n_keys = k.shape[2]
        mask = attn_mask  # geração em lote (capítulo 04): a máscara diz, por linha, o que é enchimento
        if mask is None and n > 1 and n != n_keys:  # vários tokens novos depois de um cache: causal deslocada
            mask = torch.ones(n, n_keys, dtype=torch.bool, device=x.device).tril(n_keys - n)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None and n > 1,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, -1))


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    context_length: int = 128  # quantos tokens o modelo vê de uma vez
    d_model: int = 256  # largura dos vetores que circulam pelo modelo
    n_heads: int = 4
    n_layers: int = 4
    dropout: float = 0.1
    qkv_bias: bool = False
    num_classes: int = 0  # 0: a cabeça prevê o próximo token; o classificador do capítulo 06 usa 2


PRESETS = {
    "rapido": GPTConfig(context_length=64, d_model=64, n_heads=2, n_layers=2),
    "cpu": GPTConfig(context_length=256, d_model=256, n_heads=4, n_layers=4),
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

    def forward(self, x: torch.Tensor, kv_cache=None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.att(self.norm1(x), kv_cache, attn_mask))
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
        if cfg.num_classes:  # classificador (capítulo 06): uma cabeça pequena, só dele
            self.out_head = nn.Linear(cfg.d_model, cfg.num_classes)
        else:
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

    def forward(self, idx: torch.Tensor, kv_caches: list[KVCache] | None = None,
                positions: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n = idx.shape
        start = len(kv_caches[0]) if kv_caches else 0
        if start + n > self.config.context_length:
            raise ValueError(f"{start + n} tokens passam do contexto de {self.config.context_length}")
        if positions is None:  # a posição de cada token; a geração em lote passa uma por linha
            positions = torch.arange(start, start + n, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(positions))
        for i, block in enumerate(self.blocks):
            x = block(x, kv_caches[i] if kv_caches else None, attn_mask)
        return self.out_head(self.final_norm(x))  # (b, n, vocab_size)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())  # os pesos amarrados contam uma vez


@contextmanager
def eval_mode(model: nn.Module):
    """Modo de avaliação (sem dropout) dentro do `with`; na saída, o modelo volta ao modo em que estava."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Um erro claro para parâmetros de amostragem inválidos, em vez de um erro do torch lá dentro."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(f"temperature deve ser um número >= 0 (0 é a decodificação gulosa), não {temperature!r}.")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k deve ser um inteiro >= 1 (ou None, sem corte), não {top_k!r}.")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ValueError(f"top_p deve estar entre 0 (exclusive) e 1 (ou ser None, sem corte), não {top_p!r}.")


def check_prompt(model: nn.Module, idx: torch.Tensor) -> None:
    """O prompt precisa ser um tensor (lote, tokens) de ids do vocabulário, com pelo menos um token."""
    if model.config.num_classes:
        raise ValueError("Este modelo é um classificador (num_classes > 0): ele não gera texto.")
    if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
        raise TypeError("O prompt deve ser um tensor de ids (torch.long) com forma (lote, tokens), por exemplo "
                        "torch.tensor([tokenizer.encode_ordinary(texto)]).")
    if idx.shape[1] == 0:
        raise ValueError("O prompt está vazio: passe pelo menos um token (pode ser o <|endoftext|>).")
    vocab = model.config.vocab_size
    if idx.min() < 0 or idx.max() >= vocab:
        raise ValueError(f"O prompt tem ids fora do vocabulário: eles vão de 0 a {vocab - 1}, e apareceu "
                         f"{int(idx.min()) if idx.min() < 0 else int(idx.max())}.")


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
    """Continua `idx` (lote, tokens) com até max_new_tokens tokens; para quando todos geram eos_id.
    Um prompt maior que o contexto é cortado pela esquerda (fica o fim, que é o que importa)."""
    check_prompt(model, idx)
    check_sampling(temperature, top_k, top_p)
    context = model.config.context_length
    idx = idx[:, -context:]
    caches = [KVCache(context) for _ in model.blocks] if use_cache else None
    new_tokens = idx
    finished = torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)
    with eval_mode(model):
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
    return idx


def pad_left(rows: list[list[int]], device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Os ids com enchimento à esquerda (lote, n), a posição de cada token na sua linha e quais são
    texto de verdade (True) e quais são enchimento (False)."""
    n = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), n, dtype=torch.long, device=device)  # o id do enchimento não importa
    real = torch.zeros(len(rows), n, dtype=torch.bool, device=device)
    for i, r in enumerate(rows):
        ids[i, n - len(r):] = torch.tensor(r, device=device)
        real[i, n - len(r):] = True
    positions = (real.long().cumsum(dim=1) - 1).clamp(min=0)  # cada linha começa na posição 0
    return ids, positions, real


def batch_attention_mask(real: torch.Tensor) -> torch.Tensor:
    """Máscara (lote, 1, n, n) da atenção: causal e sem olhar para o enchimento. A diagonal fica sempre
    aberta: uma posição de enchimento olha para si mesma, e o softmax dela não vira NaN."""
    n = real.shape[1]
    causal = torch.ones(n, n, dtype=torch.bool, device=real.device).tril()
    return ((causal & real[:, None, :]) | torch.eye(n, dtype=torch.bool, device=real.device))[:, None]


@torch.no_grad()
def generate_batch(model: GPTMini, prompts: list[list[int]], max_new_tokens: int, temperature: float = 0.0,
                   top_k: int | None = None, top_p: float | None = None, eos_id: int | None = None,
                   generator: torch.Generator | None = None, no_repeat_ngram: int | None = None) -> list[list[int]]:
    """Gera a continuação de vários prompts (listas de ids, de tamanhos diferentes) de uma vez; devolve,
    para cada um, os ids novos, até o eos_id (sem ele). Enchimento à esquerda, máscara de atenção e
    posições por linha, um KV cache para o lote; a gulosa dá o mesmo que `generate` prompt a prompt.
    Com `no_repeat_ngram=n`, uma guarda contra laços: nenhuma linha gera de novo uma sequência de n tokens
    que ela mesma já gerou (o token que a completaria fica proibido)."""
    if no_repeat_ngram is not None and (isinstance(no_repeat_ngram, bool) or not isinstance(no_repeat_ngram, int)
                                        or no_repeat_ngram < 2):
        raise ValueError(f"no_repeat_ngram deve ser um inteiro de 2 para cima (ou None), não {no_repeat_ngram!r}.")
    if not isinstance(prompts, (list, tuple)) or not prompts:
        raise TypeError("prompts deve ser uma lista não vazia de prompts, cada um uma lista de ids.")
    context, device = model.config.context_length, next(model.parameters()).device
    rows = [list(p)[-context:] for p in prompts]  # como em generate: cortados pela esquerda
    for p in rows:
        if not p or not all(isinstance(t, int) for t in p):
            raise TypeError("Cada prompt deve ser uma lista não vazia de ids inteiros.")
        check_prompt(model, torch.tensor([p]))
    check_sampling(temperature, top_k, top_p)
    new = [[] for _ in rows]
    seen = [{} for _ in rows]  # por linha: os n-1 tokens de cada n-grama gerado -> os tokens que vieram depois
    finished = torch.zeros(len(rows), dtype=torch.bool, device=device)
    with eval_mode(model):
        caches = [KVCache(context) for _ in model.blocks]
        ids, positions, real = pad_left(rows, device)
        logits = model(ids, caches, positions, batch_attention_mask(real))[:, -1]
        for step in range(max_new_tokens):
            if no_repeat_ngram:
                for i, tokens in enumerate(new):
                    if len(tokens) >= no_repeat_ngram - 1 and (
                            banned := seen[i].get(tuple(tokens[len(tokens) - no_repeat_ngram + 1:]))):
                        logits[i, list(banned)] = float("-inf")
            next_token = sample_next_token(logits, temperature, top_k, top_p, generator)
            if eos_id is not None:
                next_token = next_token.masked_fill(finished[:, None], eos_id)
                finished |= next_token[:, 0] == eos_id
            for i, token in enumerate(next_token[:, 0].tolist()):
                if eos_id is None or not finished[i]:
                    new[i].append(token)
                    if no_repeat_ngram and len(new[i]) >= no_repeat_ngram:
                        seen[i].setdefault(tuple(new[i][-no_repeat_ngram:-1]), set()).add(token)
            if step == max_new_tokens - 1 or (eos_id is not None and finished.all()):
                break
            if caches is not None and len(caches[0]) < context:  # um token novo por linha, com o cache
                real = torch.cat([real, torch.ones_like(real[:, :1])], dim=1)
                positions = positions[:, -1:] + 1
                logits = model(next_token, caches, positions, real[:, None, None, :])[:, -1]
            else:  # o cache encheu: recalcula a janela de cada linha, como generate faz
                caches = None
                ids, positions, real = pad_left([(r + t)[-context:] for r, t in zip(rows, new)], device)
                logits = model(ids, None, positions, batch_attention_mask(real))[:, -1]
    return new


def save_checkpoint(model: GPTMini, path, **extra) -> None:
    """Grava configuração e pesos juntos (e o que vier em extra: métricas, passo...). O mesmo formato
    serve para o modelo base, o classificador (num_classes na configuração) e o assistente."""
    torch.save({"config": asdict(model.config), "model": model.state_dict(), **extra}, path)


def read_checkpoint(path) -> dict:
    """O dicionário gravado por save_checkpoint, lido sem executar código arbitrário (weights_only)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"Checkpoint não encontrado: {path}") from None
    except Exception as error:  # um arquivo qualquer, ou um pickle com objetos que não são pesos
        raise ValueError(f"{path} não é um checkpoint do GPTMini ({type(error).__name__}: o torch não "
                         "conseguiu lê-lo como pesos).") from None
    if not isinstance(checkpoint, dict) or not {"config", "model"} <= checkpoint.keys():
        raise ValueError(f"{path} não é um checkpoint do GPTMini: faltam as chaves 'config' e 'model' que "
                         "save_checkpoint grava.")
    return checkpoint


def model_from_checkpoint(checkpoint: dict, device="cpu") -> GPTMini:
    model = GPTMini(GPTConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["model"])
    return model.to(device).eval()


def load_checkpoint(path, device="cpu") -> GPTMini:
    """Carrega um checkpoint de save_checkpoint: modelo base, classificador ou assistente."""
    return model_from_checkpoint(read_checkpoint(path), device)


# Os modelos publicados pelo curso: este capítulo treina o base; o 06, o classificador; o 07, o assistente.
# Todos no formato de save_checkpoint, que load_checkpoint lê.
PRETRAINED = {"base": "modelos/base.pt", "classificador": "modelos/classificador.pt",
              "instrucoes": "modelos/instrucoes.pt"}


def load_pretrained(name: str, device="cpu") -> GPTMini:
    """Um modelo publicado pelo curso ("base", "classificador", "instrucoes"), de dados/ ou baixado."""
    if name not in PRETRAINED:
        raise ValueError(f"Modelo publicado desconhecido: {name!r}. Disponíveis: {', '.join(PRETRAINED)}.")
    return load_checkpoint(data_file(PRETRAINED[name]), device)


def learner_checkpoint(name: str) -> Path:
    """Onde os notebooks guardam o modelo que o leitor treinou (um por modo, rápido ou completo)."""
    return cache_dir() / "meus-modelos" / f"{name}{'-rapido' if fast_mode() else ''}.pt"


def load_base_model(device="cpu") -> tuple[GPTMini, str]:
    """O modelo base que o leitor treinou no capítulo 05, se existir; senão, o publicado."""
    path = learner_checkpoint("base")
    if path.is_file():
        return load_checkpoint(path, device), f"o seu modelo, treinado no capítulo 05 ({path})"
    return load_pretrained("base", device), "o modelo base publicado pelo curso (dados/modelos/base.pt)"
