"""Pré-treino: taxa de aprendizado, lotes, otimizador, retomada idêntica e o modelo base publicado."""

import json
import math

import pytest
import torch
from conftest import RAIZ

import gptmini
from gptmini import PRESETS, GPTDataset, GPTMini, TrainConfig, configure_optimizer, encode_documents, learning_rate
from gptmini.treino import (
    TRAIN_PRESETS,
    bits_per_char,
    evaluate,
    get_batch,
    load_training_state,
    save_training_state,
    train,
)


@pytest.fixture(scope="module")
def dados():
    tokenizer = gptmini.load_tokenizer()
    treino = encode_documents(tokenizer, gptmini.read_corpus("treino")[:30])
    validacao = encode_documents(tokenizer, gptmini.read_corpus("validacao")[:5])
    return treino, validacao


def test_taxa_de_aprendizado_aquece_e_desce_em_cosseno():
    cfg = TrainConfig(max_steps=100, warmup_steps=10, lr=1.0, min_lr_ratio=0.1)
    assert learning_rate(0, cfg) == pytest.approx(0.1)
    assert learning_rate(9, cfg) == pytest.approx(1.0)
    assert learning_rate(55, cfg) == pytest.approx(0.55)  # meio do cosseno: média entre 1 e 0,1
    assert learning_rate(99, cfg) == pytest.approx(0.1, abs=1e-3)
    assert all(learning_rate(s, cfg) >= learning_rate(s + 1, cfg) for s in range(10, 99))


def test_lotes_dependem_so_da_semente_e_do_passo():
    ds = GPTDataset(list(range(500)), context_length=16, stride=1)
    a, b = get_batch(ds, 7, 4, seed=1), get_batch(ds, 7, 4, seed=1)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(a[0][:, 1:], a[1][:, :-1])
    assert not torch.equal(a[0], get_batch(ds, 8, 4, seed=1)[0])


def test_weight_decay_so_nas_matrizes():
    modelo = GPTMini(PRESETS["rapido"])
    com, sem = configure_optimizer(modelo, TrainConfig(weight_decay=0.1), torch.device("cpu")).param_groups
    assert com["weight_decay"] == 0.1 and all(p.dim() == 2 for p in com["params"])
    assert sem["weight_decay"] == 0.0 and all(p.dim() == 1 for p in sem["params"])
    assert len(com["params"]) + len(sem["params"]) == len(list(modelo.parameters()))


def test_bits_por_caractere():
    assert bits_per_char(math.log(2) * 3.5, 3.5) == pytest.approx(1.0)


def test_treino_retomado_segue_a_mesma_curva(dados, tmp_path, monkeypatch):
    """O preset rápido, interrompido no meio, salvo, carregado e retomado: perdas idênticas."""
    treino, validacao = dados
    cfg_modelo, cfg_treino = TRAIN_PRESETS["rapido"]
    cfg_treino = TrainConfig(**{**cfg_treino.__dict__, "max_steps": 16, "eval_interval": 8, "sample_interval": 0})
    torch.manual_seed(0)
    direto = train(GPTMini(cfg_modelo), treino, validacao, cfg_treino, torch.device("cpu"), progress=False)
    torch.manual_seed(0)
    modelo = GPTMini(cfg_modelo)
    metade = train(modelo, treino, validacao, cfg_treino, torch.device("cpu"), stop_at=8, progress=False)
    save_training_state(tmp_path / "t.pt", modelo, metade, cfg_treino)
    leituras = []
    carregar = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: leituras.append(a[0]) or carregar(*a, **k))
    modelo2, estado2, cfg2 = load_training_state(tmp_path / "t.pt", torch.device("cpu"))
    assert leituras == [tmp_path / "t.pt"], "o checkpoint de treino deve ser lido uma vez só"
    assert metade.history["val_step"] == [8] and metade.history["step"][0] == 1  # passos contados a partir de 1
    retomado = train(modelo2, treino, validacao, cfg2, torch.device("cpu"), state=estado2, progress=False)
    assert cfg2 == cfg_treino and estado2.step == 8
    assert retomado.history["train_loss"] == direto.history["train_loss"]
    assert retomado.history["val_loss"] == direto.history["val_loss"]
    assert direto.history["train_loss"][-1] < direto.history["train_loss"][0]  # aprendeu algo


def test_modelo_base_publicado_confere_com_a_ficha():
    ficha = json.loads((RAIZ / "dados" / "modelos" / "base.json").read_text(encoding="utf-8"))["metricas"]
    modelo = gptmini.load_pretrained("base")
    assert modelo.config == PRESETS["cpu"].__class__(**{**PRESETS["cpu"].__dict__, "dropout": modelo.config.dropout})
    tokenizer = gptmini.load_tokenizer()
    docs = gptmini.read_corpus("validacao")
    ids = encode_documents(tokenizer, docs)
    perda = evaluate(modelo, ids, modelo.config.context_length, torch.device("cpu"))
    assert perda == pytest.approx(ficha["perda_validacao"], abs=2e-3)
    bpc = bits_per_char(perda, len("\n\n".join(docs)) / len(ids))
    assert bpc == pytest.approx(ficha["bits_por_caractere_validacao"], abs=2e-3)
    checkpoint = torch.load(RAIZ / "dados" / "modelos" / "base.pt", weights_only=True)
    assert checkpoint["metricas"] == ficha
    assert (RAIZ / "dados" / "modelos" / "base.pt").stat().st_size <= 25 * 2**20


def test_modelo_publicado_desconhecido():
    with pytest.raises(ValueError, match="Disponíveis"):
        gptmini.load_pretrained("inexistente")
