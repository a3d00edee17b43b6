"""Classificação: último token com enchimento, métricas, congelamento e o classificador publicado."""

import json

import pytest
import torch
import torch.nn as nn
from conftest import RAIZ

import gptmini
from gptmini import GPTConfig, GPTMini, classify, load_checkpoint, save_checkpoint
from gptmini.classificacao import (
    LABELS,
    LoRALinear,
    add_classification_head,
    add_lora,
    binary_metrics,
    encode_messages,
    freeze_for_finetuning,
    last_token_logits,
    merge_lora,
    predict,
    train_classifier,
)

PEQUENO = GPTConfig(vocab_size=4096, context_length=32, d_model=32, n_heads=2, n_layers=2, dropout=0.0)


def test_ultimo_token_real_ignora_o_enchimento():
    torch.manual_seed(0)
    modelo = add_classification_head(GPTMini(PEQUENO)).eval()
    tokenizer = gptmini.load_tokenizer()
    textos = ["oi", "uma mensagem bem mais comprida que a primeira, com vírgulas e tudo"]
    ids, comprimentos = encode_messages(tokenizer, textos, 32, tokenizer.eot_token)
    assert ids.shape[0] == 2 and comprimentos[0] < comprimentos[1] == ids.shape[1]
    assert (ids[0, comprimentos[0]:] == tokenizer.eot_token).all()
    with torch.no_grad():
        no_lote = last_token_logits(modelo, ids, comprimentos)
        sozinho = modelo(ids[:1, : comprimentos[0]])[0, -1]
    assert no_lote.shape == (2, 2)
    assert torch.allclose(no_lote[0], sozinho, atol=1e-5)


def test_corte_no_contexto():
    tokenizer = gptmini.load_tokenizer()
    ids, comprimentos = encode_messages(tokenizer, ["palavra " * 100, ""], 32, tokenizer.eot_token)
    assert ids.shape == (2, 32) and comprimentos.tolist() == [32, 1]


def test_metricas_contra_contas_a_mao():
    previsto = torch.tensor([1, 1, 0, 0, 1, 0, 1, 0, 0, 0])
    verdade = torch.tensor([1, 0, 0, 1, 1, 0, 1, 1, 0, 0])
    m = binary_metrics(previsto, verdade)
    # VP = 3, FP = 1, FN = 2, VN = 4
    assert m["confusao"] == [[4, 1], [2, 3]]
    assert m["acuracia"] == pytest.approx(0.7)
    assert m["precisao"] == pytest.approx(3 / 4)
    assert m["revocacao"] == pytest.approx(3 / 5)
    assert m["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert binary_metrics(torch.zeros(4), torch.zeros(4))["precisao"] == 0.0  # sem divisão por zero


def test_congelamento():
    modelo = add_classification_head(GPTMini(PEQUENO))
    so_cabeca = freeze_for_finetuning(modelo, "cabeca")
    assert so_cabeca == 32 * 2 + 2
    ultimo = freeze_for_finetuning(modelo, "ultimo_bloco")
    assert ultimo == so_cabeca + sum(p.numel() for p in modelo.blocks[-1].parameters()) + 64
    assert freeze_for_finetuning(modelo, "tudo") == modelo.num_parameters()
    with pytest.raises(ValueError):
        freeze_for_finetuning(modelo, "metade")


def test_lora_comeca_igual_treina_so_os_adaptadores_e_se_funde():
    torch.manual_seed(0)
    modelo = add_classification_head(GPTMini(PEQUENO)).eval()
    ids = torch.randint(0, PEQUENO.vocab_size, (2, 12))
    with torch.no_grad():
        original = modelo(ids)
    treinaveis = add_lora(modelo, rank=4, alpha=8)
    assert torch.allclose(modelo(ids), original, atol=1e-6)  # B = 0: a mesma saída do modelo sem LoRA
    livres = {n for n, p in modelo.named_parameters() if p.requires_grad}
    assert livres and all(n.endswith((".A", ".B")) or n.startswith("out_head.") for n in livres)
    # 2 blocos × r · (d_in + d_out) de qkv (32→96), out_proj (32→32), expand (32→128) e proj (128→32), mais a cabeça
    assert treinaveis == 2 * 4 * ((32 + 96) + (32 + 32) + (32 + 128) + (128 + 32)) + 32 * 2 + 2
    modelo(ids)[:, -1].sum().backward()
    qkv = modelo.blocks[0].att.qkv
    assert qkv.linear.weight.grad is None and qkv.B.grad.abs().sum() > 0  # W congelada; B aprende
    assert qkv.A.grad.abs().sum() == 0  # com B = 0, A ainda não recebe gradiente
    for modulo in modelo.modules():  # uma correção qualquer, como a de um treino
        if isinstance(modulo, LoRALinear):
            nn.init.normal_(modulo.B, std=0.1)
    with torch.no_grad():
        adaptado = modelo(ids)
        assert not torch.allclose(adaptado, original, atol=1e-3)
        merge_lora(modelo)
        assert torch.allclose(modelo(ids), adaptado, atol=1e-5)  # a fusão não muda a saída
    assert not any(isinstance(m, LoRALinear) for m in modelo.modules())
    assert set(modelo.state_dict()) == set(add_classification_head(GPTMini(PEQUENO)).state_dict())
    with pytest.raises(ValueError, match="targets"):
        add_lora(add_classification_head(GPTMini(PEQUENO)), targets=("mlp",))


def test_treino_fica_com_a_melhor_epoca():
    mensagens = [json.loads(linha) for linha in (RAIZ / "dados" / "mensagens.jsonl").read_text("utf-8").splitlines()]

    def amostra(particao, n):  # as n primeiras de cada rótulo
        return [m for rotulo in LABELS
                for m in [x for x in mensagens if x["particao"] == particao and x["rotulo"] == rotulo][:n]]

    treino, validacao = amostra("treino", 32), amostra("validacao", 24)
    tokenizer = gptmini.load_tokenizer()
    for semente in range(10):  # a primeira semente em que a última época piora (qual é depende do tokenizador)
        torch.manual_seed(semente)
        modelo = add_classification_head(GPTMini(PEQUENO))
        historico = train_classifier(modelo, tokenizer, treino, validacao, "cpu", epochs=4, lr=3e-2, progress=False)
        acuracias = historico["val_accuracy"]
        assert len(acuracias) == 4 and historico["best_epoch"] == acuracias.index(max(acuracias)) + 1
        if acuracias[-1] < max(acuracias):
            break
    else:
        pytest.fail("em nenhuma semente a última época piorou: o teste não conferiria nada")
    # os pesos que ficaram são os da melhor época, não os da última
    rotulos = torch.tensor([LABELS.index(m["rotulo"]) for m in validacao])
    previsto = predict(modelo, tokenizer, [m["texto"] for m in validacao], "cpu")
    assert (previsto == rotulos).float().mean().item() == pytest.approx(max(acuracias))


def test_classificador_ida_e_volta(tmp_path):
    torch.manual_seed(0)
    modelo = add_classification_head(GPTMini(PEQUENO)).eval()
    save_checkpoint(modelo, tmp_path / "c.pt")
    carregado = load_checkpoint(tmp_path / "c.pt")
    tokenizer = gptmini.load_tokenizer()
    textos = ["ganhe já", "bom dia"]
    assert torch.equal(predict(modelo, tokenizer, textos, "cpu"), predict(carregado, tokenizer, textos, "cpu"))
    assert classify(carregado, tokenizer, "oi") in LABELS


def test_classificador_publicado_confere_com_a_ficha():
    ficha = json.loads((RAIZ / "dados" / "modelos" / "classificador.json").read_text(encoding="utf-8"))
    modelo = gptmini.load_pretrained("classificador")
    tokenizer = gptmini.load_tokenizer()
    mensagens = [json.loads(linha) for linha in (RAIZ / "dados" / "mensagens.jsonl").read_text("utf-8").splitlines()]
    teste = [m for m in mensagens if m["particao"] == "teste"]
    rotulos = torch.tensor([LABELS.index(m["rotulo"]) for m in teste])
    metricas = binary_metrics(predict(modelo, tokenizer, [m["texto"] for m in teste], "cpu"), rotulos)
    # no máximo uma mensagem de diferença (um empate numérico numa CPU com outra biblioteca de contas)
    assert metricas["acuracia"] == pytest.approx(ficha["metricas_teste"]["acuracia"], abs=1 / len(teste) + 1e-9)
    assert ficha["mensagens_teste"] == len(teste)
    assert classify(modelo, tokenizer, "PARABÉNS! Você ganhou R$ 10.000! Resgate em bit.ly/premio-ja") == "spam"
    assert classify(modelo, tokenizer, "Oi, chego em casa às sete. Quer que eu compre pão?") == "normal"
    assert (RAIZ / "dados" / "modelos" / "classificador.pt").stat().st_size <= 25 * 2**20


def test_classify_recusa_entrada_errada_com_mensagem_clara():
    tokenizer = gptmini.load_tokenizer()
    classificador = add_classification_head(GPTMini(PEQUENO))
    with pytest.raises(TypeError, match="str"):
        classify(classificador, tokenizer, None)
    with pytest.raises(ValueError, match="classificador"):
        classify(GPTMini(PEQUENO), tokenizer, "oi")  # um modelo de linguagem, sem a cabeça de classes


def test_predict_devolve_o_modo_de_treino():
    modelo = add_classification_head(GPTMini(PEQUENO)).train()
    predict(modelo, gptmini.load_tokenizer(), ["oi"], "cpu")
    assert modelo.training


def test_outras_grafias_do_treino_do_classificador(monkeypatch):
    import importlib.util
    monkeypatch.syspath_prepend(str(RAIZ / "ferramentas"))  # como ao rodar o script
    spec = importlib.util.spec_from_file_location("treinar_classificador",
                                                  RAIZ / "ferramentas" / "treinar_classificador.py")
    ferramenta = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ferramenta)
    mensagens = [{"texto": "Você ganhou um prêmio!", "rotulo": "spam"}, {"texto": "ok", "rotulo": "normal"},
                 {"texto": "123", "rotulo": "normal"}]
    copias = ferramenta.outras_grafias(mensagens)
    assert copias == ferramenta.outras_grafias(mensagens)  # semente fixa: a mesma cópia sempre
    assert len(copias) == 2  # "123" não muda em nenhuma grafia e não ganha cópia
    assert copias[0]["rotulo"] == "spam" and copias[0]["texto"] in {
        "VOCÊ GANHOU UM PRÊMIO!", "você ganhou um prêmio!", "Voce ganhou um premio!"}
    assert copias[1] == {"texto": "OK", "rotulo": "normal"}
