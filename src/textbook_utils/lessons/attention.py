"""Causal self-attention, written out one step at a time.

Used in chapter "Attention in transformers" (``book/3b1b/06_attention.ipynb``)
and inside the character-level GPT of chapter "GPT: what a transformer does"
(``book/3b1b/05_gpt.ipynb``, :mod:`textbook_utils.lessons.gpt`), which draws its
attention patterns with :func:`attention`.

The formula (Vaswani et al. 2017, arXiv:1706.03762) with a causal mask:

    A = softmax(Q K^T / sqrt(d_k) + M)      # M = -inf above the diagonal
    out = A V

Rows of ``A`` belong to queries (the position that is updated) and columns to
keys (the positions it looks at); each row sums to 1. 3Blue1Brown draws the
transpose, keys as rows, so his softmax runs down columns: the same numbers.
The mask is applied *before* the softmax: an entry of -inf becomes exactly 0
and the row still sums to 1, which setting entries to 0 afterwards would break.
"""

from __future__ import annotations

import math

import torch
from torch import nn


__all__ = ["SingleHeadAttention", "attention", "causal_mask"]


def causal_mask(T: int, device=None) -> torch.Tensor:
    """``(T, T)`` boolean mask, True where query i may look at key j (j <= i)."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, *, causal: bool = True):
    """Scaled dot-product attention written out; returns ``(out, A)``.

    ``Q`` and ``K`` have shape ``(..., T, d_k)``, ``V`` has ``(..., T, d_v)``;
    any leading dimensions (batch, heads) are carried along. ``A`` is the
    attention pattern ``(..., T, T)`` (row = query, column = key) and ``out``
    is ``A @ V``, shape ``(..., T, d_v)``.
    """
    assert Q.shape[-1] == K.shape[-1], "queries and keys need the same d_k"
    d_k = Q.shape[-1]
    scores = Q @ K.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if causal:
        mask = causal_mask(Q.shape[-2], device=Q.device)
        scores = scores.masked_fill(~mask, float("-inf"))  # before the softmax
    A = torch.softmax(scores, dim=-1)  # (..., T_q, T_k), rows sum to 1
    return A @ V, A  # (..., T_q, d_v)


class SingleHeadAttention(nn.Module):
    """One head: W_Q, W_K (d_model -> d_head) and a value map W_V (d_model -> d_model).

    3Blue1Brown's value map goes from the embedding space back to itself; its
    low-rank form is ``value_up @ value_down`` (``d_model x d_head`` times
    ``d_head x d_model``), which is how it is stored here. The GPT's heads,
    all of a block's side by side, are :class:`textbook_utils.lessons.gpt.CausalSelfAttention`.
    """

    def __init__(self, d_model: int, d_head: int):
        super().__init__()
        self.d_model, self.d_head = d_model, d_head
        self.W_Q = nn.Linear(d_model, d_head, bias=False)
        self.W_K = nn.Linear(d_model, d_head, bias=False)
        self.value_down = nn.Linear(d_model, d_head, bias=False)  # weight (d_head, d_model)
        self.value_up = nn.Linear(d_head, d_model, bias=False)  # weight (d_model, d_head)

    def forward(self, x: torch.Tensor, *, causal: bool = True):
        """``x`` is ``(batch, T, d_model)``; returns ``(delta_x, A)``: the update and the pattern."""
        Q, K = self.W_Q(x), self.W_K(x)  # (batch, T, d_head)
        V = self.value_down(x)  # (batch, T, d_head)
        out, A = attention(Q, K, V, causal=causal)  # (batch, T, d_head), (batch, T, T)
        return self.value_up(out), A  # (batch, T, d_model)
