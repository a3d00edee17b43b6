"""O modelo de contagem do capítulo 01."""

import math

import pytest

from gptmini import read_corpus
from gptmini.ngramas import CharNGramModel


def test_probabilidades_somam_um():
    modelo = CharNGramModel(order=3, alpha=2.0).fit("a casa da casada casou com o casamento")
    for contexto in ("", "c", "ca", "xz", "a c"):
        nao_visto = modelo.prob(contexto, "☃")  # a vaga dos caracteres nunca vistos
        assert sum(modelo.distribution(contexto)) + nao_visto == pytest.approx(1.0)
        assert nao_visto > 0


def test_mais_contexto_ajuda_em_texto_repetitivo():
    texto = "o rato roeu a roupa do rei de roma. " * 30
    bpc = [CharNGramModel(order=n).fit(texto).bits_per_char(texto[:200]) for n in (1, 2, 4)]
    assert bpc[0] > bpc[1] > bpc[2]
    assert bpc[0] < math.log2(len(set(texto)) + 1)  # melhor que sortear


def test_geracao_reprodutivel():
    import numpy as np

    modelo = CharNGramModel(order=3).fit("banana bandana cabana " * 10)
    a = modelo.generate("ba", 50, np.random.default_rng(3))
    b = modelo.generate("ba", 50, np.random.default_rng(3))
    assert a == b and a.startswith("ba") and len(a) == 52


def test_corpus_dividido():
    treino, validacao = read_corpus("treino"), read_corpus("validacao")
    assert len(treino) > 5 * len(validacao) > 0
    with pytest.raises(ValueError, match="split"):
        read_corpus("teste")


def test_bits_por_caractere_concorda_com_prob():
    """bits_per_char (todas as posições de uma vez) e prob (uma posição por vez) são a mesma conta."""
    treino = "a casa da casada casou com o casamento da casa. " * 5
    texto = "a casada do casamento caseiro ☃"  # com contextos e um caractere nunca vistos
    for order in (1, 3, 6):
        modelo = CharNGramModel(order=order, alpha=3.0).fit(treino)
        uma_a_uma = [-math.log2(modelo.prob(texto[max(0, i - order + 1):i], c)) for i, c in enumerate(texto)]
        assert modelo.bits_per_char(texto) == pytest.approx(sum(uma_a_uma) / len(texto), rel=1e-12)


def test_melhor_modelo_de_contagem_e_o_minimo_da_tabela():
    from gptmini.ngramas import best_count_model

    treino, validacao = "\n\n".join(read_corpus("treino")[:20]), "\n\n".join(read_corpus("validacao")[:4])
    modelo, tabela = best_count_model(treino, validacao, orders=range(1, 5), alphas=(1.0, 8.0, 64.0))
    assert [(o, a) for o, a, _, _ in tabela] == [(o, a) for o in range(1, 5) for a in (1.0, 8.0, 64.0)]
    ordem, alpha, _, bpc_val = min(tabela, key=lambda linha: linha[3])
    assert (modelo.order, modelo.alpha) == (ordem, alpha)
    assert modelo.bits_per_char(validacao) == pytest.approx(bpc_val, rel=1e-12)
