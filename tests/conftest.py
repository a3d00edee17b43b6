"""Configuração comum dos testes: caminhos e um servidor HTTP local que faz o papel do GitHub."""

import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch

import gptmini

RAIZ = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tokenizer():
    """O tokenizador do curso (dados/tokenizador.json), carregado uma vez."""
    return gptmini.load_tokenizer()


@pytest.fixture
def pequeno(tokenizer):
    """Um GPTMini minúsculo e novo a cada teste, com o vocabulário do curso: treina em segundos."""
    torch.manual_seed(0)
    return gptmini.GPTMini(gptmini.GPTConfig(vocab_size=tokenizer.n_vocab, context_length=96, d_model=32,
                                             n_heads=2, n_layers=1))


class _ServidorSilencioso(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # sem uma linha de log por requisição
        pass

    def do_GET(self):
        self.server.pedidos.append(self.path)
        super().do_GET()


@pytest.fixture(scope="session")
def servidor_do_repositorio():
    """Serve a raiz do repositório em 127.0.0.1, como o GitHub serve os arquivos publicados."""
    with servidor_http(RAIZ) as url:
        yield url


class servidor_http:
    """Um servidor HTTP de arquivos em 127.0.0.1, numa porta livre, enquanto durar o `with`."""

    def __init__(self, pasta: Path):
        handler = functools.partial(_ServidorSilencioso, directory=str(pasta))
        self.servidor = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.servidor.pedidos = []  # os caminhos pedidos, em ordem

    def __enter__(self) -> str:
        threading.Thread(target=self.servidor.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.servidor.server_address[1]}"

    def __exit__(self, *exc):
        self.servidor.shutdown()
        self.servidor.server_close()
