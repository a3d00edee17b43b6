#!/usr/bin/env bash
# Cria (se faltar) o ambiente virtual .venv na raiz do repositório e instala um arquivo de
# requisitos nele, com o gptmini em modo editável. Uso: source ferramentas/preparar_ambiente.sh requirements.txt
set -euo pipefail
RAIZ="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUISITOS="${1:-requirements.txt}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$RAIZ/.venv/bin/python" ]; then
  echo "Criando o ambiente virtual em .venv ..."
  "$PYTHON" -m venv "$RAIZ/.venv"
fi
echo "Instalando $REQUISITOS no .venv (pode levar alguns minutos na primeira vez) ..."
"$RAIZ/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$RAIZ/$REQUISITOS"
# gptmini instalado em modo editável: ferramentas, testes e benchmarks o importam sem mexer no sys.path
"$RAIZ/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$RAIZ"
export PATH="$RAIZ/.venv/bin:$PATH"
cd "$RAIZ"
