"""A tiny recurrent network, unrolled in time, and the binary-addition task it learns.

Used by the chapter "Fundamentals" (``book/orientation/04_fundamentals.ipynb``),
section "Feedforward and recurrent networks". The network reads a sequence one
step at a time and carries a hidden state h from step to step:

    z_t = W_xh x_t + W_hh h_{t-1} + b_h        h_t = tanh(z_t)
    y_t = W_hy h_t + b_y                       (a logit per output; sigmoid gives a probability)

The same weights are used at every step. :meth:`TinyRNN.forward` is a plain
Python loop over t, so the computation graph that autograd records *is* the
network unrolled in time, and ``loss.backward()`` on it is backpropagation
through time (BPTT). LSTMs are trained the same way.

The task: add two binary numbers, fed least significant bit first, one bit of
each per step. To output the sum bit at step t the network must remember the
carry from step t-1 — something a feedforward network looking at one step
alone cannot do.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


__all__ = ["TinyRNN", "binary_addition_data", "bits_to_ints", "ints_to_bits"]


class TinyRNN(nn.Module):
    """An Elman recurrent network: one tanh hidden layer fed back into itself.

    ``n_in`` inputs and ``n_out`` outputs per step, ``n_hidden`` hidden units.
    Parameters: ``W_xh (n_hidden, n_in)``, ``W_hh (n_hidden, n_hidden)``,
    ``b_h (n_hidden,)``, ``W_hy (n_out, n_hidden)``, ``b_y (n_out,)``.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int):
        super().__init__()
        self.n_in, self.n_hidden, self.n_out = n_in, n_hidden, n_out
        scale = 1.0 / np.sqrt(n_hidden)
        self.W_xh = nn.Parameter(torch.empty(n_hidden, n_in).uniform_(-scale, scale))
        self.W_hh = nn.Parameter(torch.empty(n_hidden, n_hidden).uniform_(-scale, scale))
        self.b_h = nn.Parameter(torch.zeros(n_hidden))
        self.W_hy = nn.Parameter(torch.empty(n_out, n_hidden).uniform_(-scale, scale))
        self.b_y = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """Run the sequence ``x`` of shape ``(batch, T, n_in)``.

        Returns ``(logits, hidden)``: the outputs ``(batch, T, n_out)`` before
        any sigmoid, and the hidden states ``(batch, T, n_hidden)``.
        """
        batch, T, _ = x.shape
        h = x.new_zeros(batch, self.n_hidden) if h0 is None else h0  # (batch, n_hidden)
        hidden, logits = [], []
        for t in range(T):  # the unrolled loop: one copy of the network per time step
            z = x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h  # (batch, n_hidden)
            h = torch.tanh(z)
            hidden.append(h)
            logits.append(h @ self.W_hy.T + self.b_y)  # (batch, n_out)
        return torch.stack(logits, dim=1), torch.stack(hidden, dim=1)


def ints_to_bits(values, n_bits: int) -> np.ndarray:
    """Non-negative integers ``(n,)`` as bits ``(n, n_bits)``, least significant bit first."""
    values = np.asarray(values)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"values must be a 1-D array of integers, got shape {values.shape} dtype {values.dtype}")
    if values.size and (values.min() < 0 or values.max() >= 2**n_bits):
        raise ValueError(f"values must be in [0, 2**{n_bits}), got range [{values.min()}, {values.max()}]")
    return ((values[:, None] >> np.arange(n_bits)) & 1).astype(np.int64)


def bits_to_ints(bits) -> np.ndarray:
    """Bits ``(n, n_bits)``, least significant first, back to integers ``(n,)``."""
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise ValueError(f"bits must have shape (n, n_bits), got {bits.shape}")
    if not np.isin(bits, (0, 1)).all():
        raise ValueError("bits must hold only 0 and 1")
    return (bits.astype(np.int64) << np.arange(bits.shape[1])).sum(axis=1)


def binary_addition_data(n: int, n_bits: int, *, seed: int = 0):
    """``n`` random sums a + b = c of ``n_bits``-bit numbers, as sequences for :class:`TinyRNN`.

    a and b are drawn uniformly from ``[0, 2**(n_bits - 1))`` so that c fits in
    ``n_bits`` bits. Returns ``(x, y, a, b)``: ``x`` float32 ``(n, n_bits, 2)``
    holds the bits of a and b, least significant first; ``y`` float32
    ``(n, n_bits, 1)`` the bits of c; ``a`` and ``b`` the integers ``(n,)``.
    """
    if n_bits < 2 or n_bits > 62:
        raise ValueError(f"n_bits must be between 2 and 62, got {n_bits}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2 ** (n_bits - 1), size=n)
    b = rng.integers(0, 2 ** (n_bits - 1), size=n)
    x = np.stack([ints_to_bits(a, n_bits), ints_to_bits(b, n_bits)], axis=2)  # (n, n_bits, 2)
    y = ints_to_bits(a + b, n_bits)[:, :, None]  # (n, n_bits, 1)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32), a, b
