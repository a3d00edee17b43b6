#!/usr/bin/env bash
# Primeiro comando do README: prepara o ambiente e roda o curso inteiro sem interface,
# capítulo por capítulo, em modo completo, gravando os notebooks executados.
# Argumentos extras vão para ferramentas/executar.py (ex.: "03 04" ou "--saida /tmp/curso").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/preparar_ambiente.sh" requirements.txt
python ferramentas/executar.py "$@"
python ferramentas/sincronizar.py  # leva os tempos medidos para a tabela do README
