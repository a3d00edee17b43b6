"""O modelo de linguagem por contagem de caracteres do capítulo 01.

Gerado das células "#| export ngramas" de 01-intro por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import numpy as np


def backoff(count, total, alpha: float, p_shorter):
    """(contagem(h, c) + alpha · P(c | h')) / (contagem(h) + alpha); se h nunca foi visto, fica P(c | h')."""
    return np.where(total > 0, (count + alpha * p_shorter) / np.maximum(total + alpha, 1e-12), p_shorter)


class CharNGramModel:
    """Modelo de linguagem de caracteres por contagem, com suavização por recuo (backoff).

    As contagens ficam em tabelas do NumPy, uma por tamanho de trecho: cada trecho de texto ganha
    um número, e contar trechos iguais vira contar números iguais, com `np.unique`.
    """

    def __init__(self, order: int, alpha: float = 1.0):
        if order < 1:
            raise ValueError(f"order deve ser 1 ou mais (o contexto tem order - 1 caracteres), não {order}")
        self.order = order  # contexto de order - 1 caracteres
        self.alpha = alpha

    def _codes(self, text: str) -> np.ndarray:
        """Cada caractere vira seu número no alfabeto (1, 2, ...); 0 é um caractere nunca visto."""
        return np.array([self.index.get(c, 0) for c in text], dtype=np.int64)

    def fit(self, text: str) -> "CharNGramModel":
        if not text:
            raise ValueError("o texto de treino está vazio")
        self.vocab = sorted(set(text))
        self.index = {c: i + 1 for i, c in enumerate(self.vocab)}
        self.base = len(self.vocab) + 1
        codes, n = self._codes(text), len(text)
        # O trecho de k + 1 caracteres que começa na posição s é o par (número do trecho de k
        # caracteres que começa em s, código do caractere seguinte), escrito como um número só.
        # np.unique acha os trechos diferentes, dá a cada um seu número e conta as repetições.
        ids = np.zeros(n + 1, dtype=np.int64)  # o trecho vazio tem o número 0
        self.grams, self.gram_counts, self.context_totals = [], [], []
        for k in range(self.order):  # k = tamanho do contexto
            contexts = ids[:n - k]  # os trechos de k caracteres que têm um caractere depois
            self.context_totals.append(np.bincount(contexts, minlength=ids.max(initial=0) + 1))
            grams, ids, counts = np.unique(contexts * self.base + codes[k:], return_inverse=True,
                                           return_counts=True)
            self.grams.append(grams)  # em ordem crescente: np.searchsorted acha um trecho
            self.gram_counts.append(counts)
        return self

    def _ids(self, codes: np.ndarray, length: int) -> list[np.ndarray]:
        """ids[k][s]: o número do trecho codes[s:s+k] no treino (k até `length`), ou -1 se ele nunca apareceu."""
        ids = [np.zeros(len(codes) + 1, dtype=np.int64)]
        for k in range(min(length, len(codes))):
            shorter = ids[k][:len(codes) - k]
            keys = np.where(shorter >= 0, shorter * self.base + codes[k:], -1)
            if len(self.grams[k]) == 0:  # o treino era mais curto que k + 1 caracteres
                ids.append(np.full(len(keys), -1))
                continue
            pos = np.minimum(np.searchsorted(self.grams[k], keys), len(self.grams[k]) - 1)
            ids.append(np.where((keys >= 0) & (self.grams[k][pos] == keys), pos, -1))
        return ids

    def _all_probs(self, context: str) -> np.ndarray:
        """P(c | context) para c = 0 (caractere nunca visto), 1, 2, ... (o alfabeto)."""
        h = context[max(0, len(context) - self.order + 1):]  # só os últimos order - 1 caracteres contam
        ids = self._ids(self._codes(h), len(h))
        p = np.full(self.base, 1.0 / self.base)  # no fundo, a uniforme (+1: a vaga dos nunca vistos)
        for k in range(len(h) + 1):  # do contexto vazio ao mais longo
            context_id = ids[k][len(h) - k]  # o trecho h[-k:]
            if context_id < 0 or self.context_totals[k][context_id] == 0:
                break  # contexto nunca visto: fica a estimativa do contexto mais curto
            pos = np.searchsorted(self.grams[k], context_id * self.base + np.arange(self.base))
            pos = np.minimum(pos, len(self.grams[k]) - 1)
            found = self.grams[k][pos] == context_id * self.base + np.arange(self.base)
            p = backoff(np.where(found, self.gram_counts[k][pos], 0), self.context_totals[k][context_id],
                        self.alpha, p)
        return p

    def prob(self, context: str, char: str) -> float:
        """P(char | context), do contexto vazio ao mais longo."""
        return float(self._all_probs(context)[self.index.get(char, 0)])

    def distribution(self, context: str) -> np.ndarray:
        """Probabilidades de todos os caracteres do vocabulário depois de `context`."""
        return self._all_probs(context)[1:]

    def context_counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """As contagens que P(text[i] | text[i-k:i]) usa, para toda posição i e todo k < order.

        Devolve (counts, totals), de formato (order, len(text)): quantas vezes, no treino, o contexto
        de k caracteres foi seguido de text[i], e de qualquer caractere (0 se nunca visto ou se i < k).
        """
        codes, n = self._codes(text), len(text)
        ids = self._ids(codes, self.order)
        counts, totals = np.zeros((self.order, n)), np.zeros((self.order, n))
        for k in range(min(self.order, n)):
            context, gram = ids[k][:n - k], ids[k + 1]
            # um 0 no fim de cada tabela: o número -1 (trecho nunca visto) lê esse 0
            totals[k, k:] = np.append(self.context_totals[k], 0)[context]
            counts[k, k:] = np.append(self.gram_counts[k], 0)[gram]
        return counts, totals

    def bits_per_char(self, text: str) -> float:
        """Entropia cruzada média em bits por caractere: quanto menor, melhor o modelo prevê."""
        if not text:
            raise ValueError("o texto para medir está vazio")
        counts, totals = self.context_counts(text)
        p = np.full(len(text), 1.0 / self.base)
        for k in range(self.order):  # do contexto vazio ao mais longo, todas as posições de uma vez
            p = backoff(counts[k], totals[k], self.alpha, p)
        return float(-np.log2(p).mean())

    def generate(self, prompt: str, length: int, rng: np.random.Generator, temperature: float = 1.0) -> str:
        text = prompt
        for _ in range(length):
            probs = self.distribution(text) ** (1 / temperature)
            text += self.vocab[rng.choice(len(self.vocab), p=probs / probs.sum())]
        return text


def best_count_model(train_text: str, val_text: str, orders=range(1, 11),
                     alphas=(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)):
    """O melhor modelo de contagem: testa cada ordem e cada alpha e fica com o que vai melhor na validação.

    Conta uma vez só, na maior ordem (as tabelas dela contêm as das ordens menores). Devolve
    (modelo, tabela): o modelo com a melhor ordem e o melhor alpha, e uma linha por combinação,
    (ordem, alpha, bits por caractere no treino, bits por caractere na validação). O treino é
    medido no seu começo, num trecho do tamanho da validação, para comparar os dois.
    """
    model = CharNGramModel(max(orders)).fit(train_text)
    texts = (train_text[:len(val_text)], val_text)
    measured = [model.context_counts(text) for text in texts]
    bpc = {}
    for alpha in alphas:
        p = [np.full(len(text), 1.0 / model.base) for text in texts]
        for k in range(max(orders)):  # a ordem k + 1 é a ordem k com mais um passo de recuo
            p = [backoff(counts[k], totals[k], alpha, q) for (counts, totals), q in zip(measured, p)]
            if k + 1 in orders:
                bpc[k + 1, alpha] = [float(-np.log2(q).mean()) for q in p]
    table = [(order, alpha, *bpc[order, alpha]) for order in orders for alpha in alphas]
    model.order, model.alpha, _, _ = min(table, key=lambda row: row[3])
    for tables in (model.grams, model.gram_counts, model.context_totals):
        del tables[model.order:]  # as tabelas além da melhor ordem não servem mais
    return model, table
