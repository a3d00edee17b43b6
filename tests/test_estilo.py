"""ruff no código e nos notebooks (configuração em pyproject.toml)."""

import subprocess
import sys

from conftest import RAIZ


def test_ruff_sem_avisos():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=RAIZ,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
