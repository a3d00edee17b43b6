"""Monta os arquivos de dados/ a partir das fontes escritas para o curso (dados/fontes/).

- Corpus: dados/fontes/corpus/*.txt (documentos separados por uma linha '---') vira
  dados/corpus_treino.txt e dados/corpus_validacao.txt, com os documentos separados por
  <|endoftext|>. A divisão é fixa: um documento vai para a validação quando o SHA-256 do seu texto,
  lido como número, deixa resto 0 na divisão por 10 (cerca de 10%); acrescentar documentos novos não
  muda o lado dos antigos.
- Tokenizador: dados/tokenizador.json, o BPE de 4096 tokens do capítulo 02, treinado por
  gptmini.train_bpe no texto de treino (documentos unidos por uma linha em branco, como no
  notebook). Guarda o SHA-256 do texto de treino, e só é retreinado quando esse texto muda.
- Mensagens (capítulo 06): dados/fontes/mensagens/*.jsonl viram dados/mensagens.jsonl, cada uma
  com a sua partição (treino 70%, validação 15%, teste 15%), sorteada pelo SHA-256 do texto
  normalizado, dentro de cada rótulo.
- Instruções (capítulo 07): dados/fontes/instrucoes/*.jsonl viram dados/instrucoes.jsonl, com a
  partição (treino 80%, validação 10%, teste 10%) sorteada pelo SHA-256 de família + item
  (`grupo_do_item`): todas as entradas sobre o mesmo item (a mesma palavra, a mesma conta, o mesmo
  estado, o mesmo par de antônimos nos dois sentidos) caem do mesmo lado, e nada do teste aparece no
  treino nem com outras palavras. O aumento de treino
  (dados/fontes/instrucoes_aumento/: listas .tsv de item e resposta, vestidas com os enunciados da
  família, e contas .jsonl) e a família `copia` (palavras do corpus de treino, para copiar) entram só no
  treino, sem tocar nenhum item da validação ou do teste.
- Preferências (capítulo 08): dados/fontes/preferencias/*.jsonl (instrução, entrada, escolhida, rejeitada,
  critério) viram dados/preferencias.jsonl, sem pares repetidos (mesma instrução e entrada, normalizadas), com a
  partição (treino 80%, validação 10%, teste 10%) sorteada pelo SHA-256 da instrução normalizada: a mesma
  instrução, com entradas diferentes, cai sempre do mesmo lado; uma instrução que instrucoes.jsonl também tem
  fica no lado dela lá, e uma quase igual a uma de treino vai para o treino.
- Manifesto: dados/manifesto.json, com tamanho e SHA-256 de cada arquivo publicado.

Uso:
    python ferramentas/construir_dados.py           # reconstrói
    python ferramentas/construir_dados.py --check   # só confere se está tudo em dia
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
DADOS = RAIZ / "dados"
FONTES = DADOS / "fontes"
FIM_DE_TEXTO = "<|endoftext|>"
SEPARADOR_DOCUMENTOS = f"\n{FIM_DE_TEXTO}\n"
NAO_PUBLICADOS = {"manifesto.json", "README.md"}  # e tudo em fontes/


def documentos_do_corpus() -> list[tuple[str, str]]:
    """(gênero, documento) de cada documento das fontes, normalizado em NFC."""
    docs = []
    for arquivo in sorted((FONTES / "corpus").glob("*.txt")):
        genero = re.sub(r"_\d+$", "", arquivo.stem)
        texto = unicodedata.normalize("NFC", arquivo.read_text(encoding="utf-8"))
        for doc in re.split(r"^---$", texto, flags=re.M):
            doc = "\n".join(linha.rstrip() for linha in doc.strip().splitlines())
            if doc:
                docs.append((genero, doc))
    return docs


def vai_para_validacao(documento: str) -> bool:
    return int(hashlib.sha256(documento.encode("utf-8")).hexdigest(), 16) % 10 == 0


def arquivos_do_corpus() -> dict[Path, str]:
    treino, validacao = [], []
    for _, doc in documentos_do_corpus():
        (validacao if vai_para_validacao(doc) else treino).append(doc)
    return {DADOS / "corpus_treino.txt": SEPARADOR_DOCUMENTOS.join(treino) + "\n",
            DADOS / "corpus_validacao.txt": SEPARADOR_DOCUMENTOS.join(validacao) + "\n"}


def sem_acentos(texto: str) -> str:
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", texto)
                                                if not unicodedata.combining(c)))


def normalizar(texto: str) -> str:
    """Minúsculas, sem acentos, pontuação e espaços: para achar quase-duplicatas."""
    return re.sub(r"[^a-z0-9]", "", sem_acentos(texto.lower()))


def particao(chave: str, limites: tuple[int, int]) -> str:
    sorteio = int(hashlib.sha256(chave.encode("utf-8")).hexdigest(), 16) % 100
    return "treino" if sorteio < limites[0] else "validacao" if sorteio < limites[1] else "teste"


def ler_jsonl(pasta: Path) -> list[dict]:
    linhas = []
    for arquivo in sorted(pasta.glob("*.jsonl")):
        for linha in arquivo.read_text(encoding="utf-8").splitlines():
            if linha.strip():
                registro = json.loads(linha)
                linhas.append({k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v
                               for k, v in registro.items()})
    return linhas


def jsonl(registros: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in registros)


def arquivo_de_mensagens() -> str:
    mensagens = ler_jsonl(FONTES / "mensagens")
    for m in mensagens:
        m["particao"] = particao(normalizar(m["texto"]), (70, 85))
    return jsonl(sorted(mensagens, key=lambda m: (m["particao"], m["rotulo"], m["texto"])))


SEMPRE_NO_TESTE = {"Escreva uma receita de bolo."}  # o exemplo do texto do capítulo 07
# Itens extras de treino por linha das listas de aumento: quantos enunciados diferentes cada um ganha.
ENUNCIADOS_POR_ITEM = {"plural": 3, "antonimo": 2, "sentimento": 1}


def bloqueados(registros: list[dict]) -> set[tuple[str, str]]:
    """Os itens da validação e do teste, que nenhum exemplo de treino pode repetir: a chave, a conta
    na outra ordem (soma) e os dois lados do par (antônimo)."""
    itens = set()
    for r in registros:
        if r["particao"] != "treino":
            itens.add((r["familia"], r["chave"]))
            if r["familia"] == "soma":
                itens.add(("soma", "+".join(reversed(r["chave"].split("+")))))
            if r["familia"] == "antonimo":
                itens.add(("antonimo", r["resposta"]))
    return itens


def moldes(registros: list[dict], familia: str) -> list[tuple[str, str]]:
    """Os enunciados escritos à mão para a família, com o item trocado por {item}."""
    saida = set()
    for r in registros:
        if r["familia"] == familia:
            item = r["entrada"] if familia == "sentimento" else r["chave"]
            if item in r["instrucao"] or item in r["entrada"]:
                saida.add((r["instrucao"].replace(item, "{item}"), r["entrada"].replace(item, "{item}")))
    return sorted(saida)


# Cópia: o modelo base não copia o que está no contexto (capítulo 07, seção 12), e pôr no plural é antes
# de tudo copiar a palavra. Palavras do corpus de treino, com estes enunciados. Frases inteiras para copiar
# foram testadas e pioraram as tarefas abertas: o modelo passou a repetir trechos em laço.
MOLDES_COPIA = [("Repita a palavra: {item}", ""), ("Copie exatamente a palavra a seguir.", "{item}"),
                ('Escreva de novo a palavra "{item}".', ""), ("Repita esta palavra sem mudar nada.", "{item}")]
QUANTAS_COPIAS = 4000


def exemplos_de_copia(corpus_treino: str, proibidas: set[str]) -> list[dict]:
    """Exemplos da família `copia`: palavras de 4 a 14 letras do corpus de treino, uma grafia por palavra,
    sorteadas com semente fixa; nenhuma é item ou resposta da validação ou do teste."""
    sorteio = random.Random("copia")
    palavras = {normalizar(p): p for p in sorted(set(re.findall(r"\b[^\W\d_]{4,14}\b", corpus_treino)))}
    palavras = sorted(p for chave, p in palavras.items() if chave not in proibidas)
    saida = []
    for palavra in sorteio.sample(palavras, QUANTAS_COPIAS):
        instrucao, entrada = sorteio.choice(MOLDES_COPIA)
        saida.append({"familia": "copia", "chave": normalizar(palavra), "instrucao": instrucao.format(item=palavra),
                      "entrada": entrada.format(item=palavra), "resposta": palavra})
    return saida


def aumento_de_treino(registros: list[dict], corpus_treino: str) -> list[dict]:
    """Exemplos extras, só de treino, para as famílias verificáveis: as listas de
    dados/fontes/instrucoes_aumento/*.tsv (item, resposta) vestidas com os enunciados da família, e as
    contas prontas dos .jsonl da mesma pasta, e a família `copia`, tirada do corpus de treino. Nada que toque
    um item da validação ou do teste entra."""
    pasta = FONTES / "instrucoes_aumento"
    proibidos = bloqueados(registros)
    extras = ler_jsonl(pasta)
    for arquivo in sorted(pasta.glob("*.tsv")):
        familia, enunciados = arquivo.stem, moldes(registros, arquivo.stem)
        for linha in arquivo.read_text(encoding="utf-8").splitlines():
            item, resposta = unicodedata.normalize("NFC", linha).split("\t")
            sorteio = random.Random(f"{familia}|{item}")  # o mesmo item ganha sempre os mesmos enunciados
            for instrucao, entrada in sorteio.sample(enunciados, ENUNCIADOS_POR_ITEM[familia]):
                extras.append({"familia": familia, "chave": normalizar(item)[:40] if familia == "sentimento" else item,
                               "instrucao": instrucao.format(item=item), "entrada": entrada.format(item=item),
                               "resposta": resposta})
    fora_do_treino = [r for r in registros if r["particao"] != "treino"]
    itens_de_fora = {normalizar(r[campo]) for r in fora_do_treino for campo in ("chave", "resposta")}
    extras += exemplos_de_copia(corpus_treino, itens_de_fora)
    return [dict(r, particao="treino", origem="aumento") for r in extras
            if (r["familia"], r["chave"]) not in proibidos
            and not (r["familia"] == "antonimo" and (r["familia"], r["resposta"]) in proibidos)]


# As famílias de resposta conferível (as mesmas de gptmini.instrucoes.VERIFIABLE_FAMILIES); as outras são abertas.
FAMILIAS_VERIFICAVEIS = {"plural", "antonimo", "soma", "subtracao", "capital_estado", "capital_pais", "sentimento"}


def grupo_do_item(r: dict) -> str:
    """O que decide a partição: família + item. Um par de antônimos é um item só nos dois sentidos
    ("cheio" → "vazio" e "vazio" → "cheio"); senão o teste perguntaria o que o treino ensinou ao contrário.
    Nas famílias abertas, o item é só o assunto (a chave): "baião de dois" em receita e em explicação cai do
    mesmo lado, e o teste não pergunta de um assunto que o treino já explicou com outras palavras."""
    if r["familia"] not in FAMILIAS_VERIFICAVEIS:
        return f"aberta|{r['chave']}"
    item = "/".join(sorted((r["chave"], r["resposta"]))) if r["familia"] == "antonimo" else r["chave"]
    return f"{r['familia']}|{item}"


def arquivo_de_instrucoes(corpus_treino: str) -> str:
    registros = [dict(r, origem="principal") for r in ler_jsonl(FONTES / "instrucoes")]
    teste_forcado = {grupo_do_item(r) for r in registros if r["instrucao"] in SEMPRE_NO_TESTE}
    for r in registros:
        grupo = grupo_do_item(r)
        r["particao"] = "teste" if grupo in teste_forcado else particao(grupo, (80, 90))
    registros += aumento_de_treino(registros, corpus_treino)
    ordem = {"treino": 0, "validacao": 1, "teste": 2}
    return jsonl(sorted(registros, key=lambda r: (ordem[r["particao"]], r["origem"] != "principal", r["familia"],
                                                  r["chave"], r["instrucao"])))


TAMANHO_VOCABULARIO = 4096


def quatro_gramas(texto: str) -> set[tuple[str, ...]]:
    palavras = texto.lower().split()
    return {tuple(palavras[i:i + 4]) for i in range(len(palavras) - 3)}


def arquivo_de_preferencias(lado_no_sft: dict[str, str]) -> str:
    """`lado_no_sft`: instrução normalizada -> partição dela em instrucoes.jsonl. Uma instrução que o capítulo 07
    também usa fica do mesmo lado lá e aqui, e uma de validação ou teste quase igual (4-gramas) a uma de treino
    vai para o treino: nada do que mede o modelo aparece, nem com outras palavras, no treino de outra etapa."""
    pares, vistos = [], set()
    for par in ler_jsonl(FONTES / "preferencias"):
        chave = (normalizar(par["instrucao"]), normalizar(par["entrada"]), par.get("origem", "escrita"))
        if chave in vistos:  # lotes escritos em paralelo repetem algumas perguntas comuns
            continue
        vistos.add(chave)
        lado = lado_no_sft.get(chave[0]) or particao(chave[0], (80, 90))
        pares.append(dict(par, origem=par.get("origem", "escrita"), particao=lado))
    gramas_treino = [quatro_gramas(p["instrucao"] + " " + p["entrada"]) for p in pares if p["particao"] == "treino"]
    for par in pares:
        gramas = quatro_gramas(par["instrucao"] + " " + par["entrada"])
        if par["particao"] != "treino" and normalizar(par["instrucao"]) not in lado_no_sft and any(
                gramas and len(gramas & g) / len(gramas | g) > 0.6 for g in gramas_treino):
            par["particao"] = "treino"
    ordem = {"treino": 0, "validacao": 1, "teste": 2}
    return jsonl(sorted(pares, key=lambda r: (ordem[r["particao"]], r["criterio"], r["instrucao"], r["entrada"])))


def arquivo_do_tokenizador(corpus_treino: str) -> bytes:
    """O tokenizador do curso, retreinado só se o texto de treino ou a pré-tokenização mudaram."""
    from gptmini.tokenizacao import PRETOKENIZE_PATTERN, save_tokenizer, train_bpe

    texto = "\n\n".join(d.strip() for d in corpus_treino.split(FIM_DE_TEXTO) if d.strip())
    impressao = sha256_bytes(texto.encode("utf-8"))
    caminho = DADOS / "tokenizador.json"
    if caminho.exists():
        atual = json.loads(caminho.read_text(encoding="utf-8"))
        if atual.get("texto_sha256") == impressao and atual.get("padrao") == PRETOKENIZE_PATTERN:
            return caminho.read_bytes()
    print(f"Treinando o BPE de {TAMANHO_VOCABULARIO} tokens no corpus de treino ...")
    temporario = DADOS / "tokenizador.json.tmp"
    save_tokenizer(train_bpe(texto, TAMANHO_VOCABULARIO), temporario, name="gptmini-pt-4k")
    dados = json.loads(temporario.read_text(encoding="utf-8"))
    temporario.unlink()
    dados["texto_sha256"] = impressao  # de que texto de treino ele saiu
    return (json.dumps(dados, ensure_ascii=False, indent=0) + "\n").encode("utf-8")


def sha256_bytes(dados: bytes) -> str:
    return hashlib.sha256(dados).hexdigest()


def manifesto(conteudos: dict[Path, bytes]) -> str:
    """O manifesto dos arquivos publicados em dados/ (fora fontes/), com o conteúdo que terão."""
    arquivos = {}
    for caminho in sorted(DADOS.rglob("*")):
        rel = caminho.relative_to(DADOS).as_posix()
        if caminho.is_file() and rel not in NAO_PUBLICADOS and not rel.startswith("fontes/"):
            arquivos[rel] = caminho.read_bytes()
    for caminho, dados in conteudos.items():
        arquivos[caminho.relative_to(DADOS).as_posix()] = dados
    entradas = {nome: {"bytes": len(d), "sha256": sha256_bytes(d)} for nome, d in sorted(arquivos.items())}
    return json.dumps({"arquivos": entradas}, indent=1, ensure_ascii=False) + "\n"


def arquivos_esperados() -> dict[Path, bytes]:
    saida = {caminho: texto.encode("utf-8") for caminho, texto in arquivos_do_corpus().items()}
    corpus_treino = saida[DADOS / "corpus_treino.txt"].decode("utf-8")
    saida[DADOS / "tokenizador.json"] = arquivo_do_tokenizador(corpus_treino)
    saida[DADOS / "mensagens.jsonl"] = arquivo_de_mensagens().encode("utf-8")
    instrucoes = arquivo_de_instrucoes(corpus_treino)
    saida[DADOS / "instrucoes.jsonl"] = instrucoes.encode("utf-8")
    lado_no_sft = {normalizar(r["instrucao"]): r["particao"] for r in map(json.loads, instrucoes.splitlines())}
    saida[DADOS / "preferencias.jsonl"] = arquivo_de_preferencias(lado_no_sft).encode("utf-8")
    saida[DADOS / "manifesto.json"] = manifesto(saida).encode("utf-8")
    return saida


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="só confere; não escreve nada")
    args = parser.parse_args()
    esperados = arquivos_esperados()
    velhos = [c for c, d in esperados.items() if not c.exists() or c.read_bytes() != d]
    for caminho in velhos:
        if args.check:
            print(f"Desatualizado: {caminho.relative_to(RAIZ)} (rode `python ferramentas/construir_dados.py`)")
        else:
            caminho.write_bytes(esperados[caminho])
            print(f"escrito: {caminho.relative_to(RAIZ)} ({len(esperados[caminho]) / 1024:.0f} KB)")
    return 1 if args.check and velhos else 0


if __name__ == "__main__":
    sys.exit(main())
