"""Preferências: a perda de Bradley-Terry, o DPO, as log-probabilidades das respostas e o modelo publicado."""

import copy
import json
import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from conftest import RAIZ

import gptmini
from gptmini import read_splits, respond
from gptmini.classificacao import add_classification_head
from gptmini.preferencias import (
    DPOConfig,
    bradley_terry_loss,
    dpo_loss,
    encode_pair,
    pair_logprobs,
    response_logprobs,
    reward_accuracy,
    train_dpo,
    train_reward_model,
)

PAR = {"instrucao": "Diga um animal que voa.", "entrada": "", "escolhida": "O pássaro.",
       "rejeitada": "O peixe, o peixe, o peixe."}


def test_par_codificado_tem_o_mesmo_prompt(tokenizer):
    (escolhida, n1), (rejeitada, n2) = encode_pair(tokenizer, PAR)
    assert n1 == n2 and escolhida[:n1] == rejeitada[:n2]
    assert escolhida[-1] == rejeitada[-1] == tokenizer.eot_token
    assert tokenizer.decode(escolhida[n1:-1]) == PAR["escolhida"]


def test_log_probabilidade_soma_so_a_resposta(tokenizer, pequeno):
    (ids, n), _ = encode_pair(tokenizer, PAR)
    soma = response_logprobs(pequeno.eval(), [(ids, n)], tokenizer.eot_token)[0]
    with torch.no_grad():
        logp = F.log_softmax(pequeno(torch.tensor([ids[:-1]]))[0].float(), dim=-1)
    esperado = sum(logp[t - 1, ids[t]].item() for t in range(n, len(ids)))  # a resposta e o <|endoftext|>
    assert soma.item() == pytest.approx(esperado, abs=1e-4)


def test_perdas_com_margem_zero_valem_log_2():
    x = torch.tensor([0.3, -1.2])
    assert bradley_terry_loss(x, x).item() == pytest.approx(math.log(2))
    perda, margem = dpo_loss(x, x - 1, x, x - 1, beta=0.1)  # a política igual à referência
    assert perda.item() == pytest.approx(math.log(2)) and torch.all(margem == 0)
    perda, margem = dpo_loss(x + 5, x - 5, x, x, beta=0.1)
    assert torch.allclose(margem, torch.tensor([1.0, 1.0])) and perda.item() == pytest.approx(-math.log(torch.sigmoid(
        torch.tensor(1.0)).item()))
    assert bradley_terry_loss(torch.tensor([10.0]), torch.tensor([-10.0])).item() < 1e-6


def test_dpo_aprende_a_preferir_a_escolhida(tokenizer, pequeno):
    pares = [encode_pair(tokenizer, dict(PAR, instrucao=f"Diga um animal que voa, número {i}.")) for i in range(6)]
    referencia = copy.deepcopy(pequeno).eval()
    historico = train_dpo(pequeno, referencia, pares, pares, tokenizer.eot_token,
                          DPOConfig(lr=3e-3, epochs=8, batch_size=3, eval_interval=4), progress=False)
    assert historico["val_accuracy"][0] == 0.0 and historico["val_margin"][0] == 0.0  # a política começa na referência
    assert historico["val_accuracy"][-1] == 1.0 and historico["val_margin"][-1] > 0.5
    antes, depois = (pair_logprobs(m, pares, tokenizer.eot_token) for m in (referencia, pequeno))
    assert torch.all(depois[:, 0] - depois[:, 1] > antes[:, 0] - antes[:, 1])


def test_modelo_de_recompensa_aprende_a_comparar(tokenizer, pequeno):
    pares = [encode_pair(tokenizer, dict(PAR, instrucao=f"Diga um animal que voa, número {i}.")) for i in range(6)]
    juiz = add_classification_head(pequeno, num_classes=1)
    historico = train_reward_model(juiz, pares, pares, tokenizer.eot_token, epochs=10, lr=3e-3, batch_size=3,
                                   progress=False)
    assert historico["val_accuracy"][-1] == 1.0 == reward_accuracy(juiz, pares, tokenizer.eot_token)
    assert historico["loss"][-1] < historico["loss"][0]


def test_modelo_publicado_confere_com_a_ficha(tokenizer):
    ficha = json.loads((RAIZ / "dados" / "modelos" / "preferencias.json").read_text(encoding="utf-8"))
    assistente = json.loads((RAIZ / "dados" / "modelos" / "instrucoes.json").read_text(encoding="utf-8"))
    modelo, referencia = gptmini.load_pretrained("preferencias"), gptmini.load_pretrained("instrucoes")
    pares = [encode_pair(tokenizer, p) for p in read_splits("preferencias.jsonl")["teste"]]
    logps, logps_ref = (pair_logprobs(m, pares, tokenizer.eot_token) for m in (modelo, referencia))
    _, margem = dpo_loss(logps[:, 0], logps[:, 1], logps_ref[:, 0], logps_ref[:, 1], ficha["beta"])
    acuracia = (margem > 0).float().mean().item()
    assert acuracia == pytest.approx(ficha["medidas_teste"]["acuracia_recompensa_implicita"], abs=0.01)
    teste = read_splits("instrucoes.jsonl")["teste"][:40]
    respostas = [respond(modelo, tokenizer, e["instrucao"], e["entrada"]) for e in teste]
    assert sum(a != b for a, b in zip(respostas, ficha["respostas_teste"])) <= 1  # gulosa: as mesmas da ficha
    # o que o capítulo afirma, contra o assistente de onde o modelo partiu (as duas fichas, o mesmo teste)
    depois, antes = ficha["medidas_teste"], assistente["medidas_teste"]
    assert acuracia >= 0.70  # bem acima dos 50% do chute (a receita foi escolhida na validação, não por esta medida)
    n = ficha["instrucoes_teste"]  # em respostas, não em frações: 2 → 1 é a metade, sem erro de arredondamento
    assert round((1 - depois["parou_com_eot"]) * n) <= round((1 - antes["parou_com_eot"]) * n) / 2
    assert depois["acerto_exato_geral"] >= antes["acerto_exato_geral"] - 0.02
    assert (RAIZ / "dados" / "modelos" / "preferencias.pt").stat().st_size <= 25 * 2**20


def test_import_gptmini_ja_conhece_todos_os_modelos_publicados():
    """Num Python novo, `import gptmini` basta para load_pretrained achar o modelo de cada capítulo, inclusive o do 08,
    que não tem nome na API pública (o módulo entra em PRETRAINED ao ser importado)."""
    codigo = "import gptmini; print(' '.join(sorted(gptmini.PRETRAINED)))"
    saida = subprocess.run([sys.executable, "-c", codigo], cwd=RAIZ, capture_output=True, text=True, check=True).stdout
    assert saida.split() == ["base", "classificador", "instrucoes", "preferencias", "raciocinio", "raciocinio_sft"]
