"""Raciocínio: o gerador de problemas, o verificador, a partida a quente, o GRPO e os modelos publicados."""

import copy
import dataclasses
import json
import random
import re

import pytest
import torch
from conftest import RAIZ

import gptmini
from gptmini import extract_answer, solve
from gptmini.raciocinio import (
    GRPOConfig,
    group_advantages,
    make_problem,
    make_problems,
    pass_at_k,
    policy_loss,
    problem_splits,
    reward,
    sample_groups,
    shows_work,
    train_grpo,
    warm_start_examples,
)


def test_solucao_confere_com_o_enunciado():
    rng = random.Random(0)
    for passos in (1, 2, 3) * 50:
        p = make_problem(passos, rng)
        *contas, final = p["solucao"].split("\n")
        assert len(contas) == passos == p["passos"] and final == f"Resposta: {p['resposta']}"
        total = int(re.search(r"\b(\d+)\b", p["problema"]).group(1))  # o total do começo da história
        for conta in contas:
            a, sinal, b, resultado = re.fullmatch(r"(\d+) ([+-]) (\d+) = (\d+)", conta).groups()
            assert int(a) == total and f" {b}" in p["problema"]
            total = int(a) + int(b) if sinal == "+" else int(a) - int(b)
            assert int(resultado) == total > 0
        assert total == p["resposta"] == extract_answer(p["solucao"])


def test_particoes_fixas_e_sem_enunciado_em_comum():
    a, b = problem_splits(60, 30, 30), problem_splits(60, 30, 30)
    assert a == b
    enunciados = {nome: {p["problema"] for p in ps} for nome, ps in a.items()}
    assert len(enunciados["treino"]) == 60
    assert not enunciados["treino"] & (enunciados["teste"] | enunciados["validacao"])
    assert not enunciados["teste"] & enunciados["validacao"]
    assert [p["passos"] for p in make_problems(6, seed=3)] == [1, 2, 3, 1, 2, 3]


def test_verificador():
    assert extract_answer("12 - 5 = 7\n7 + 8 = 15\nResposta: 15") == 15
    assert extract_answer("Resposta: 3\nResposta:15") == 15  # vale a última
    assert extract_answer("A resposta é 15.") is None
    assert reward("Resposta: 15", 15) == 1.0 and reward("Resposta: 14", 15) == 0.0 and reward("15", 15) == 0.0
    with pytest.raises(TypeError):
        extract_answer(15)


def test_partida_a_quente_mistura_gabaritos_e_contas():
    problemas = make_problems(400, seed=5)
    exemplos = warm_start_examples(problemas, answer_only=0.5)
    assert exemplos == warm_start_examples(problemas, answer_only=0.5)
    com_contas = [shows_work(e["resposta"]) for e in exemplos]
    assert 0.4 < sum(com_contas) / len(com_contas) < 0.6
    for p, e, contas in zip(problemas, exemplos, com_contas):
        assert e["resposta"] == (p["solucao"] if contas else f"Resposta: {p['resposta']}")
    assert all(map(shows_work, (e["resposta"] for e in warm_start_examples(problemas, answer_only=0.0))))
    assert not shows_work("Resposta: 7") and shows_work("12 - 5 = 7\nResposta: 7")


def test_vantagens_do_grupo():
    r = torch.tensor([[1., 0., 0., 0.], [1., 1., 1., 1.], [0., 1., 1., 0.]])
    a = group_advantages(r)
    assert torch.allclose(a.sum(dim=1), torch.zeros(3)) and torch.all(a[1] == 0)
    assert a[0, 0].item() == pytest.approx(0.75) and a[0, 1].item() == pytest.approx(-0.25)
    assert group_advantages(r, scale_by_std=True)[2].abs().max().item() == pytest.approx(0.866, abs=1e-3)


def test_passo_de_politica_sobe_a_resposta_de_vantagem_positiva(tokenizer, pequeno):
    cfg = GRPOConfig(group_size=4, max_new_tokens=6)
    problema = make_problems(1, seed=0)[0]
    linhas, respostas, _ = sample_groups(pequeno, tokenizer, [problema], cfg, torch.Generator().manual_seed(0),
                                         reward_fn=lambda texto, certa: 0.0)
    vantagens = torch.tensor([1.0, -1.0, 0.0, 0.0])

    def logp():
        with torch.no_grad():
            return -policy_loss(pequeno, linhas[:1], respostas[:1], torch.ones(1), tokenizer.eot_token).item()
    antes = logp()
    otimizador = torch.optim.SGD(pequeno.parameters(), lr=0.5)
    otimizador.zero_grad()
    policy_loss(pequeno, linhas, respostas, vantagens, tokenizer.eot_token).backward()
    otimizador.step()
    assert logp() > antes


def test_grpo_aumenta_a_recompensa(tokenizer, pequeno):
    """Num modelo pequeno, com uma recompensa fácil de achar (a resposta ter o token " a"), o GRPO sobe a média."""
    problemas = make_problems(40, seed=1)
    historico = train_grpo(pequeno, tokenizer, problemas, problemas[:3],
                           GRPOConfig(steps=30, problems_per_step=8, group_size=8, lr=5.0, max_new_tokens=4,
                                      eval_interval=100),
                           progress=False, reward_fn=lambda texto, certa: float(" a" in texto))
    assert len(historico["reward"]) == 30 and len(historico["val_pass1"]) == 1
    inicio, fim = sum(historico["reward"][:5]) / 5, sum(historico["reward"][-5:]) / 5
    assert fim > inicio + 0.2


def test_grpo_volta_a_melhor_avaliacao(tokenizer, pequeno):
    """Com keep_best, o modelo termina com os pesos da melhor avaliação na validação: aqui, um modelo sem treino
    erra tudo, a primeira avaliação (passo 1) empata com as outras e fica; os pesos são os de um treino de 1 passo."""
    problemas = make_problems(40, seed=1)
    config = GRPOConfig(steps=3, problems_per_step=8, group_size=8, lr=5.0, max_new_tokens=4, eval_interval=1)
    recompensa = lambda texto, certa: float(" a" in texto)  # noqa: E731 (varia entre as respostas: há gradiente)
    um_passo = copy.deepcopy(pequeno)
    train_grpo(um_passo, tokenizer, problemas, problemas[:3], dataclasses.replace(config, steps=1), progress=False,
               reward_fn=recompensa)
    tres_passos = copy.deepcopy(pequeno)
    train_grpo(tres_passos, tokenizer, problemas, problemas[:3], config, progress=False, reward_fn=recompensa)
    historico = train_grpo(pequeno, tokenizer, problemas, problemas[:3], config, progress=False, reward_fn=recompensa,
                           keep_best=True)
    assert historico["val_step"] == [1, 2, 3] and historico["best_step"] == 1
    pesos, de_um, de_tres = pequeno.state_dict(), um_passo.state_dict(), tres_passos.state_dict()
    assert all(torch.equal(pesos[k], de_um[k]) for k in pesos)
    assert not all(torch.equal(pesos[k], de_tres[k]) for k in pesos)  # sem voltar, seriam os do 3º passo


def test_solve_recusa_problema_vazio(tokenizer, pequeno):
    with pytest.raises(TypeError):
        solve(pequeno, tokenizer, "")


def test_modelos_publicados_conferem_com_a_ficha(tokenizer):
    teste = problem_splits()["teste"]
    fichas = {}
    for nome in ("raciocinio_sft", "raciocinio"):
        fichas[nome] = json.loads((RAIZ / "dados" / "modelos" / f"{nome}.json").read_text(encoding="utf-8"))["medidas"]
        modelo = gptmini.load_pretrained(nome)
        for passos, acerto in pass_at_k(modelo, tokenizer, teste, k=1, temperature=0.0).items():
            assert acerto == pytest.approx(fichas[nome]["pass1_teste"][str(passos)], abs=0.01)
        assert (RAIZ / "dados" / "modelos" / f"{nome}.pt").stat().st_size <= 25 * 2**20
    texto = solve(modelo, tokenizer, teste[1]["problema"])
    assert shows_work(texto) and extract_answer(texto) is not None
    # o que o capítulo afirma: o GRPO escreve as contas e acerta mais nos problemas de mais de um passo
    antes, depois = fichas["raciocinio_sft"], fichas["raciocinio"]
    assert depois["com_contas_teste"] > antes["com_contas_teste"] + 0.3
    assert depois["pass1_teste"]["2"] >= antes["pass1_teste"]["2"] + 0.15
    assert depois["pass1_teste"]["3"] > antes["pass1_teste"]["3"]
    assert depois["pass1_teste"]["1"] >= 0.9
