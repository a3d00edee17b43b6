"""Instruções: formato, máscara -100 na montagem dos lotes, resposta e o assistente publicado."""

import json

import pytest
import torch
from conftest import RAIZ

import gptmini
from gptmini import TrainConfig, format_instruction, respond
from gptmini.instrucoes import (
    IGNORE_INDEX,
    collate_instructions,
    encode_instruction,
    generate_response,
    instruction_batches,
    instruction_metrics,
    normalize_answer,
    set_dropout,
    train_sft,
)


def test_formato_com_e_sem_entrada():
    assert format_instruction("Some 2 e 3.") == "### Instrução:\nSome 2 e 3.\n\n### Resposta:\n"
    com = format_instruction("Passe para o plural.", "pão")
    assert com == "### Instrução:\nPasse para o plural.\n\n### Entrada:\npão\n\n### Resposta:\n"


def test_mascara_deixa_so_a_resposta_e_um_fim_de_texto(tokenizer):
    curto = {"instrucao": "Qual é o plural?", "entrada": "pão", "resposta": "pães"}
    longo = {"instrucao": "Explique o que é chuva.", "entrada": "", "resposta": "É água que cai das nuvens."}
    exemplos = [encode_instruction(tokenizer, e) for e in (curto, longo)]
    entradas, alvos = collate_instructions(exemplos, tokenizer.eot_token, max_length=128)
    for linha, e in enumerate((curto, longo)):
        contam = [t for t in alvos[linha].tolist() if t != IGNORE_INDEX]
        assert tokenizer.decode(contam) == e["resposta"] + "<|endoftext|>"
        assert contam.count(tokenizer.eot_token) == 1
        ids, n_prompt = exemplos[linha]
        # a entrada é a sequência sem o último token; os alvos, a mesma deslocada de um
        assert entradas[linha, : len(ids) - 1].tolist() == ids[:-1]
        assert (alvos[linha, : n_prompt - 1] == IGNORE_INDEX).all()
        assert alvos[linha, n_prompt - 1] == ids[n_prompt]
    # o exemplo curto foi completado com enchimento, e os alvos do enchimento são -100
    n = len(exemplos[0][0]) - 1
    assert (entradas[0, n:] == tokenizer.eot_token).all() and (alvos[0, n:] == IGNORE_INDEX).all()


def test_sem_mascara_conta_a_instrucao(tokenizer):
    e = {"instrucao": "Qual é o plural?", "entrada": "pão", "resposta": "pães"}
    ids, n_prompt = encode_instruction(tokenizer, e)
    _, alvos = collate_instructions([(ids, n_prompt)], tokenizer.eot_token, 128, mask_prompt=False)
    assert alvos[0].tolist() == ids[1:]


def test_corte_no_contexto(tokenizer):
    e = {"instrucao": "Repita.", "entrada": "", "resposta": "bolo " * 200}
    entradas, alvos = collate_instructions([encode_instruction(tokenizer, e)], tokenizer.eot_token, 64)
    assert entradas.shape == alvos.shape == (1, 64)


def test_exemplos_cabem_no_contexto_do_modelo_de_cpu(tokenizer):
    # um exemplo maior que o contexto perde o fim da resposta e o <|endoftext|> no corte: o modelo nunca
    # veria o fim de uma receita e não aprenderia a parar
    contexto = gptmini.PRESETS["cpu"].context_length
    linhas = (RAIZ / "dados" / "instrucoes.jsonl").read_text(encoding="utf-8").splitlines()
    longos = [e["chave"] for e in map(json.loads, linhas)
              if len(encode_instruction(tokenizer, e)[0]) > contexto + 1]  # entradas e alvos: contexto + 1 ids
    assert not longos, f"{len(longos)} exemplos não cabem em {contexto} tokens: {longos[:5]}"


def test_sft_fica_com_os_pesos_da_melhor_nota_na_validacao(tokenizer):
    torch.manual_seed(0)
    modelo = gptmini.GPTMini(gptmini.PRESETS["rapido"])
    exemplos = [{"instrucao": f"Some {a} e 1.", "entrada": "", "resposta": str(a + 1)} for a in range(8)]
    pesos = []

    def nota(m):  # a 1ª avaliação é a melhor; guardamos os pesos de cada uma para comparar
        assert not m.training
        pesos.append({k: v.clone() for k, v in m.state_dict().items()})
        return 1.0 if len(pesos) == 1 else 0.5

    config = TrainConfig(max_steps=4, batch_size=4, lr=1e-2, warmup_steps=0, eval_interval=2,
                                 sample_interval=0)
    historico = train_sft(modelo, tokenizer, exemplos, exemplos, config, torch.device("cpu"),
                                  progress=False, val_score=nota)
    assert historico["val_score"] == [1.0, 0.5] and historico["best_step"] == 2
    assert modelo.training
    assert all(torch.equal(v, pesos[0][k]) for k, v in modelo.state_dict().items())
    assert not all(torch.equal(v, pesos[1][k]) for k, v in modelo.state_dict().items())


def test_lotes_por_tamanho_cobrem_a_epoca_uma_vez():
    # 1.000 exemplos falsos (ids, n_prompt) de tamanhos sorteados entre 5 e 120 tokens
    tamanhos = torch.randint(5, 120, (1000,), generator=torch.Generator().manual_seed(0)).tolist()
    exemplos = [([i] * n, 1) for i, n in enumerate(tamanhos)]
    lotes = list(instruction_batches(exemplos, 16, epoch=0, seed=42))
    vistos = sorted(ids[0] for lote in lotes for ids, _ in lote)
    assert vistos == list(range(1000)) and all(len(lote) <= 16 for lote in lotes)
    # cada lote junta tamanhos parecidos: o enchimento total é bem menor que num sorteio simples
    def enchimento(ls):
        return sum(max(len(ids) for ids, _ in lote) * len(lote) - sum(len(ids) for ids, _ in lote) for lote in ls)
    simples = [exemplos[i:i + 16] for i in range(0, 1000, 16)]
    assert enchimento(lotes) < enchimento(simples) / 5
    # reprodutível por (seed, época) e diferente entre épocas
    assert [[ids[0] for ids, _ in lote] for lote in instruction_batches(exemplos, 16, 0, 42)] == \
        [[ids[0] for ids, _ in lote] for lote in lotes]
    assert [ids[0] for ids, _ in next(instruction_batches(exemplos, 16, 1, 42))] != [ids[0] for ids, _ in lotes[0]]


def test_set_dropout_troca_todas_as_taxas():
    modelo = set_dropout(gptmini.GPTMini(gptmini.PRESETS["rapido"]), 0.05)
    assert gptmini.PRESETS["rapido"].dropout == 0.1  # a config do preset não muda
    taxas = {m.p for m in modelo.modules() if isinstance(m, torch.nn.Dropout)}
    taxas |= {m.dropout for m in modelo.modules() if isinstance(getattr(m, "dropout", None), float)}
    assert taxas == {0.05} and modelo.config.dropout == 0.05


def test_regua_de_resposta_constante():
    entradas = [{"resposta": "Positivo."}, {"resposta": "negativo"}, {"resposta": "positivo"}]
    assert gptmini.constant_answer_accuracy(entradas, "positivo") == pytest.approx(2 / 3)
    assert gptmini.constant_answer_accuracy(entradas, "neutro") == 0.0
    assert gptmini.constant_answer_accuracy([], "positivo") == 0.0


def test_normalizacao_da_resposta():
    assert normalize_answer("  Pães. ") == "pães"
    assert normalize_answer("Fortaleza!") == normalize_answer("fortaleza")
    assert normalize_answer("68") == "68"


def test_assistente_publicado_confere_com_a_ficha(tokenizer):
    ficha = json.loads((RAIZ / "dados" / "modelos" / "instrucoes.json").read_text(encoding="utf-8"))
    modelo = gptmini.load_pretrained("instrucoes")
    registros = [json.loads(linha) for linha in (RAIZ / "dados" / "instrucoes.jsonl").read_text("utf-8").splitlines()]
    teste = [r for r in registros if r["particao"] == "teste"]
    medidas = instruction_metrics(modelo, tokenizer, teste, progress=False)
    # a geração é gulosa e determinística; numa CPU com outra biblioteca de contas, um empate pode
    # virar para o outro lado: aceitamos até 2 respostas diferentes das registradas
    diferentes = sum(a != b for a, b in zip(medidas["respostas"], ficha["respostas_teste"]))
    assert len(ficha["respostas_teste"]) == len(teste) and diferentes <= 2
    if diferentes == 0:
        for chave in ("acerto_exato_geral", "parou_com_eot", "ficou_na_resposta"):
            assert medidas[chave] == pytest.approx(ficha["medidas_teste"][chave]), chave
        assert medidas["acerto_exato"] == pytest.approx(ficha["medidas_teste"]["acerto_exato"])
    # Piso contra regressões do assistente publicado agora (ver a ficha técnica). Das metas da questão dos
    # dados, só a parada (98%) foi alcançada; laços em até 2% e acerto exato de 70% ainda não. Uma resposta
    # do teste tem "###" no meio de palavras quebradas (não abre uma instrução nova): o piso é 99%.
    assert medidas["parou_com_eot"] >= 0.98 and medidas["ficou_na_resposta"] >= 0.99
    assert medidas["acerto_exato_geral"] >= 0.35 and medidas["com_laco"] <= 0.20
    texto, parou = generate_response(modelo, tokenizer, "Escreva uma receita de bolo.")
    assert texto and respond(modelo, tokenizer, "Escreva uma receita de bolo.") == texto
    assert isinstance(parou, bool)
    assert (RAIZ / "dados" / "modelos" / "instrucoes.pt").stat().st_size <= 25 * 2**20


def test_entrada_maior_que_o_contexto_ainda_tem_resposta(tokenizer):
    """O prompt é cortado pela esquerda; a resposta começa depois do que sobrou dele (antes, vinha "")."""
    modelo = gptmini.load_pretrained("instrucoes")
    contexto = modelo.config.context_length
    respostas = []
    for instrucao, entrada in (("Resuma o texto.", "palavra " * 400),
                               ("Resuma o texto.", "A menina abriu a janela e viu a chuva. " * 60),
                               ("Explique o texto para uma criança.", "O rio passa perto da escola. " * 70)):
        prompt = tokenizer.encode_ordinary(format_instruction(instrucao, entrada))
        assert len(prompt) > contexto
        cortado = torch.tensor([prompt[-contexto:]])
        esperado = gptmini.generate(modelo, cortado, 30, eos_id=tokenizer.eot_token)[0, contexto:].tolist()
        esperado = tokenizer.decode(esperado[: esperado.index(tokenizer.eot_token)] if tokenizer.eot_token in esperado
                                    else esperado).strip()
        resposta = respond(modelo, tokenizer, instrucao, entrada, max_new_tokens=30)
        assert resposta == esperado
        respostas.append(resposta)
    # o modelo pode parar logo num caso (uma resposta vazia é dele, não do corte), mas não em todos
    assert any(respostas), respostas


def test_instrucao_que_nao_e_texto_da_erro_claro(tokenizer):
    modelo = gptmini.GPTMini(gptmini.GPTConfig(vocab_size=tokenizer.n_vocab, context_length=32, d_model=32,
                                               n_heads=2, n_layers=1))
    with pytest.raises(TypeError, match="instruction"):
        respond(modelo, tokenizer, None)
    with pytest.raises(TypeError, match="input"):
        respond(modelo, tokenizer, "Resuma.", input=42)


def test_avaliacao_cega_prepara_a_validacao_e_resume_as_notas(tmp_path, monkeypatch, capsys):
    import importlib.util
    monkeypatch.syspath_prepend(str(RAIZ / "ferramentas"))  # como ao rodar o script
    spec = importlib.util.spec_from_file_location("avaliar_abertas", RAIZ / "ferramentas" / "avaliar_abertas.py")
    ferramenta = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ferramenta)
    particoes = gptmini.read_splits("instrucoes.jsonl")
    ferramenta.preparar(tmp_path, ["base"], ["gulosa"], uma_em=100, partes=2, particao="validacao")
    linhas = [json.loads(linha) for arquivo in sorted(tmp_path.glob("para_o_juiz_*.jsonl"))
              for linha in arquivo.read_text(encoding="utf-8").splitlines()]
    abertas = [e for e in particoes["validacao"] if e["familia"] not in gptmini.instrucoes.VERIFIABLE_FAMILIES]
    assert len(linhas) == len(abertas[::100])
    assert {linha["instrucao"] for linha in linhas} <= {e["instrucao"] for e in particoes["validacao"]}
    assert all(set(linha) == {"id", "instrucao", "entrada", "referencia", "resposta"} for linha in linhas)
    (tmp_path / "notas.jsonl").write_text("".join(json.dumps({"id": linha["id"], "nota": 10}) + "\n"
                                                  for linha in linhas[:-1]), encoding="utf-8")
    with pytest.raises(SystemExit, match="Faltam notas"):
        ferramenta.resumir(tmp_path)
    with open(tmp_path / "notas.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": linhas[-1]["id"], "nota": 40}) + "\n")
    ferramenta.resumir(tmp_path)
    media = (10 * (len(linhas) - 1) + 40) / len(linhas)
    assert f"base · gulosa: média {media:.1f} em {len(linhas)} respostas" in capsys.readouterr().out
