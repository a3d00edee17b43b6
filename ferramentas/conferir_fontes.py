"""Confere, com código, textos novos para o corpus e instruções novas, antes de entrarem em dados/fontes/.

Uso:
    python ferramentas/conferir_fontes.py corpus PASTA_OU_ARQUIVOS...      # textos do corpus (.txt)
    python ferramentas/conferir_fontes.py instrucoes PASTA_OU_ARQUIVOS...  # instruções (.jsonl)

Corpus: formato (documentos separados por '---', título na primeira linha), NFC, caracteres fora do
esperado, tamanhos, aberturas repetidas, parágrafos repetidos e quase repetidos (8-gramas de palavras
em comum) entre os textos novos e com o corpus que já existe, crescimento do vocabulário, e quantas
vezes cada capital aparece junto do seu estado ou país e cada par de antônimos aparece junto.
Instruções: campos, famílias, tamanhos (também em tokens, com o modelo de prompt do capítulo 07),
chaves, instruções repetidas, respostas quase repetidas, e perguntas que são de famílias verificáveis
(capitais, antônimos, plurais, contas, sentimento), que não podem aparecer nas tarefas abertas.
Sai com 1 se achar um problema que impede a entrada; avisos só informam.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from construir_dados import FONTES, documentos_do_corpus, normalizar

PERMITIDOS = re.compile(r"[^\w\s.,;:!?()\"'“”‘’—–\-…/%º°ª$+=×&*#@\[\]]")
FAMILIAS_ABERTAS = {"receita", "explicacao", "resumo", "escrita", "conselho", "pergunta", "reescrita", "lista",
                    "definicao", "crianca"}
VERIFICAVEIS = re.compile(r"\bcapital d[eoa]s?\b|\bant[ôo]nimo|\bcontr[áa]rio d[eoa]\b|\bplural\b|quanto é \d|"
                          r"\d+ ?[+-] ?\d+|\bsentimento\b|positivo ou negativo", re.I)


def arquivos(caminhos: list[str], sufixo: str) -> list[Path]:
    saida = []
    for c in map(Path, caminhos):
        saida += sorted(c.glob(f"*{sufixo}")) if c.is_dir() else [c]
    return saida


def ngramas(texto: str, n: int = 8) -> set[tuple[str, ...]]:
    palavras = re.findall(r"\w+", texto.lower())
    return {tuple(palavras[i:i + n]) for i in range(len(palavras) - n + 1)}


def quase_repetidos(novos: list[tuple[str, str]], antigos: list[tuple[str, str]], limite: float = 0.5):
    """Pares (origem, origem, fração) de textos que dividem pelo menos `limite` dos 8-gramas do menor."""
    indice: dict[tuple, set[int]] = defaultdict(set)
    todos = antigos + novos
    grams = [ngramas(t) for _, t in todos]
    for i, g in enumerate(grams):
        for x in g:
            indice[x].add(i)
    achados = []
    for i in range(len(antigos), len(todos)):
        if not grams[i]:
            continue
        comuns = Counter(j for x in grams[i] for j in indice[x] if j != i and (j < i or j < len(antigos)))
        for j, n in comuns.items():
            fracao = n / min(len(grams[i]), len(grams[j]) or 1)
            if fracao >= limite:
                achados.append((todos[j][0], todos[i][0], fracao))
    return achados


def conferir_corpus(caminhos: list[Path]) -> int:
    problemas, docs = 0, []
    for caminho in caminhos:
        texto = caminho.read_text(encoding="utf-8")
        if not unicodedata.is_normalized("NFC", texto):
            print(f"AVISO {caminho.name}: não está em NFC (a construção normaliza)")
        for k, doc in enumerate(re.split(r"^---$", unicodedata.normalize("NFC", texto), flags=re.M)):
            doc = "\n".join(linha.rstrip() for linha in doc.strip().splitlines())
            if doc:
                docs.append((f"{caminho.name}#{k + 1}", doc))
    print(f"{len(caminhos)} arquivos, {len(docs)} documentos, {sum(len(d) for _, d in docs):,} caracteres")
    tamanhos = sorted(len(d) for _, d in docs)
    print(f"tamanho dos documentos: mínimo {tamanhos[0]}, mediana {tamanhos[len(tamanhos) // 2]}, "
          f"máximo {tamanhos[-1]}")
    for origem, doc in docs:
        titulo, _, corpo = doc.partition("\n\n")
        if "\n" in titulo or len(titulo) > 90 or not corpo:
            print(f"PROBLEMA {origem}: sem título numa linha só seguido de linha em branco: {titulo[:60]!r}")
            problemas += 1
        estranhos = set(PERMITIDOS.findall(doc))
        if estranhos:
            print(f"PROBLEMA {origem}: caracteres fora do esperado {sorted(estranhos)}")
            problemas += 1
        if re.search(r"^\s*[#*]|\*\*", doc, re.M):
            print(f"PROBLEMA {origem}: marcação de markdown")
            problemas += 1
    aberturas = Counter(" ".join(d.partition("\n\n")[2].split()[:3]) for _, d in docs)
    print("aberturas mais comuns:", ", ".join(f"{a!r} {n}" for a, n in aberturas.most_common(5)))
    antigos = [(f"fontes/{g}", p) for g, d in documentos_do_corpus() for p in d.split("\n\n")[1:] if len(p) > 80]
    novos = [(o, p) for o, d in docs for p in d.split("\n\n")[1:] if len(p) > 80]
    exatos = Counter(p for _, p in antigos + novos)
    repetidos = [p for p, n in exatos.items() if n > 1 and any(p == q for _, q in novos)]
    for p in repetidos:
        print(f"PROBLEMA parágrafo repetido: {p[:90]!r}")
    problemas += len(repetidos)
    quase = quase_repetidos(novos, antigos)
    for a, b, f in quase[:30]:
        print(f"AVISO quase repetido ({f:.0%} dos 8-gramas): {a} ~ {b}")
    print(f"{len(quase)} pares de parágrafos quase repetidos")
    vocab, vistos, palavras = [], set(), 0
    for _, d in docs:
        for w in re.findall(r"\w+", d.lower()):
            palavras += 1
            vistos.add(w)
            if palavras % 100_000 == 0:
                vocab.append(len(vistos))
    print(f"vocabulário: {len(vistos):,} palavras distintas em {palavras:,}; a cada 100 mil: {vocab}")
    return problemas


def fatos_do_corpus(caminhos: list[Path]) -> None:
    """Quantos parágrafos juntam cada estado ou país à sua capital, e cada par de antônimos."""
    paragrafos = [p.lower() for c in caminhos for p in c.read_text(encoding="utf-8").split("\n\n")]
    for familia in ("capital_estado", "capital_pais"):
        pares = {(r["chave"], r["resposta"]) for r in ler_instrucoes([FONTES / "instrucoes" / f"{familia}.jsonl"])}
        contagem = {k: sum(k.lower() in p and v.lower() in p for p in paragrafos) for k, v in pares}
        poucos = sorted(k for k, n in contagem.items() if n < 3)
        print(f"{familia}: {len(pares)} itens; mediana de parágrafos com o fato "
              f"{sorted(contagem.values())[len(contagem) // 2]}; com menos de 3: {poucos}")
    antonimos = ler_instrucoes([FONTES / "instrucoes" / "antonimo.jsonl"])
    pares = {tuple(sorted((r["chave"], r["resposta"]))) for r in antonimos}
    juntos = sum(any(re.search(rf"\b{a}\b", p) and re.search(rf"\b{b}\b", p) for p in paragrafos) for a, b in pares)
    print(f"antônimos (os {len(pares)} pares das instruções): {juntos} aparecem juntos em algum parágrafo")


def ler_instrucoes(caminhos: list[Path]) -> list[dict]:
    linhas = []
    for caminho in caminhos:
        for n, linha in enumerate(caminho.read_text(encoding="utf-8").splitlines(), 1):
            if linha.strip():
                try:
                    linhas.append(dict(json.loads(linha), _origem=f"{caminho.name}:{n}"))
                except ValueError as erro:
                    linhas.append({"_origem": f"{caminho.name}:{n}", "_erro": str(erro)})
    return linhas


def conferir_instrucoes(caminhos: list[Path]) -> int:
    from gptmini import format_instruction, load_tokenizer

    tokenizer = load_tokenizer()
    problemas = 0
    linhas = ler_instrucoes(caminhos)
    existentes = [r for r in ler_instrucoes(sorted((FONTES / "instrucoes").glob("*.jsonl")))]
    vistas = Counter(normalizar(r.get("instrucao", "") + r.get("entrada", "")) for r in existentes)
    campos = {"familia", "chave", "instrucao", "entrada", "resposta"}
    tokens, por_familia = [], Counter()
    for r in linhas:
        origem = r["_origem"]
        if "_erro" in r or set(r) - {"_origem"} != campos:
            print(f"PROBLEMA {origem}: JSON inválido ou campos diferentes de {sorted(campos)}")
            problemas += 1
            continue
        por_familia[r["familia"]] += 1
        if r["familia"] not in FAMILIAS_ABERTAS:
            print(f"PROBLEMA {origem}: família desconhecida {r['familia']!r}")
            problemas += 1
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r["chave"]):
            print(f"PROBLEMA {origem}: chave fora do padrão {r['chave']!r}")
            problemas += 1
        if not r["resposta"].strip() or len(r["resposta"]) > 450:
            print(f"PROBLEMA {origem}: resposta vazia ou com mais de 450 caracteres ({len(r['resposta'])})")
            problemas += 1
        if VERIFICAVEIS.search(r["instrucao"] + " " + r["entrada"]):
            print(f"AVISO {origem}: parece de uma família verificável: {r['instrucao'][:80]!r}")
        estranhos = set(PERMITIDOS.findall(r["instrucao"] + r["entrada"] + r["resposta"]))
        if estranhos:
            print(f"PROBLEMA {origem}: caracteres fora do esperado {sorted(estranhos)}")
            problemas += 1
        chave = normalizar(r["instrucao"] + r["entrada"])
        vistas[chave] += 1
        if vistas[chave] > 1:
            print(f"PROBLEMA {origem}: instrução repetida: {r['instrucao'][:80]!r}")
            problemas += 1
        prompt = format_instruction(r["instrucao"], r["entrada"])
        tokens.append(len(tokenizer.encode_ordinary(prompt + r["resposta"])) + 1)
    print(f"{len(linhas)} instruções; por família: {dict(sorted(por_familia.items()))}")
    print(f"chaves distintas: {len({(r.get('familia'), r.get('chave')) for r in linhas})}")
    tokens.sort()
    print(f"tokens por exemplo (com o prompt e o <|endoftext|>): mediana {tokens[len(tokens) // 2]}, "
          f"p95 {tokens[int(len(tokens) * 0.95)]}, máximo {tokens[-1]}; acima de 128: "
          f"{sum(t > 128 for t in tokens)}; acima de 256: {sum(t > 256 for t in tokens)}")
    quase = quase_repetidos([(r["_origem"], r["resposta"]) for r in linhas if "resposta" in r],
                            [(f"fontes:{r['_origem']}", r["resposta"]) for r in existentes], limite=0.6)
    for a, b, f in quase[:30]:
        print(f"AVISO respostas quase repetidas ({f:.0%}): {a} ~ {b}")
    print(f"{len(quase)} pares de respostas quase repetidas")
    return problemas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tipo", choices=("corpus", "instrucoes"))
    parser.add_argument("caminhos", nargs="+")
    args = parser.parse_args()
    if args.tipo == "corpus":
        caminhos = arquivos(args.caminhos, ".txt")
        problemas = conferir_corpus(caminhos)
        fatos_do_corpus(caminhos + sorted((FONTES / "corpus").glob("*.txt")))
    else:
        problemas = conferir_instrucoes(arquivos(args.caminhos, ".jsonl"))
    print(f"\n{problemas} problema(s)")
    return 1 if problemas else 0


if __name__ == "__main__":
    sys.exit(main())
