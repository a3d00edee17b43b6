"""Capítulo 03: Atenção, passo a passo.

Gerado de 03-atencao/notebook.ipynb por ferramentas/sincronizar.py: edite o notebook, não este arquivo.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    """Atenção causal multi-cabeça com F.scaled_dot_product_attention (a versão do GPTMini)."""

    def __init__(self, d_in: int, d_out: int, num_heads: int, dropout: float = 0.0, qkv_bias: bool = False):
        super().__init__()
        if d_out % num_heads:
            raise ValueError(f"d_out ({d_out}) precisa ser múltiplo de num_heads ({num_heads})")
        self.num_heads, self.head_dim, self.dropout = num_heads, d_out // num_heads, dropout
        self.qkv = nn.Linear(d_in, 3 * d_out, bias=qkv_bias)  # Q, K e V numa multiplicação só
        self.out_proj = nn.Linear(d_out, d_out)

    def forward(self, x: torch.Tensor, kv_cache=None) -> torch.Tensor:
        b, n, _ = x.shape
        # (b, n, 3 * d_out) -> 3 tensores (b, cabeças, n, head_dim)
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if kv_cache is not None:  # geração (capítulo 04): junta K e V dos tokens anteriores
            k, v = kv_cache.update(k, v)
        n_keys = k.shape[2]
        mask = None
        if n > 1 and n != n_keys:  # vários tokens novos depois de um cache: máscara causal deslocada
            mask = torch.ones(n, n_keys, dtype=torch.bool, device=x.device).tril(n_keys - n)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None and n > 1,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, -1))
