"""Gera os problemas de palavras do capítulo 09 (raciocínio com recompensas verificáveis).

Cada problema conta uma pequena história com uma quantidade que muda de 1 a 3 vezes ("Ana tinha 12
balas. Deu 5 para o irmão e ganhou 8 da avó. Quantas balas ela tem agora?") e tem uma resposta
inteira. A solução de referência faz uma conta por passo e termina com "Resposta: N", o formato que
o verificador do capítulo lê. Os números são pequenos (nenhum resultado passa de 300, nenhum fica
negativo) e as divisões são sempre exatas.

A redação varia: nomes, objetos (com o gênero certo: "quantas balas", "quantos lápis"), verbos de
ganhar e de perder, o começo com pacotes (uma multiplicação), o fim com uma divisão em partes iguais,
e várias perguntas. A partição sai do SHA-256 do enunciado: 80% treino, 10% validação, 10% teste.

Uso:
    python dados/fontes/proxima/problemas/gerar_problemas.py   # escreve problemas.jsonl ao lado
"""

import hashlib
import json
import random
import re
from pathlib import Path

SEMENTE = 20261202
QUANTIDADE = 3000
PASTA = Path(__file__).resolve().parent

NOMES = [("Ana", "f"), ("Bruno", "m"), ("Carla", "f"), ("Davi", "m"), ("Elisa", "f"), ("Felipe", "m"),
         ("Gabriela", "f"), ("Heitor", "m"), ("Isabela", "f"), ("João", "m"), ("Karina", "f"), ("Lucas", "m"),
         ("Marina", "f"), ("Nicolas", "m"), ("Olívia", "f"), ("Pedro", "m"), ("Raquel", "f"), ("Samuel", "m"),
         ("Tânia", "f"), ("Vítor", "m"), ("Yasmin", "f"), ("Caio", "m"), ("Luana", "f"), ("Otávio", "m")]
# (plural, gênero) — o gênero decide "quantas"/"quantos"
OBJETOS = [("balas", "f"), ("figurinhas", "f"), ("lápis", "m"), ("bolinhas de gude", "f"), ("livros", "m"),
           ("moedas", "f"), ("carrinhos", "m"), ("laranjas", "f"), ("ovos", "m"), ("adesivos", "m"),
           ("biscoitos", "m"), ("flores", "f"), ("conchas", "f"), ("botões", "m"), ("pães", "m"),
           ("cartas", "f"), ("pulseiras", "f"), ("selos", "m")]
GANHOS = ["ganhou {b} da avó", "comprou mais {b}", "recebeu {b} de presente", "achou {b} no armário",
          "ganhou mais {b} de um amigo", "juntou mais {b}"]
PERDAS = ["deu {b} para o irmão", "perdeu {b}", "vendeu {b}", "deu {b} para uma amiga",
          "doou {b} para a escola", "emprestou {b} para um colega"]


def quantos(genero: str) -> str:
    return "Quantas" if genero == "f" else "Quantos"


def problema(sorteio: random.Random) -> dict:
    nome, g_nome = sorteio.choice(NOMES)
    objeto, g_obj = sorteio.choice(OBJETOS)
    pronome = "ela" if g_nome == "f" else "ele"
    passos = sorteio.choice([1, 2, 3])
    frases, contas = [], []
    # o começo: uma quantidade, ou pacotes iguais (a primeira conta é uma multiplicação)
    if passos > 1 and sorteio.random() < 0.3:
        k, b = sorteio.randint(2, 6), sorteio.randint(2, 12)
        total = k * b
        frases.append(f"{nome} comprou {k} pacotes de {objeto}, com {b} em cada pacote.")
        contas.append(f"{k} × {b} = {total}")
        passos -= 1
    else:
        total = sorteio.randint(5, 60)
        frases.append(f"{nome} tinha {total} {objeto}.")
    ligacoes = iter(sorteio.sample(["Depois,", "Em seguida,", "Mais tarde,"], 3))

    def sujeito() -> str:  # a primeira mudança usa o pronome; as outras ganham um conector
        return pronome.capitalize() if len(frases) == 1 else f"{next(ligacoes)} {pronome}"

    divisores = []
    for passo in range(passos):
        ultimo = passo == passos - 1
        divisores = [d for d in range(2, 7) if total % d == 0] if ultimo and sorteio.random() < 0.25 else []
        if divisores:
            d = sorteio.choice(divisores)
            frases.append(f"{sujeito()} dividiu tudo igualmente entre {d} amigos.")
            contas.append(f"{total} ÷ {d} = {total // d}")
            total //= d
        elif total > 4 and sorteio.random() < 0.5:
            b = sorteio.randint(1, total - 1)
            frases.append(f"{sujeito()} {sorteio.choice(PERDAS).format(b=b)}.")
            contas.append(f"{total} - {b} = {total - b}")
            total -= b
        else:
            b = sorteio.randint(1, min(40, 300 - total))
            frases.append(f"{sujeito()} {sorteio.choice(GANHOS).format(b=b)}.")
            contas.append(f"{total} + {b} = {total + b}")
            total += b
    if divisores:
        pergunta = f"{quantos(g_obj)} {objeto} cada amigo recebeu?"
    else:
        pergunta = sorteio.choice([f"{quantos(g_obj)} {objeto} {nome} tem agora?",
                                   f"Com {quantos(g_obj).lower()} {objeto} {pronome} ficou?",
                                   f"No final, {quantos(g_obj).lower()} {objeto} {nome} tem?"])
    enunciado = " ".join(frases) + " " + pergunta
    solucao = "\n".join(contas) + f"\nResposta: {total}"
    return {"problema": enunciado, "solucao": solucao, "resposta": total, "passos": len(contas)}


def extract_answer(texto: str) -> int | None:
    """O número depois do último "Resposta:" (o verificador do capítulo 09), ou None."""
    achados = re.findall(r"Resposta:\s*(-?\d+)", texto)
    return int(achados[-1]) if achados else None


def particao(enunciado: str) -> str:
    sorteio = int(hashlib.sha256(enunciado.encode("utf-8")).hexdigest(), 16) % 100
    return "treino" if sorteio < 80 else "validacao" if sorteio < 90 else "teste"


def main() -> None:
    sorteio, vistos, linhas = random.Random(SEMENTE), set(), []
    while len(linhas) < QUANTIDADE:
        p = problema(sorteio)
        if p["problema"] in vistos:
            continue
        vistos.add(p["problema"])
        assert extract_answer(p["solucao"]) == p["resposta"] >= 0
        linhas.append({**p, "particao": particao(p["problema"])})
    with open(PASTA / "problemas.jsonl", "w", encoding="utf-8") as f:
        for linha in linhas:
            f.write(json.dumps(linha, ensure_ascii=False) + "\n")
    print(f"{len(linhas)} problemas em {PASTA / 'problemas.jsonl'}")


if __name__ == "__main__":
    main()
