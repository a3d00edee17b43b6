"""O modelo de contagem do capítulo 01."""

import math

import pytest

from gptmini import CharNGramModel, read_corpus


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
