"""Os dados do curso: tamanho, codificação, duplicatas e divisões fixas."""

import json
import re
import unicodedata

import pytest
from conftest import RAIZ
from construir_dados import FIM_DE_TEXTO, documentos_do_corpus, sha256_bytes, vai_para_validacao

DADOS = RAIZ / "dados"


def documentos(split):
    texto = (DADOS / f"corpus_{split}.txt").read_text(encoding="utf-8")
    return [d.strip() for d in texto.split(FIM_DE_TEXTO) if d.strip()]


@pytest.fixture(scope="module")
def corpus():
    return {"treino": documentos("treino"), "validacao": documentos("validacao")}


def test_tamanho_minimo(corpus):
    total = sum(len(d.encode("utf-8")) for docs in corpus.values() for d in docs)
    assert total >= 800_000, f"o corpus encolheu: {total} bytes"


def test_codificacao_limpa(corpus):
    for docs in corpus.values():
        for doc in docs:
            assert unicodedata.is_normalized("NFC", doc)
            assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\r]", doc), "caractere de controle no corpus"
            assert not re.search(r" +\n", doc), "espaço no fim de linha"


def test_sem_paragrafos_repetidos(corpus):
    vistos = {}
    for split, docs in corpus.items():
        for doc in docs:
            for paragrafo in doc.split("\n\n")[1:]:  # o primeiro é o título
                if len(paragrafo) > 40:
                    assert paragrafo not in vistos, f"repetido ({vistos[paragrafo]}, {split}): {paragrafo[:80]}"
                    vistos[paragrafo] = split


def test_divisao_fixa_e_disjunta(corpus):
    treino, validacao = set(corpus["treino"]), set(corpus["validacao"])
    assert not treino & validacao
    assert all(vai_para_validacao(d) for d in validacao)
    assert not any(vai_para_validacao(d) for d in treino)
    assert 0.05 < len(validacao) / (len(treino) + len(validacao)) < 0.15
    assert len(treino) + len(validacao) == len(documentos_do_corpus())


def test_todos_os_generos_nas_duas_divisoes():
    generos_val = {g for g, d in documentos_do_corpus() if vai_para_validacao(d)}
    assert generos_val == {g for g, _ in documentos_do_corpus()}


def test_tokenizador_publicado_vem_do_treino_atual(corpus):
    dados = json.loads((DADOS / "tokenizador.json").read_text(encoding="utf-8"))
    texto = "\n\n".join(corpus["treino"])
    assert dados["texto_sha256"] == sha256_bytes(texto.encode("utf-8"))
    assert len(dados["ranks"]) == 4095 and dados["tokens_especiais"] == {FIM_DE_TEXTO: 4095}
