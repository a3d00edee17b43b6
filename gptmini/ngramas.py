"""O modelo de linguagem por contagem de caracteres do capítulo 01.

Gerado das células "#| export ngramas" de 01-intro por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import math
from collections import Counter

import numpy as np


class CharNGramModel:
    """Modelo de linguagem de caracteres por contagem, com suavização por recuo (backoff)."""

    def __init__(self, order: int, alpha: float = 1.0):
        self.order = order  # contexto de order - 1 caracteres
        self.alpha = alpha
        self.counts: list[dict[str, Counter]] = []

    def fit(self, text: str) -> "CharNGramModel":
        self.vocab = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.counts = []
        for k in range(self.order):  # k = tamanho do contexto
            table: dict[str, Counter] = {}
            for i in range(k, len(text)):
                table.setdefault(text[i - k:i], Counter())[text[i]] += 1
            self.counts.append(table)
        self.totals = [{h: sum(c.values()) for h, c in table.items()} for table in self.counts]
        return self

    def prob(self, context: str, char: str) -> float:
        """P(char | context), do contexto vazio ao mais longo."""
        p = 1.0 / (len(self.vocab) + 1)  # +1: uma vaga para caracteres nunca vistos
        for k in range(min(self.order - 1, len(context)) + 1):
            h = context[len(context) - k:]
            if h not in self.totals[k]:
                break
            p = (self.counts[k][h][char] + self.alpha * p) / (self.totals[k][h] + self.alpha)
        return p

    def distribution(self, context: str) -> np.ndarray:
        """Probabilidades de todos os caracteres do vocabulário depois de `context`."""
        return np.array([self.prob(context, c) for c in self.vocab])

    def bits_per_char(self, text: str) -> float:
        """Entropia cruzada média em bits por caractere: quanto menor, melhor o modelo prevê."""
        total = sum(-math.log2(self.prob(text[max(0, i - self.order + 1):i], text[i]))
                    for i in range(len(text)))
        return total / len(text)

    def generate(self, prompt: str, length: int, rng: np.random.Generator, temperature: float = 1.0) -> str:
        text = prompt
        for _ in range(length):
            probs = self.distribution(text[len(text) - self.order + 1:] if self.order > 1 else "")
            probs = probs ** (1 / temperature)
            text += self.vocab[rng.choice(len(self.vocab), p=probs / probs.sum())]
        return text
