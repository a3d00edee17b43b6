"""O tokenizador do curso: volta exata, ids idênticos ao tiktoken, token especial seguro, janelas."""

import base64
import json
import random
from collections import Counter

import pytest
import regex
import torch
from conftest import RAIZ

from gptmini import GPTDataset, create_dataloader, encode_documents
from gptmini.tokenizacao import PRETOKENIZE_PATTERN, BPETokenizer, SimpleTokenizer, train_bpe

EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def ranks():
    dados = json.loads((RAIZ / "dados" / "tokenizador.json").read_text(encoding="utf-8"))
    return {base64.b64decode(t): r for r, t in enumerate(dados["ranks"])}


def texto_aleatorio(rng: random.Random, n: int) -> str:
    faixas = [(0x20, 0x7E), (0xC0, 0x17F), (0x370, 0x3FF), (0x4E00, 0x4E80), (0x1F600, 0x1F64F), (0x9, 0xD)]
    return "".join(chr(rng.randint(*rng.choice(faixas))) for _ in range(n))


def test_volta_exata_em_qualquer_unicode(tokenizer):
    exemplos = ["", " ", "\n\n\t  ", "Ação, coração e pão.", "naïve café 東京 🙂👍🏽", "\x00\x7f\u200b\ufeff",
                "   espaços   demais   ", "1234567890", "a" * 500]
    rng = random.Random(0)
    exemplos += [texto_aleatorio(rng, rng.randint(1, 200)) for _ in range(200)]
    for texto in exemplos:
        assert tokenizer.decode(tokenizer.encode_ordinary(texto)) == texto


def test_do_zero_e_tiktoken_dao_os_mesmos_ids_na_validacao(tokenizer, ranks):
    validacao = (RAIZ / "dados" / "corpus_validacao.txt").read_text(encoding="utf-8")
    do_zero = BPETokenizer(ranks)
    assert do_zero.encode(validacao) == tokenizer.encode_ordinary(validacao)
    rng = random.Random(1)
    for _ in range(50):
        texto = texto_aleatorio(rng, 80)
        assert do_zero.encode(texto) == tokenizer.encode_ordinary(texto)


def test_token_especial_digitado_nao_vira_especial(tokenizer):
    texto = f"um texto qualquer {EOT} que continua"
    ids = tokenizer.encode_ordinary(texto)
    assert tokenizer.eot_token not in ids
    assert tokenizer.decode(ids) == texto
    with pytest.raises(ValueError):
        tokenizer.encode(texto)
    assert tokenizer.encode(EOT, allowed_special={EOT}) == [tokenizer.eot_token] == [4095]


def bpe_ingenuo(texto: str, tamanho: int) -> list[bytes]:
    """A versão direta do capítulo: reconta todos os pares a cada fusão."""
    palavras = Counter(regex.findall(PRETOKENIZE_PATTERN, texto))
    seqs = {p: list(p.encode("utf-8")) for p in palavras}
    tokens = [bytes([i]) for i in range(256)]
    for _ in range(tamanho - 257):
        pares = Counter()
        for p, seq in seqs.items():
            for par in zip(seq, seq[1:]):
                pares[par] += palavras[p]
        if not pares:
            break
        maximo = max(pares.values())
        par = min(par for par, n in pares.items() if n == maximo)  # empate: o par de menores ids
        novo_id = len(tokens)
        tokens.append(tokens[par[0]] + tokens[par[1]])
        for p, seq in seqs.items():
            i, novo = 0, []
            while i < len(seq):
                if i < len(seq) - 1 and (seq[i], seq[i + 1]) == par:
                    novo.append(novo_id)
                    i += 2
                else:
                    novo.append(seq[i])
                    i += 1
            seqs[p] = novo
    return tokens[256:]


def test_treino_rapido_igual_ao_ingenuo():
    texto = (RAIZ / "dados" / "corpus_validacao.txt").read_text(encoding="utf-8")[:20_000]
    ranks = train_bpe(texto, 256 + 1 + 150, progress=False)
    por_rank = sorted(ranks, key=ranks.get)
    assert list(ranks.values()) == list(range(len(ranks)))
    assert por_rank[:256] == [bytes([i]) for i in range(256)]
    assert por_rank[256:] == bpe_ingenuo(texto, 256 + 1 + 150)


def test_tokenizador_simples_usa_unk():
    tok = SimpleTokenizer("o gato comeu o peixe.")
    ids = tok.encode("o cachorro comeu.")
    assert ids[1] == tok.str_to_id["<|unk|>"]
    assert tok.decode(tok.encode("o gato comeu o peixe.")) == "o gato comeu o peixe."


def test_janelas_deslizantes():
    ids = list(range(100))
    ds = GPTDataset(ids, context_length=8, stride=4)
    assert len(ds) == len(range(0, 100 - 8, 4))
    x, y = ds[3]
    assert x.tolist() == list(range(12, 20)) and y.tolist() == list(range(13, 21))
    xb, yb = next(iter(create_dataloader(ids, 8, 8, batch_size=5, shuffle=True, seed=1)))
    assert xb.shape == yb.shape == (5, 8) and xb.dtype == torch.long
    assert torch.equal(xb[:, 1:], yb[:, :-1])
    x_again, _ = next(iter(create_dataloader(ids, 8, 8, batch_size=5, shuffle=True, seed=1)))
    assert torch.equal(xb, x_again), "a ordem embaralhada depende só da semente"
    with pytest.raises(ValueError):
        GPTDataset(list(range(5)), context_length=8, stride=1)


def test_documentos_separados_por_fim_de_texto(tokenizer):
    ids = encode_documents(tokenizer, ["Olá.", "Tchau."])
    assert ids.count(tokenizer.eot_token) == 2 and ids[-1] == tokenizer.eot_token
    assert tokenizer.decode(ids) == f"Olá.{EOT}Tchau.{EOT}"
