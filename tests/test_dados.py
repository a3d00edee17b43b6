"""Os dados do curso: tamanho, codificação, duplicatas e divisões fixas."""

import json
import re
import unicodedata

import pytest
from conftest import RAIZ
from construir_dados import (
    FAMILIAS_VERIFICAVEIS,
    FIM_DE_TEXTO,
    documentos_do_corpus,
    normalizar,
    sha256_bytes,
    vai_para_validacao,
)

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
    """Nenhum parágrafo longo aparece duas vezes. A exceção são as linhas curtas de receita (porções, tempo, a calda),
    que um livro de receitas repete como qualquer livro de verdade: no máximo 20 delas, cada uma em até 5 receitas."""
    receitas = {d for g, d in documentos_do_corpus() if g == "receitas"}
    vistos, formulas = {}, {}
    for split, docs in corpus.items():
        for doc in docs:
            for paragrafo in doc.split("\n\n")[1:]:  # o primeiro é o título
                if len(paragrafo) <= 40:
                    continue
                if doc in receitas and len(paragrafo) < 70:
                    formulas[paragrafo] = formulas.get(paragrafo, 0) + 1
                    continue
                assert paragrafo not in vistos, f"repetido ({vistos[paragrafo]}, {split}): {paragrafo[:80]}"
                vistos[paragrafo] = split
    repetidas = {p: n for p, n in formulas.items() if n > 1}
    assert len(repetidas) <= 20 and max(repetidas.values(), default=1) <= 5, repetidas


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


def ler_jsonl(nome):
    return [json.loads(linha) for linha in (DADOS / nome).read_text(encoding="utf-8").splitlines()]


def test_mensagens_divididas_sem_vazamento():
    mensagens = ler_jsonl("mensagens.jsonl")
    assert len(mensagens) >= 3600
    assert {m["rotulo"] for m in mensagens} == {"spam", "normal"}
    por_texto = {}
    for m in mensagens:
        assert set(m) == {"texto", "rotulo", "particao"} and m["texto"].strip()
        chave = normalizar(m["texto"])
        assert por_texto.setdefault(chave, m["particao"]) == m["particao"], f"vazamento: {m['texto']!r}"
    assert len(por_texto) == len(mensagens), "mensagens repetidas"
    for particao in ("treino", "validacao", "teste"):
        rotulos = [m["rotulo"] for m in mensagens if m["particao"] == particao]
        assert len(rotulos) >= 150 and 0.4 < rotulos.count("spam") / len(rotulos) < 0.6


def test_preferencias_divididas_sem_vazamento():
    pares = ler_jsonl("preferencias.jsonl")
    assert len(pares) >= 1000
    criterios = {"correcao", "educacao", "restricao", "concisao", "repeticao", "parada", "relevancia"}
    lado_da_instrucao, vistos = {}, set()
    for par in pares:
        assert set(par) == {"instrucao", "entrada", "escolhida", "rejeitada", "criterio", "origem", "particao"}
        assert par["criterio"] in criterios and par["origem"] in {"escrita", "assistente"}
        assert par["instrucao"].strip() and par["escolhida"].strip() and par["rejeitada"].strip()
        assert par["escolhida"].strip() != par["rejeitada"].strip(), par  # às vezes só o formato muda
        assert all(unicodedata.is_normalized("NFC", par[c]) for c in ("instrucao", "entrada", "escolhida", "rejeitada"))
        chave = normalizar(par["instrucao"])
        lado = lado_da_instrucao.setdefault(chave, par["particao"])
        assert lado == par["particao"], f"vazamento: {par['instrucao']!r}"
        assert (chave, normalizar(par["entrada"]), par["origem"]) not in vistos, f"par repetido: {par['instrucao']!r}"
        vistos.add((chave, normalizar(par["entrada"]), par["origem"]))
    for particao in ("treino", "validacao", "teste"):
        do_lado = [par for par in pares if par["particao"] == particao]
        assert len(do_lado) >= 100 and {par["criterio"] for par in do_lado} == criterios, particao
    # entre etapas: o que mede um modelo (validação e teste) não está no treino da outra etapa
    lado_no_sft = {normalizar(r["instrucao"]): r["particao"] for r in ler_jsonl("instrucoes.jsonl")}
    for chave, lado in lado_da_instrucao.items():
        assert lado_no_sft.get(chave, lado) == lado, f"a instrução {chave!r} muda de lado entre o 07 e o 08"


def test_instrucoes_divididas_sem_vazamento():
    registros = ler_jsonl("instrucoes.jsonl")
    assert len(registros) >= 1000
    treino = [r for r in registros if r["particao"] == "treino"]
    vistos = {(r["instrucao"], r["entrada"]) for r in treino}
    chaves_treino = {(r["familia"], r["chave"]) for r in treino}
    for r in registros:
        assert r["resposta"].strip() and r["instrucao"].strip()
        if r["particao"] != "treino":
            assert (r["instrucao"], r["entrada"]) not in vistos
            assert (r["familia"], r["chave"]) not in chaves_treino, f"item do teste no treino: {r['chave']}"
    # nenhum exemplo de treino (principal ou aumento) toca um item de fora do treino: nem a conta
    # invertida, nem o par do antônimo em qualquer sentido
    fora_do_treino = [r for r in registros if r["particao"] != "treino"]
    somas_fora = {tuple(sorted(r["chave"].split("+"))) for r in fora_do_treino if r["familia"] == "soma"}
    palavras_fora = {w for r in fora_do_treino if r["familia"] == "antonimo" for w in (r["chave"], r["resposta"])}
    aumento = [r for r in registros if r["origem"] == "aumento"]
    assert len(aumento) > 1000 and all(r["particao"] == "treino" for r in aumento)
    for r in treino:
        assert r["familia"] != "soma" or tuple(sorted(r["chave"].split("+"))) not in somas_fora, r
        assert r["familia"] != "antonimo" or not {r["chave"], r["resposta"]} & palavras_fora, r
    # a cópia (só treino) não repete nenhuma chave nem resposta de fora do treino
    itens_fora = {normalizar(r[campo]) for r in fora_do_treino for campo in ("chave", "resposta")}
    copias = [r for r in aumento if r["familia"] == "copia"]
    assert len(copias) >= 1000 and len({r["resposta"] for r in copias}) == len(copias)
    for r in copias:
        assert not {normalizar(palavra) for palavra in r["resposta"].split()} & itens_fora, r
    assert {r["origem"] for r in registros} == {"principal", "aumento"}
    assert sum(r["origem"] == "principal" for r in registros) >= 1000
    familias_verificaveis = {"plural", "antonimo", "soma", "subtracao", "capital_estado", "capital_pais", "sentimento"}
    no_teste = {r["familia"] for r in registros if r["particao"] == "teste"}
    assert familias_verificaveis <= no_teste
    assert any(r["instrucao"] == "Escreva uma receita de bolo." and r["particao"] == "teste" for r in registros)


def test_respostas_verificaveis_corretas():
    for r in ler_jsonl("instrucoes.jsonl"):
        if r["familia"] in ("soma", "subtracao"):
            a, b = (int(n) for n in re.findall(r"\d+", r["chave"]))
            assert int(r["resposta"]) == (a + b if r["familia"] == "soma" else a - b), r
            assert 0 <= a <= 99 and 0 <= b <= 99
        if r["familia"] == "sentimento":
            assert r["resposta"] in ("positivo", "negativo")
        if r["familia"] == "copia":  # a resposta é o item, que aparece inteiro na pergunta
            assert r["particao"] == "treino" and r["resposta"] in r["instrucao"] + r["entrada"], r


def test_assuntos_abertos_de_um_lado_so_da_divisao():
    """Nas famílias abertas, o item é o assunto: a mesma chave (uma receita e a explicação do mesmo prato)
    nunca fica no treino e no teste ao mesmo tempo. As famílias verificáveis são as da biblioteca."""
    from gptmini.instrucoes import VERIFIABLE_FAMILIES

    assert FAMILIAS_VERIFICAVEIS == set(VERIFIABLE_FAMILIES)
    lados = {}
    for r in ler_jsonl("instrucoes.jsonl"):
        if r["origem"] == "principal" and r["familia"] not in FAMILIAS_VERIFICAVEIS:
            lados.setdefault(r["chave"], set()).add(r["particao"])
    assert len(lados) > 1000
    misturados = [chave for chave, particoes in lados.items() if len(particoes) > 1]
    assert not misturados, f"assuntos em mais de uma partição: {misturados[:5]}"


def test_conferencia_do_corpus_acusa_formato_e_paragrafo_repetido(tmp_path, capsys):
    from conferir_fontes import conferir_corpus

    _, doc = documentos_do_corpus()[0]
    copiado = max(doc.split("\n\n")[1:], key=len)  # um parágrafo que o corpus já tem
    ruim = tmp_path / "historias_99.txt"
    ruim.write_text(f"# Título com markdown\n\n{copiado}\n\n---\n\nOutro título\n\nTexto com emoji 🙂.\n",
                    encoding="utf-8")
    assert conferir_corpus([ruim]) == 3
    saida = capsys.readouterr().out
    assert "marcação de markdown" in saida and "parágrafo repetido" in saida and "fora do esperado" in saida


def test_corpus_sem_paragrafos_quase_repetidos():
    """Quase nenhum par de parágrafos do corpus divide metade dos 8-gramas de palavras (a conferência dos lotes
    novos, aqui no corpus inteiro)."""
    from conferir_fontes import quase_repetidos

    paragrafos = [(f"{g} {i}.{k}", p) for i, (g, d) in enumerate(documentos_do_corpus())
                  for k, p in enumerate(d.split("\n\n")[1:]) if len(p) > 80]
    assert len(paragrafos) > 40_000
    achados = quase_repetidos(paragrafos, [])
    # 4 pares conhecidos, fatos contados com as mesmas palavras em dois textos: o Acre e a sua fronteira, a lista das
    # capitais do Nordeste, as três capitais do Brasil e os ingredientes do bolo de cenoura
    assert len(achados) <= 4, achados
