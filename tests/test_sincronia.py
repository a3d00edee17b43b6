"""O código vive num lugar só: módulos, células copiadas e dados publicados estão em dia."""

import shutil
import subprocess
import sys

from conftest import RAIZ


def rodar(script, *args, raiz=RAIZ):
    return subprocess.run([sys.executable, str(raiz / "ferramentas" / script), *args],
                          capture_output=True, text=True, cwd=raiz)


def test_modulos_e_celulas_sincronizados():
    r = rodar("sincronizar.py", "--check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_manifesto_e_divisoes_em_dia():
    r = rodar("construir_dados.py", "--check")
    assert r.returncode == 0, r.stdout + r.stderr


def copia_do_repositorio(destino):
    ignorar = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache")
    shutil.copytree(RAIZ, destino, ignore=ignorar)
    return destino


def test_check_acusa_modulo_editado_a_mao(tmp_path):
    copia = copia_do_repositorio(tmp_path / "repo")
    assert rodar("sincronizar.py", "--check", raiz=copia).returncode == 0
    with open(copia / "gptmini" / "ambiente.py", "a", encoding="utf-8") as f:
        f.write("\n# edição feita direto no módulo, não no notebook\n")
    r = rodar("sincronizar.py", "--check", raiz=copia)
    assert r.returncode == 1
    assert "gptmini/ambiente.py" in r.stdout


def test_check_acusa_arquivo_de_dados_alterado(tmp_path):
    copia = copia_do_repositorio(tmp_path / "repo")
    assert rodar("construir_dados.py", "--check", raiz=copia).returncode == 0
    corpus = copia / "dados" / "corpus_validacao.txt"
    corpus.write_bytes(corpus.read_bytes().replace(b"a", b"o", 1))
    r = rodar("construir_dados.py", "--check", raiz=copia)
    assert r.returncode == 1
    assert "corpus_validacao.txt" in r.stdout
