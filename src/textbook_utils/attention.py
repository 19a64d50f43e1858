"""Causal self-attention, written out one step at a time.

Used in chapter "Attention in transformers" (``book/3b1b/06_attention.ipynb``)
and inside the character-level GPT of chapter "GPT: what a transformer does"
(``book/3b1b/05_gpt.ipynb``, :mod:`textbook_utils.gpt`).

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
import torch.nn.functional as F
from torch import nn

__all__ = ["MultiHeadAttention", "SingleHeadAttention", "attention", "causal_mask"]


def causal_mask(T: int, device=None) -> torch.Tensor:
    """``(T, T)`` boolean mask, True where query i may look at key j (j <= i)."""
    _check_sizes(T=T)
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, *, causal: bool = True):
    """Scaled dot-product attention written out; returns ``(out, A)``.

    ``Q`` and ``K`` have shape ``(..., T, d_k)``, ``V`` has ``(..., T, d_v)``;
    any leading dimensions (batch, heads) are carried along. ``A`` is the
    attention pattern ``(..., T, T)`` (row = query, column = key) and ``out``
    is ``A @ V``, shape ``(..., T, d_v)``.
    """
    for name, X in (("Q", Q), ("K", K), ("V", V)):
        if not isinstance(X, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
        if X.ndim < 2:
            raise ValueError(f"{name} must have shape (..., T, d), got {tuple(X.shape)}")
        if not X.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {X.dtype}")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"queries and keys need the same d_k, got {Q.shape[-1]} and {K.shape[-1]}")
    if K.shape[:-1] != V.shape[:-1]:
        raise ValueError(f"K {tuple(K.shape)} and V {tuple(V.shape)} must agree except in the last dim")
    if causal and Q.shape[-2] != K.shape[-2]:
        raise ValueError("a causal mask needs as many queries as keys (self-attention)")
    d_k = Q.shape[-1]
    scores = Q @ K.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if causal:
        mask = causal_mask(Q.shape[-2], device=Q.device)
        scores = scores.masked_fill(~mask, float("-inf"))  # before the softmax
    A = torch.softmax(scores, dim=-1)  # (..., T_q, T_k), rows sum to 1
    return A @ V, A  # (..., T_q, d_v)


def _check_sizes(**sizes):
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_x(x: torch.Tensor, d_model: int):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 3 or x.shape[-1] != d_model:
        raise ValueError(f"x must have shape (batch, T, {d_model}), got {tuple(x.shape)}")


class SingleHeadAttention(nn.Module):
    """One head: W_Q, W_K (d_model -> d_head) and a value map W_V (d_model -> d_model).

    3Blue1Brown's value map goes from the embedding space back to itself; its
    low-rank form is ``value_up @ value_down`` (``d_model x d_head`` times
    ``d_head x d_model``), which is how it is stored here.
    """

    def __init__(self, d_model: int, d_head: int):
        super().__init__()
        _check_sizes(d_model=d_model, d_head=d_head)
        self.d_model, self.d_head = d_model, d_head
        self.W_Q = nn.Linear(d_model, d_head, bias=False)
        self.W_K = nn.Linear(d_model, d_head, bias=False)
        self.value_down = nn.Linear(d_model, d_head, bias=False)  # weight (d_head, d_model)
        self.value_up = nn.Linear(d_head, d_model, bias=False)  # weight (d_model, d_head)

    def forward(self, x: torch.Tensor, *, causal: bool = True):
        """``x`` is ``(batch, T, d_model)``; returns ``(delta_x, A)``: the update and the pattern."""
        _check_x(x, self.d_model)
        Q, K = self.W_Q(x), self.W_K(x)  # (batch, T, d_head)
        V = self.value_down(x)  # (batch, T, d_head)
        out, A = attention(Q, K, V, causal=causal)  # (batch, T, d_head), (batch, T, T)
        return self.value_up(out), A  # (batch, T, d_model)


class MultiHeadAttention(nn.Module):
    """``n_head`` heads side by side, as in GPT: one (d, 3d) map makes Q, K, V.

    ``fused=False`` runs the written-out :func:`attention`; ``fused=True``
    calls PyTorch's ``scaled_dot_product_attention`` (same numbers, faster,
    no pattern returned). The heads' outputs are concatenated and mixed by the
    output projection ``W_O`` (3Blue1Brown's value-up maps, stacked).
    """

    def __init__(self, d_model: int, n_head: int, *, bias: bool = False, fused: bool = True):
        super().__init__()
        _check_sizes(d_model=d_model, n_head=n_head)
        if d_model % n_head:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_head ({n_head})")
        self.d_model, self.n_head, self.d_head = d_model, n_head, d_model // n_head
        self.fused = bool(fused)
        self.W_QKV = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.W_O = nn.Linear(d_model, d_model, bias=bias)

    def heads(self, x: torch.Tensor):
        """Q, K, V for every head, each ``(batch, n_head, T, d_head)``."""
        B, T, _ = x.shape
        qkv = self.W_QKV(x)  # (B, T, 3 d_model)
        qkv = qkv.view(B, T, 3, self.n_head, self.d_head).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def forward(self, x: torch.Tensor, *, return_pattern: bool = False):
        """``x`` is ``(batch, T, d_model)``; returns the update, and ``A`` if asked.

        ``A`` has shape ``(batch, n_head, T, T)``; asking for it always uses
        the written-out path.
        """
        _check_x(x, self.d_model)
        B, T, _ = x.shape
        Q, K, V = self.heads(x)  # (B, H, T, d_head) each
        A = None
        if self.fused and not return_pattern:
            out = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
        else:
            out, A = attention(Q, K, V, causal=True)
        out = out.transpose(1, 2).reshape(B, T, self.d_model)  # concatenate heads
        out = self.W_O(out)  # (B, T, d_model)
        return (out, A) if return_pattern else out
