"""torchrun: dois processos na CPU (gloo), cada um com metade de cada lote, dão as perdas de um processo
só com o lote inteiro."""

import json
import subprocess
import sys

import pytest
import torch

from gptmini import GPTMini, encode_documents, load_tokenizer, read_corpus
from gptmini.treino import TRAIN_PRESETS, TrainConfig, cpu_supports_fast_bf16, train

ROTEIRO = """
import json, sys
import torch
from gptmini import GPTMini, encode_documents, load_tokenizer, read_corpus
from gptmini.treino import TRAIN_PRESETS, TrainConfig, train

torch.distributed.init_process_group("gloo")
torch.set_num_threads(1)
cfg_modelo, cfg_treino = TRAIN_PRESETS["rapido"]
cfg_modelo = cfg_modelo.__class__(**{**cfg_modelo.__dict__, "dropout": 0.0})
cfg_treino = TrainConfig(**{**cfg_treino.__dict__, "max_steps": 6, "eval_interval": 3, "sample_interval": 0})
ids = encode_documents(load_tokenizer(), read_corpus("validacao"))
torch.manual_seed(0)
modelo = torch.nn.parallel.DistributedDataParallel(GPTMini(cfg_modelo))
estado = train(modelo, ids[:20_000], ids[20_000:24_000], cfg_treino, torch.device("cpu"), progress=False)
if torch.distributed.get_rank() == 0:
    json.dump({"train_loss": estado.history["train_loss"], "val_loss": estado.history["val_loss"],
               "tokens": estado.history["tokens"]}, open(sys.argv[1], "w"))
torch.distributed.destroy_process_group()
"""


def test_dois_processos_igual_a_um(tmp_path, monkeypatch):
    monkeypatch.setenv("GPTMINI_BF16", "0")  # fp32 nos dois lados: a comparação fica exata até o arredondamento
    cpu_supports_fast_bf16.cache_clear()  # a escolha é guardada por sessão: aqui, vale a variável
    roteiro, saida = tmp_path / "roteiro.py", tmp_path / "saida.json"
    roteiro.write_text(ROTEIRO, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        str(roteiro), str(saida)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    distribuido = json.loads(saida.read_text(encoding="utf-8"))

    cfg_modelo, cfg_treino = TRAIN_PRESETS["rapido"]
    cfg_modelo = cfg_modelo.__class__(**{**cfg_modelo.__dict__, "dropout": 0.0})
    cfg_treino = TrainConfig(**{**cfg_treino.__dict__, "max_steps": 6, "eval_interval": 3, "sample_interval": 0})
    ids = encode_documents(load_tokenizer(), read_corpus("validacao"))
    torch.manual_seed(0)
    sozinho = train(GPTMini(cfg_modelo), ids[:20_000], ids[20_000:24_000], cfg_treino, torch.device("cpu"),
                    progress=False).history
    assert distribuido["train_loss"] == pytest.approx(sozinho["train_loss"], abs=1e-4)
    assert distribuido["val_loss"] == pytest.approx(sozinho["val_loss"], abs=1e-4)
    assert distribuido["tokens"] == sozinho["tokens"]
    cpu_supports_fast_bf16.cache_clear()
