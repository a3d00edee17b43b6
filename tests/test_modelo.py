"""Atenção e GPTMini: SDPA igual à conta manual, causalidade, cache, amostragem, corte, checkpoints."""

import pytest
import torch
import torch.nn.functional as F

from gptmini import (
    PRESETS,
    GPTConfig,
    GPTMini,
    MultiHeadAttention,
    generate,
    generate_batch,
    load_checkpoint,
    save_checkpoint,
)
from gptmini.modelo import KVCache, sample_next_token

PEQUENO = GPTConfig(vocab_size=97, context_length=16, d_model=32, n_heads=4, n_layers=2, dropout=0.0)


def atencao_manual(att: MultiHeadAttention, x: torch.Tensor) -> torch.Tensor:
    """A conta da atenção causal escrita por extenso, com os pesos da versão eficiente."""
    b, n, _ = x.shape
    q, k, v = att.qkv(x).view(b, n, 3, att.num_heads, att.head_dim).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-2, -1) / att.head_dim**0.5
    scores = scores.masked_fill(torch.triu(torch.ones(n, n, dtype=torch.bool), 1), float("-inf"))
    out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, n, -1)
    return att.out_proj(out)


def test_sdpa_igual_a_conta_manual():
    torch.manual_seed(0)
    att = MultiHeadAttention(48, 48, num_heads=6).eval()
    x = torch.randn(3, 20, 48)
    assert torch.allclose(att(x), atencao_manual(att, x), atol=1e-5)


def test_nenhuma_posicao_ve_o_futuro():
    torch.manual_seed(0)
    att = MultiHeadAttention(16, 16, num_heads=2).eval()
    x = torch.randn(1, 9, 16, requires_grad=True)
    saida = att(x)
    for t in range(9):
        (g,) = torch.autograd.grad(saida[0, t].sum(), x, retain_graph=True)
        assert torch.count_nonzero(g[0, t + 1:]) == 0
        assert g[0, : t + 1].abs().sum() > 0


def test_modelo_inteiro_causal():
    torch.manual_seed(0)
    modelo = GPTMini(PEQUENO).eval()
    idx = torch.randint(0, 97, (1, 12))
    outro = idx.clone()
    outro[0, 8:] = (outro[0, 8:] + 1) % 97  # muda só o futuro da posição 7
    assert torch.equal(modelo(idx)[0, :8], modelo(outro)[0, :8])


def test_atencao_com_cache_igual_sem_cache():
    torch.manual_seed(0)
    att = MultiHeadAttention(32, 32, num_heads=4).eval()
    x = torch.randn(2, 10, 32)
    cache = KVCache(max_length=10)
    partes = [att(x[:, :4], cache)] + [att(x[:, t:t + 1], cache) for t in range(4, 8)] + [att(x[:, 8:], cache)]
    assert torch.allclose(torch.cat(partes, dim=1), att(x), atol=1e-5)
    assert len(cache) == 10


@pytest.mark.parametrize("n_novos", [5, 40])  # 40 passa do contexto de 16
def test_geracao_com_e_sem_cache_identicas(n_novos):
    torch.manual_seed(1)
    modelo = GPTMini(PEQUENO)
    idx = torch.randint(0, 97, (2, 5))
    com = generate(modelo, idx, n_novos, use_cache=True)
    sem = generate(modelo, idx, n_novos, use_cache=False)
    assert com.shape == (2, 5 + n_novos)
    assert torch.equal(com, sem)
    gerador = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    amostrado_com = generate(modelo, idx, n_novos, temperature=1.0, top_k=20, generator=gerador())
    amostrado_sem = generate(modelo, idx, n_novos, temperature=1.0, top_k=20, use_cache=False, generator=gerador())
    assert torch.equal(amostrado_com, amostrado_sem)


def test_prompt_maior_que_o_contexto_e_cortado():
    torch.manual_seed(2)
    modelo = GPTMini(PEQUENO)
    longo = torch.randint(0, 97, (1, 40))
    saida = generate(modelo, longo, 3)
    assert torch.equal(saida[:, :16], longo[:, -16:]) and saida.shape == (1, 19)
    with pytest.raises(ValueError, match="contexto"):
        modelo(longo)


def test_top_k_e_top_p_nunca_escolhem_fora_do_conjunto_permitido():
    torch.manual_seed(0)
    logits = torch.randn(4, 50) * 3
    gerador = torch.Generator().manual_seed(0)
    topk_permitidos = torch.topk(logits, 5).indices
    probs = F.softmax(logits, dim=-1)
    ordem = torch.argsort(probs, dim=-1, descending=True)
    acumulada = torch.cumsum(torch.gather(probs, -1, ordem), dim=-1)
    for _ in range(300):
        escolha = sample_next_token(logits, temperature=1.0, top_k=5, generator=gerador)
        assert all(escolha[i, 0] in topk_permitidos[i] for i in range(4))
        escolha = sample_next_token(logits, temperature=1.0, top_p=0.6, generator=gerador)
        for i in range(4):
            n_nucleo = int((acumulada[i] < 0.6).sum()) + 1  # o menor conjunto que chega a 0,6
            assert escolha[i, 0] in ordem[i, :n_nucleo]
    assert torch.equal(sample_next_token(logits), logits.argmax(-1, keepdim=True))


def test_para_no_eos_e_completa_o_lote_com_eos():
    torch.manual_seed(0)
    modelo = GPTMini(PEQUENO)
    idx = torch.randint(0, 97, (1, 4))
    livre = generate(modelo, idx, 10)
    eos = int(livre[0, 6])  # o terceiro token gerado vira o "fim de texto"
    parado = generate(modelo, idx, 10, eos_id=eos)
    assert parado[0, -1] == eos and parado.shape[1] <= 7


def test_checkpoint_ida_e_volta(tmp_path):
    torch.manual_seed(0)
    modelo = GPTMini(PEQUENO).eval()
    save_checkpoint(modelo, tmp_path / "m.pt", passo=7)
    carregado = load_checkpoint(tmp_path / "m.pt")
    idx = torch.randint(0, 97, (2, 8))
    assert carregado.config == PEQUENO
    assert torch.equal(modelo(idx), carregado(idx))
    assert torch.load(tmp_path / "m.pt", weights_only=True)["passo"] == 7


def test_pesos_amarrados_e_presets():
    modelo = GPTMini(PRESETS["cpu"])
    assert modelo.out_head.weight is modelo.tok_emb.weight
    assert 3_000_000 < modelo.num_parameters() < 6_000_000


@pytest.mark.parametrize("kwargs, trecho", [
    ({"top_k": 0}, "top_k"), ({"top_k": 2.5}, "top_k"), ({"top_p": 0}, "top_p"), ({"top_p": 1.5}, "top_p"),
    ({"temperature": -0.5}, "temperature"), ({"temperature": "quente"}, "temperature"),
])
def test_amostragem_invalida_da_erro_claro(kwargs, trecho):
    modelo = GPTMini(PEQUENO)
    with pytest.raises(ValueError, match=trecho):
        generate(modelo, torch.tensor([[1, 2, 3]]), 2, **{"temperature": 1.0, **kwargs})


def test_prompt_invalido_da_erro_claro():
    modelo = GPTMini(PEQUENO)
    with pytest.raises(ValueError, match="vazio"):
        generate(modelo, torch.zeros(1, 0, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="fora do vocabulário"):
        generate(modelo, torch.tensor([[1, PEQUENO.vocab_size]]), 2)
    with pytest.raises(ValueError, match="fora do vocabulário"):
        generate(modelo, torch.tensor([[-1, 2]]), 2)
    with pytest.raises(TypeError, match="torch.long"):
        generate(modelo, [[1, 2, 3]], 2)
    with pytest.raises(TypeError, match="torch.long"):
        generate(modelo, torch.tensor([1, 2, 3]), 2)


def test_prompt_maior_que_o_contexto_e_cortado_pela_esquerda():
    torch.manual_seed(0)
    modelo = GPTMini(PEQUENO)
    longo = torch.randint(PEQUENO.vocab_size, (1, 3 * PEQUENO.context_length))
    saida = generate(modelo, longo, 4)
    cortado = generate(modelo, longo[:, -PEQUENO.context_length:], 4)
    assert torch.equal(saida, cortado)


def test_geracao_devolve_o_modo_de_treino():
    modelo = GPTMini(PEQUENO).train()
    generate(modelo, torch.tensor([[1, 2]]), 2)
    assert modelo.training
    modelo.eval()
    generate(modelo, torch.tensor([[1, 2]]), 2)
    assert not modelo.training


def test_arquivo_que_nao_e_checkpoint_da_erro_claro(tmp_path):
    texto = tmp_path / "notas.txt"
    texto.write_text("isto não é um checkpoint", encoding="utf-8")
    with pytest.raises(ValueError, match="não é um checkpoint do GPTMini"):
        load_checkpoint(texto)
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.ones(3), tensor)
    with pytest.raises(ValueError, match="não é um checkpoint do GPTMini"):
        load_checkpoint(tensor)
    with pytest.raises(FileNotFoundError, match="não encontrado"):
        load_checkpoint(tmp_path / "sumido.pt")


def gerar_um_por_vez(modelo, prompts, n_novos, eos_id=None):
    saidas = []
    for p in prompts:
        inicio = min(len(p), modelo.config.context_length)
        novos = generate(modelo, torch.tensor([p]), n_novos, eos_id=eos_id)[0, inicio:].tolist()
        saidas.append(novos[: novos.index(eos_id)] if eos_id in novos else novos)
    return saidas


def test_geracao_em_lote_igual_a_um_por_vez():
    """Prompts de 1 a 24 tokens (o contexto é 16): enchimento, posições por linha, cache e janela."""
    torch.manual_seed(0)
    modelo = GPTMini(PEQUENO)
    gerador = torch.Generator().manual_seed(1)
    prompts = [torch.randint(PEQUENO.vocab_size, (n,), generator=gerador).tolist() for n in (1, 3, 7, 16, 24, 5)]
    sozinhos = gerar_um_por_vez(modelo, prompts, 20)
    assert generate_batch(modelo, prompts, 20) == sozinhos
    # um token que a linha i gera pela primeira vez no passo k: ela para ali, e as outras seguem
    i, k = next((i, k) for i, linha in enumerate(sozinhos) for k in range(1, len(linha)) if linha[k] not in linha[:k])
    com_fim = gerar_um_por_vez(modelo, prompts, 20, eos_id=sozinhos[i][k])
    em_lote = generate_batch(modelo, prompts, 20, eos_id=sozinhos[i][k])
    assert em_lote == com_fim and len(em_lote[i]) == k and any(len(linha) == 20 for linha in em_lote)


def test_geracao_em_lote_recusa_entrada_errada():
    modelo = GPTMini(PEQUENO)
    with pytest.raises(TypeError, match="lista"):
        generate_batch(modelo, [], 4)
    with pytest.raises(TypeError, match="ids inteiros"):
        generate_batch(modelo, [[1, 2], []], 4)
    with pytest.raises(ValueError, match="fora do vocabulário"):
        generate_batch(modelo, [[1, PEQUENO.vocab_size]], 4)
    with pytest.raises(ValueError, match="top_k"):
        generate_batch(modelo, [[1, 2]], 4, temperature=1.0, top_k=0)


def test_guarda_contra_lacos_nao_repete_ngramas():
    torch.manual_seed(0)
    modelo = GPTMini(PEQUENO)
    gerador = torch.Generator().manual_seed(2)
    prompts = [torch.randint(PEQUENO.vocab_size, (n,), generator=gerador).tolist() for n in (2, 6, 11)]
    livres = generate_batch(modelo, prompts, 40)

    def repetidos(linha, n):
        ngramas = [tuple(linha[k:k + n]) for k in range(len(linha) - n + 1)]
        return len(ngramas) - len(set(ngramas))

    # um modelo sem treino, guloso, entra em laço; com a guarda, nenhum n-grama gerado se repete
    assert any(repetidos(linha, 3) for linha in livres)
    for n in (2, 3):
        guardados = generate_batch(modelo, prompts, 40, no_repeat_ngram=n)
        assert all(len(linha) == 40 and repetidos(linha, n) == 0 for linha in guardados)
    with pytest.raises(ValueError, match="no_repeat_ngram"):
        generate_batch(modelo, prompts, 4, no_repeat_ngram=1)
