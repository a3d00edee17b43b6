"""Gera as famílias de instrução de aritmética (`soma` e `subtracao`).

Cada entrada usa dois números inteiros entre 0 e 99. Na subtração o primeiro
número é sempre maior ou igual ao segundo, para o resultado nunca ser
negativo. Os pares são sorteados com semente fixa (o resultado é sempre o
mesmo) e nunca se repetem dentro da família; na soma, "a+b" e "b+a" contam
como o mesmo par. A `chave` é a conta escrita sem espaços ("23+45", "80-17"),
e é por ela que a divisão treino/teste é feita depois.

Os modelos de enunciado são usados em rodízio, para que nenhum modelo passe
de cerca de 15% da família. Algumas instruções trazem os números dentro do
texto; outras deixam a conta no campo `entrada`.

Além das 150 contas de cada família (que a divisão espalha por treino,
validação e teste), sorteia mais AUMENTO contas diferentes de todas essas, que
vão só para o treino: sem elas o modelo vê cada conta uma vez e não aprende a
somar (capítulo 07).

Uso:
    python3 gerar_aritmetica.py

Escreve `soma.jsonl` e `subtracao.jsonl` na mesma pasta deste arquivo, e os
de aumento em `../instrucoes_aumento/`.
"""

import json
import random
import unicodedata
from pathlib import Path

SEMENTE = 20240607
QUANTIDADE = 150  # entradas por família
AUMENTO = 4000  # contas extras por família, só de treino
PASTA = Path(__file__).resolve().parent
PASTA_AUMENTO = PASTA.parent / "instrucoes_aumento"

# Cada modelo é (instrução, entrada). {a} e {b} são os números.
MODELOS_SOMA = [
    ("Quanto é {a} + {b}?", ""),
    ("Some {a} e {b}.", ""),
    ("Calcule: {a} + {b}", ""),
    ("Qual é o resultado de {a} mais {b}?", ""),
    ("Quanto dá {a} mais {b}?", ""),
    ("Qual é a soma de {a} e {b}?", ""),
    ("Resolva a conta.", "{a} + {b}"),
    ("Calcule a soma abaixo.", "{a} + {b}"),
    ("Some os dois números.", "{a} e {b}"),
    ("{a} + {b} = ?", ""),
    ("Ana tinha {a} figurinhas e ganhou mais {b}. Quantas figurinhas ela tem agora?", ""),
    ("Responda só com o número: quanto é {a} + {b}?", ""),
    ("Faça a adição e responda só com o resultado.", "{a} + {b}"),
]

MODELOS_SUBTRACAO = [
    ("Quanto é {a} - {b}?", ""),
    ("Calcule: {a} - {b}", ""),
    ("Qual é o resultado de {a} menos {b}?", ""),
    ("Subtraia {b} de {a}.", ""),
    ("Quanto dá {a} menos {b}?", ""),
    ("Qual é a diferença entre {a} e {b}?", ""),
    ("Resolva a conta.", "{a} - {b}"),
    ("Calcule a subtração abaixo.", "{a} - {b}"),
    ("Tire {b} de {a}. Quanto sobra?", ""),
    ("{a} - {b} = ?", ""),
    ("Pedro tinha {a} reais e gastou {b}. Quantos reais sobraram?", ""),
    ("Responda só com o número: quanto é {a} menos {b}?", ""),
    ("Faça a subtração e responda só com o resultado.", "{a} - {b}"),
]


def sortear_pares(rng, quantidade, subtracao, vistos=None):
    """Sorteia pares distintos (a, b) com 0 <= a, b <= 99, fora dos já vistos (que são atualizados)."""
    pares = []
    vistos = set() if vistos is None else vistos
    while len(pares) < quantidade:
        a = rng.randint(0, 99)
        b = rng.randint(0, 99)
        if subtracao:
            if a < b:
                a, b = b, a
            ident = (a, b)
        else:
            ident = (min(a, b), max(a, b))
        if ident in vistos:
            continue
        vistos.add(ident)
        pares.append((a, b))
    return pares


def montar(familia, pares, modelos, operacao, rng):
    """Monta as entradas, distribuindo os modelos em rodízio embaralhado."""
    ordem = []
    while len(ordem) < len(pares):
        bloco = list(range(len(modelos)))
        rng.shuffle(bloco)
        ordem.extend(bloco)
    entradas = []
    for (a, b), indice in zip(pares, ordem):
        instrucao, entrada = modelos[indice]
        # Problemas com objetos ("2 figurinhas", "5 reais") ficam estranhos
        # com 0 ou 1; nesses casos usamos o primeiro modelo.
        if ("figurinhas" in instrucao or "reais" in instrucao) and (a < 2 or b < 1):
            instrucao, entrada = modelos[0]
        if operacao == "+":
            resultado = a + b
        else:
            resultado = a - b
        assert resultado >= 0
        registro = {
            "familia": familia,
            "chave": f"{a}{operacao}{b}",
            "instrucao": instrucao.format(a=a, b=b),
            "entrada": entrada.format(a=a, b=b),
            "resposta": str(resultado),
        }
        entradas.append(
            {k: unicodedata.normalize("NFC", v) for k, v in registro.items()}
        )
    return entradas


def salvar(caminho, entradas):
    with open(caminho, "w", encoding="utf-8") as arquivo:
        for registro in entradas:
            arquivo.write(json.dumps(registro, ensure_ascii=False) + "\n")


def main():
    rng = random.Random(SEMENTE)
    vistos_soma, vistos_subtracao = set(), set()
    somas = montar(
        "soma", sortear_pares(rng, QUANTIDADE, False, vistos_soma), MODELOS_SOMA, "+", rng
    )
    subtracoes = montar(
        "subtracao",
        sortear_pares(rng, QUANTIDADE, True, vistos_subtracao),
        MODELOS_SUBTRACAO,
        "-",
        rng,
    )
    # O aumento sorteia depois, com os pares principais já marcados como vistos:
    # as contas acima não mudam e nenhuma conta do aumento repete uma delas.
    aumento_soma = montar(
        "soma", sortear_pares(rng, AUMENTO, False, vistos_soma), MODELOS_SOMA, "+", rng
    )
    aumento_subtracao = montar(
        "subtracao",
        sortear_pares(rng, AUMENTO, True, vistos_subtracao),
        MODELOS_SUBTRACAO,
        "-",
        rng,
    )
    # Conferência independente dos resultados a partir da chave.
    for registro in somas + aumento_soma:
        a, b = registro["chave"].split("+")
        assert int(registro["resposta"]) == int(a) + int(b)
    for registro in subtracoes + aumento_subtracao:
        a, b = registro["chave"].split("-")
        assert int(registro["resposta"]) == int(a) - int(b) >= 0
    salvar(PASTA / "soma.jsonl", somas)
    salvar(PASTA / "subtracao.jsonl", subtracoes)
    salvar(PASTA_AUMENTO / "soma.jsonl", aumento_soma)
    salvar(PASTA_AUMENTO / "subtracao.jsonl", aumento_subtracao)
    print(f"soma: {len(somas)} + {len(aumento_soma)} entradas; "
          f"subtracao: {len(subtracoes)} + {len(aumento_subtracao)} entradas")


if __name__ == "__main__":
    main()
