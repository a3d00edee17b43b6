#!/usr/bin/env bash
# Segundo comando do README: prepara o ambiente e roda os testes (argumentos extras vão ao pytest).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/preparar_ambiente.sh" requirements-testes.txt
python -m pytest "$@"
