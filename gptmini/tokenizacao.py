"""Tokenização: o BPE do curso, o tokenizador no tiktoken, janelas de treino.

Gerado das células "#| export tokenizacao" de 02-tokenizacao por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import base64
import heapq
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import regex
import tiktoken
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from .dados import END_OF_TEXT, data_file


class SimpleTokenizer:
    """Tokenizador de palavras e pontuação com vocabulário fixo: o ponto de partida do capítulo 02."""

    SPLIT = re.compile(r"\w+|[^\w\s]")
    UNK, EOT = "<|unk|>", "<|endoftext|>"

    def __init__(self, training_text: str):
        words = sorted(set(self.SPLIT.findall(training_text)))
        self.str_to_id = {w: i for i, w in enumerate(words + [self.UNK, self.EOT])}
        self.id_to_str = {i: w for w, i in self.str_to_id.items()}

    def encode(self, text: str) -> list[int]:
        unk = self.str_to_id[self.UNK]
        return [self.str_to_id.get(piece, unk) for piece in self.SPLIT.findall(text)]

    def decode(self, ids: list[int]) -> str:
        text = " ".join(self.id_to_str[i] for i in ids)
        return re.sub(r" ([^\w\s—])", r"\1", text)  # tira o espaço antes da pontuação


# GPT-2 sem as contrações do inglês e com um dígito por pedaço (veja o capítulo 02).
PRETOKENIZE_PATTERN = r""" ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def train_bpe(text: str, vocab_size: int, pattern: str = PRETOKENIZE_PATTERN,
              progress: bool = True) -> dict[bytes, int]:
    """Treina um BPE de bytes; devolve os ranks (bytes -> id). Reserva o último id para <|endoftext|>."""
    words = Counter(regex.findall(pattern, text))
    seqs = [list(w.encode("utf-8")) for w in words]
    freqs = list(words.values())
    tokens = [bytes([i]) for i in range(256)]
    pair_count: Counter = Counter()
    pair_words: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for w, seq in enumerate(seqs):
        for pair in zip(seq, seq[1:]):
            pair_count[pair] += freqs[w]
            pair_words[pair].add(w)
    # heap de (-contagem, par): contagens velhas ficam lá e são descartadas ao sair (lazy deletion)
    heap = [(-n, pair) for pair, n in pair_count.items()]
    heapq.heapify(heap)
    n_merges = vocab_size - 256 - 1
    for _ in tqdm(range(n_merges), desc="fusões do BPE", disable=not progress, mininterval=1):
        while heap and -heap[0][0] != pair_count.get(heap[0][1], 0):
            heapq.heappop(heap)
        if not heap:
            break
        _, best = heapq.heappop(heap)
        new_id = len(tokens)
        tokens.append(tokens[best[0]] + tokens[best[1]])
        changed = set()
        for w in pair_words.pop(best):
            seq, f = seqs[w], freqs[w]
            for pair in zip(seq, seq[1:]):  # tira os pares antigos desta palavra...
                pair_count[pair] -= f
                changed.add(pair)
            merged, i = [], 0
            while i < len(seq):
                if i < len(seq) - 1 and (seq[i], seq[i + 1]) == best:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(seq[i])
                    i += 1
            seqs[w] = merged
            for pair in zip(merged, merged[1:]):  # ...e põe os novos
                pair_count[pair] += f
                pair_words[pair].add(w)
                changed.add(pair)
        pair_count.pop(best, None)
        for pair in changed - {best}:
            if pair_count[pair] > 0:
                heapq.heappush(heap, (-pair_count[pair], pair))
            else:
                del pair_count[pair]
    return {token: rank for rank, token in enumerate(tokens)}


class BPETokenizer:
    """BPE de bytes escrito do zero: a referência que o tiktoken precisa reproduzir."""

    def __init__(self, ranks: dict[bytes, int], pattern: str = PRETOKENIZE_PATTERN):
        self.ranks = ranks
        self.pattern = regex.compile(pattern)
        self.id_to_bytes = {rank: token for token, rank in ranks.items()}

    def encode_piece(self, piece: bytes) -> list[int]:
        if piece in self.ranks:
            return [self.ranks[piece]]
        parts = [bytes([b]) for b in piece]
        while len(parts) > 1:
            best_i, best_rank = -1, None
            for i in range(len(parts) - 1):
                rank = self.ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_i, best_rank = i, rank
            if best_rank is None:
                break
            parts[best_i:best_i + 2] = [parts[best_i] + parts[best_i + 1]]
        return [self.ranks[p] for p in parts]

    def encode(self, text: str) -> list[int]:
        return [i for piece in self.pattern.findall(text) for i in self.encode_piece(piece.encode("utf-8"))]

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.id_to_bytes[i] for i in ids).decode("utf-8", errors="replace")


def make_encoding(ranks: dict[bytes, int], name: str = "gptmini-pt",
                  pattern: str = PRETOKENIZE_PATTERN) -> tiktoken.Encoding:
    """Um tiktoken.Encoding com os nossos ranks e <|endoftext|> no id seguinte ao último rank."""
    return tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens={END_OF_TEXT: len(ranks)})


def save_tokenizer(ranks: dict[bytes, int], path, name: str = "gptmini-pt") -> None:
    """Grava os ranks (em base64, na ordem) e a expressão regular num JSON legível."""
    ordered = sorted(ranks, key=ranks.get)
    assert [ranks[t] for t in ordered] == list(range(len(ordered))), "ranks precisam ser 0..n-1"
    data = {"nome": name, "padrao": PRETOKENIZE_PATTERN, "tokens_especiais": {END_OF_TEXT: len(ordered)},
            "ranks": [base64.b64encode(t).decode("ascii") for t in ordered]}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def load_tokenizer(path=None) -> tiktoken.Encoding:
    """O tokenizador do curso (dados/tokenizador.json), como um tiktoken.Encoding."""
    data = json.loads(Path(path or data_file("tokenizador.json")).read_text(encoding="utf-8"))
    ranks = {base64.b64decode(t): rank for rank, t in enumerate(data["ranks"])}
    return make_encoding(ranks, name=data["nome"], pattern=data["padrao"])


class GPTDataset(Dataset):
    """Janelas de `context_length` tokens (entrada) e as mesmas deslocadas de um (alvo)."""

    def __init__(self, ids, context_length: int, stride: int):
        ids = torch.as_tensor(ids, dtype=torch.long)
        if len(ids) <= context_length:
            raise ValueError(f"São precisos mais de {context_length} tokens; há só {len(ids)}.")
        self.ids, self.context_length = ids, context_length
        self.starts = range(0, len(ids) - context_length, stride)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        s = self.starts[i]
        return self.ids[s:s + self.context_length], self.ids[s + 1:s + self.context_length + 1]


def create_dataloader(ids, context_length: int, stride: int, batch_size: int, shuffle: bool = True,
                      drop_last: bool = True, seed: int = 0) -> DataLoader:
    """DataLoader de janelas; com shuffle, a ordem depende só de `seed` (reprodutível)."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(GPTDataset(ids, context_length, stride), batch_size=batch_size, shuffle=shuffle,
                      drop_last=drop_last, generator=generator)


def encode_documents(tokenizer: tiktoken.Encoding, documents: list[str]) -> list[int]:
    """Os documentos tokenizados em sequência, com <|endoftext|> depois de cada um."""
    ids = []
    for doc in tokenizer.encode_ordinary_batch(documents):
        ids += doc + [tokenizer.eot_token]
    return ids
