"""Resultados citados no texto: um número dito num README ou numa célula de texto vem da execução que o
produziu, e a sincronização acusa quando deixa de vir.

No texto, um resultado fica entre marcadores, que o GitHub, o Jupyter e o Colab não mostram:

    a validação chega a <!-- r:05.bpc_gpt|f2 -->1,58<!-- /r --> bits por caractere

`05.bpc_gpt` é o resultado `bpc_gpt` do capítulo 05: a expressão de RESULTADOS["05"]["bpc_gpt"], avaliada
no kernel ao fim da execução completa do notebook (ferramentas/executar.py grava o valor em
metadata.gptmini.resultados). `ficha.<modelo>.<campo>...` é um campo da ficha de um modelo publicado
(dados/modelos/<modelo>.json). Depois do `|`, o formato (FORMATOS). `python ferramentas/sincronizar.py`
reescreve o que está entre os marcadores; `--check` falha se algum estiver diferente do valor gravado, ou
se um marcador citar um resultado que não existe.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from capitulos import RAIZ, existentes, ler_notebook

# capítulo -> nome -> expressão Python avaliada no kernel do notebook, depois da última célula
RESULTADOS: dict[str, dict[str, str]] = {
    "01": {"bpc_regua": "min(linha[3] for linha in tabela)", "contexto_regua": "melhor_modelo.order - 1",
           "alpha_regua": "melhor_modelo.alpha"},
    "05": {"bpc_regua": "bpc_ngrama", "bpc_gpt": "bpc_gpt", "minutos_de_treino": "historico['seconds'] / 60",
           "tokens_por_segundo": "historico['tokens'] / historico['seconds']",
           "copia_publicado": "copiadas_do_treino['modelo publicado']",
           "copia_humano": "copiadas_do_treino['texto da validação (escrito por gente)']"},
    "06": {"regua": "regua_teste[1]", "antes": "metricas_antes['acuracia']", "bow": "metricas_bow['acuracia']",
           "regua_f1": "metricas_regua['f1']", "antes_f1": "metricas_antes['f1']", "bow_f1": "metricas_bow['f1']",
           **{f"{receita}_{medida}": f"resultados['{receita}']['teste']['{medida}']"
              for receita in ("cabeca", "ultimo_bloco", "tudo", "lora") for medida in ("acuracia", "f1")},
           "base_usado": "'o modelo base publicado' if 'publicado' in origem "
                         "else 'o modelo base treinado no capítulo 05'"},
    "07": {"base_parou": "medidas['base']['parou_com_eot']", "base_acerto": "medidas['base']['acerto_exato_geral']",
           "ajustado_acerto": "medidas['com máscara']['acerto_exato_geral']",
           "sem_mascara_acerto": "medidas['sem máscara']['acerto_exato_geral']",
           "melhor_decodificacao": "melhor_decodificacao",
           "laco_gulosa": "decodificacao['gulosa']['em laço']", "regua_sentimento": "regua_sentimento",
           "capitais_base": "sum(b == 1 for b, _ in posicoes.values())",
           "capitais_base_teste": "sum(posicoes[e][0] == 1 for e in estados_teste)",
           "capitais_assistente_treino": "sum(a == 1 for e, (_, a) in posicoes.items() if e not in estados_teste)",
           "capitais_assistente_teste": "sum(posicoes[e][1] == 1 for e in estados_teste)",
           "posicao_teste_assistente": "sum(posicoes[e][1] for e in estados_teste) / len(estados_teste)"},
    "08": {"regua_verificaveis": "sempre_comum"},
    "09": {"regua": "acerto_chute", "regua_familias": "sempre_comum",
           "assistente_val": "max(inicio.values())",
           "contas_sft": "medidas_val['publicado: raciocinio_sft']['com contas']",
           "acerto_com_contas": "sum(por_estilo[True]) / len(por_estilo[True])",
           "acerto_direto": "sum(por_estilo[False]) / len(por_estilo[False])",
           "contas_grpo": "historico_grpo['shows_work'][-1]", "passos_grpo": "config_grpo.steps",
           "val2_sft": "medidas_val['publicado: raciocinio_sft']['pass@1 (gulosa)'][2]",
           "val3_sft": "medidas_val['publicado: raciocinio_sft']['pass@1 (gulosa)'][3]",
           "val2_grpo": "historico_grpo['val_pass1'][-1][2]", "val3_grpo": "historico_grpo['val_pass1'][-1][3]",
           "val2_grpo_primeira": "historico_grpo['val_pass1'][0][2]",
           "val3_grpo_primeira": "historico_grpo['val_pass1'][0][3]",
           "passo_melhor_grpo": "historico_grpo['best_step']",
           **{f"familias_{chave}": f"familias['{nome}']['acerto_exato_geral']"
              for chave, nome in (("assistente", "assistente (cap. 07)"), ("sft", "publicado: raciocinio_sft"),
                                  ("grpo", "publicado: raciocinio"))}},
}

MARCADOR = re.compile(r"<!-- r:([\w.]+)(?:\|(\w+))? -->(.*?)<!-- /r -->", re.S)


def _decimal(valor: float, casas: int) -> str:
    """1234.5 -> "1.234,5": vírgula decimal e ponto de milhar, como se escreve no Brasil."""
    return f"{valor:,.{casas}f}".replace(",", "_").replace(".", ",").replace("_", ".")


FORMATOS = {
    "int": lambda v: _decimal(v, 0),
    "f1": lambda v: _decimal(v, 1),
    "f2": lambda v: _decimal(v, 2),
    "f3": lambda v: _decimal(v, 3),
    "pct0": lambda v: _decimal(100 * v, 0) + "%",  # fração -> porcentagem
    "pct1": lambda v: _decimal(100 * v, 1) + "%",
    "x1": lambda v: _decimal(v, 1) + "×",
    "s": str,
}


def formatar(valor, formato: str | None) -> str:
    if formato is None:
        return str(valor)
    if formato not in FORMATOS:
        raise ValueError(f"Formato desconhecido: {formato!r}. Use um de {sorted(FORMATOS)}.")
    return FORMATOS[formato](valor)


def valores_gravados() -> dict[str, object]:
    """Todos os resultados que um marcador pode citar: os dos notebooks e os campos das fichas."""
    saida: dict[str, object] = {}
    for cap in existentes():
        gravados = ler_notebook(cap.notebook).get("metadata", {}).get("gptmini", {}).get("resultados", {})
        saida.update({f"{cap.numero}.{nome}": v for nome, v in gravados.items()})

    def achatar(prefixo: str, obj) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                achatar(f"{prefixo}.{k}", v)
        else:
            saida[prefixo] = obj

    for ficha in sorted((RAIZ / "dados" / "modelos").glob("*.json")):
        achatar(f"ficha.{ficha.stem}", json.loads(ficha.read_text(encoding="utf-8")))
    return saida


def preencher(texto: str, valores: dict[str, object], onde: str | Path = "",
              pendentes: list[str] | None = None) -> str:
    """O texto com cada marcador preenchido com o valor gravado. Um resultado que não existe é erro; com
    `pendentes`, ele vai para a lista e o marcador fica como está (o notebook ainda vai gravá-lo)."""
    def trocar(m: re.Match) -> str:
        chave, formato = m.group(1), m.group(2)
        if chave not in valores:
            mensagem = (f"{onde}: o marcador cita {chave!r}, que nenhuma execução gravou "
                        "(veja ferramentas/resultados.py)")
            if pendentes is None:
                raise KeyError(mensagem)
            pendentes.append(mensagem)
            return m.group(0)
        return f"<!-- r:{chave}{'|' + formato if formato else ''} -->{formatar(valores[chave], formato)}<!-- /r -->"
    return MARCADOR.sub(trocar, texto)


def codigo_de_coleta(numero: str) -> str | None:
    """O código que executar.py roda no kernel, depois do notebook, para ler os resultados do capítulo."""
    expressoes = RESULTADOS.get(numero)
    if not expressoes:
        return None
    return ("import json as _json\n"
            f"_resultados = {{nome: eval(expr) for nome, expr in {expressoes!r}.items()}}\n"
            "_resultados = {k: (v.item() if hasattr(v, 'item') else v) for k, v in _resultados.items()}\n"
            "print(_json.dumps(_resultados))")
