"""Position vectors: the original transformer's sinusoids against the book's learned W_P.

Chapter 5 ("GPT", ``book/3b1b/05_gpt.ipynb``) builds the sinusoidal position
encoding of Vaswani et al. (2017, §3.5) and compares it with the rows of the
trained GPT's ``W_P`` (n positions x d components), with two measurements:

- :func:`offset_share`: how much of the cosine-similarity matrix between
  positions depends only on their offset |i - j| (1 for sinusoids, whose dot
  products are sums of cos(w (i - j)); near 0 for random vectors);
- :func:`position_spectrum`: how each column's variation *along the
  positions* splits over frequencies, by a discrete Fourier transform.
"""

from __future__ import annotations

import torch

__all__ = ["cosine_matrix", "offset_share", "position_spectrum", "sinusoidal"]


def sinusoidal(n_positions: int, d: int,
               base: float = 10_000.0) -> torch.Tensor:
    """The (n_positions, d) encoding of Vaswani et al.: components 2i and
    2i + 1 of position p are sin and cos of p / base^(2i / d), one frequency
    per pair, from 1 radian per position down to about 1 / base."""
    p = torch.arange(n_positions, dtype=torch.float64)[:, None]   # (n, 1)
    w = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    PE = torch.zeros(n_positions, d, dtype=torch.float64)
    PE[:, 0::2] = torch.sin(p * w)
    PE[:, 1::2] = torch.cos(p * w)
    return PE.float()


def cosine_matrix(M: torch.Tensor) -> torch.Tensor:
    """Cosines between the rows of M (n, d): (n, n)."""
    U = M / M.norm(dim=1, keepdim=True)
    return U @ U.T


def offset_share(C: torch.Tensor) -> float:
    """Share of the variance of C's off-diagonal entries (n, n) explained by
    the offset |i - j| alone: 1 - residual / total, where each entry is
    predicted by the mean of its diagonal."""
    n = C.shape[0]
    gap = (torch.arange(n)[:, None] - torch.arange(n)[None, :]).abs()
    by_offset = torch.zeros_like(C)
    for g in range(1, n):
        by_offset[gap == g] = C[gap == g].mean()
    off = gap > 0
    residual = ((C - by_offset)[off] ** 2).sum()
    total = ((C[off] - C[off].mean()) ** 2).sum()
    return (1 - residual / total).item()


def position_spectrum(M: torch.Tensor) -> torch.Tensor:
    """Share of M's variation along the positions at each frequency, k = 0 ..
    n // 2 cycles per n positions, summed over the columns: (n // 2 + 1,),
    adding up to 1 (k = 0 is 0: each column's mean is removed)."""
    X = torch.fft.rfft(M - M.mean(0), dim=0)          # (n // 2 + 1, d)
    power = (X.abs() ** 2).sum(1)
    return power / power.sum()
