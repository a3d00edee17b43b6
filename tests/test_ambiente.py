"""O acesso aos dados (gptmini.data_file) contra um servidor HTTP de verdade em 127.0.0.1."""

import hashlib
import json
import socket

import pytest
import torch
from conftest import RAIZ, servidor_http

import gptmini
from gptmini import dados


def sha(dados: bytes) -> str:
    return hashlib.sha256(dados).hexdigest()


CONTEUDO = ("linha de dados de teste, com acentuação: ação, pão, avó.\n" * 40_000).encode()  # ~2,4 MB


@pytest.fixture
def publicado(tmp_path, monkeypatch):
    """Um 'repositório publicado' mínimo servido por HTTP, visto de uma pasta vazia (como no Colab)."""
    site = tmp_path / "site" / "dados"
    site.mkdir(parents=True)
    (site / "bom.txt").write_bytes(CONTEUDO)
    (site / "corrompido.txt").write_bytes(b"conteudo adulterado")
    manifesto = {"arquivos": {
        "bom.txt": {"bytes": len(CONTEUDO), "sha256": sha(CONTEUDO)},
        "corrompido.txt": {"bytes": 19, "sha256": sha(b"conteudo original!!")},
        "sumido.txt": {"bytes": 3, "sha256": sha(b"abc")},
    }}
    (site / "manifesto.json").write_text(json.dumps(manifesto), encoding="utf-8")
    vazia = tmp_path / "vazia"
    vazia.mkdir()
    monkeypatch.chdir(vazia)
    monkeypatch.setenv("GPTMINI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dados, "local_data_dir", lambda: None)  # fora de um clone do repositório
    dados._published_manifest.cache_clear()  # cada teste baixa o seu manifesto
    servidor = servidor_http(tmp_path / "site")
    with servidor as url:
        monkeypatch.setenv("GPTMINI_URL_BASE", url)
        yield url, tmp_path / "cache", servidor.servidor.pedidos


def porta_fechada() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_baixa_confere_e_guarda_no_cache(publicado):
    url, cache, pedidos = publicado
    caminho = gptmini.data_file("bom.txt")
    assert caminho.read_bytes() == CONTEUDO
    assert caminho.is_relative_to(cache)
    assert pedidos == ["/dados/manifesto.json", "/dados/bom.txt"]
    assert gptmini.data_file("bom.txt") == caminho  # a segunda vez vem do cache, sem pedir nada
    assert len(pedidos) == 2


def test_arquivo_ausente_no_servidor_da_erro_claro_e_nada_no_cache(publicado):
    url, cache, _ = publicado
    with pytest.raises(dados.DataFileError, match=r"sumido\.txt.*404") as erro:
        gptmini.data_file("sumido.txt")
    assert f"{url}/dados/sumido.txt" in str(erro.value)
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_checksum_errado_da_erro_e_nada_corrompido_no_cache(publicado):
    _, cache, _ = publicado
    with pytest.raises(dados.DataFileError, match=r"corrompido\.txt.*corrompido: SHA-256"):
        gptmini.data_file("corrompido.txt")
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_nome_fora_do_manifesto(publicado):
    with pytest.raises(dados.DataFileError, match=r"'inexistente\.txt' não está no manifesto"):
        gptmini.data_file("inexistente.txt")


def test_servidor_fora_do_ar(publicado, monkeypatch):
    url = f"http://127.0.0.1:{porta_fechada()}"
    monkeypatch.setenv("GPTMINI_URL_BASE", url)
    with pytest.raises(dados.DataFileError, match=r"Não consegui me conectar a .*127\.0\.0\.1") as erro:
        gptmini.data_file("bom.txt")
    assert url in str(erro.value)


def test_dentro_do_clone_usa_a_copia_local(monkeypatch, tmp_path):
    monkeypatch.setenv("GPTMINI_URL_BASE", f"http://127.0.0.1:{porta_fechada()}")  # rede nem é tentada
    monkeypatch.chdir(RAIZ / "00-setup")
    assert gptmini.data_file("corpus_treino.txt") == RAIZ / "dados" / "corpus_treino.txt"


def test_url_publicada_vem_do_slug(monkeypatch):
    monkeypatch.delenv("GPTMINI_URL_BASE", raising=False)
    assert dados.data_url_base() == f"https://raw.githubusercontent.com/{dados.REPO_SLUG}/{dados.REPO_BRANCH}"


def test_sementes_reproduzem():
    gptmini.seed_everything(7)
    a = torch.rand(5)
    gptmini.seed_everything(7)
    assert torch.equal(a, torch.rand(5))


def test_dispositivo_e_modo_rapido(monkeypatch):
    assert gptmini.pick_device().type in ("cpu", "cuda")
    monkeypatch.setenv("GPTMINI_RAPIDO", "1")
    assert gptmini.fast_mode()
    monkeypatch.setenv("GPTMINI_RAPIDO", "0")
    assert not gptmini.fast_mode()
