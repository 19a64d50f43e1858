"""Packing many directions into few dimensions (chapter 7, "How might MLPs store facts?").

Video 7 pushes vectors toward perpendicular by optimisation and claims that
far more than ``d`` of them fit in ``d`` dimensions at nearly 90° to each
other. This module holds the three pieces the chapter measures that claim
with: random unit vectors, vectors *optimised* so that no pair is far from
perpendicular, and the Welch bound, which says how close to perpendicular
``m`` unit vectors in ``d`` dimensions can possibly be.

Notation: ``U`` is an ``(m, d)`` matrix of unit rows, ``U @ U.T`` their
cosines; "coherence" is the largest ``|cos|`` over distinct pairs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from textbook_utils.tools.seeding import training_seed

__all__ = [
    "coherence",
    "pack_directions",
    "random_directions",
    "random_run_length",
    "welch_bound",
]


def welch_bound(m: int, d: int) -> float:
    """Welch (1974): ``m > d`` unit vectors in ``d`` dimensions have some pair with
    ``|cos| >= sqrt((m - d) / (d (m - 1)))``.

    It bounds the *mean* squared cosine over distinct pairs, so the largest
    one too; a tight frame reaches it on the mean.
    """
    return math.sqrt((m - d) / (d * (m - 1)))


def pair_cosines(U: torch.Tensor) -> torch.Tensor:
    """The cosines of the ``m (m - 1) / 2`` distinct pairs of unit rows of ``U``."""
    m = U.shape[0]
    i, j = torch.triu_indices(m, m, offset=1)
    return (U @ U.T)[i, j]                          # (m (m - 1) / 2,)


def coherence(U: torch.Tensor) -> float:
    """The largest ``|cos|`` between two distinct unit rows of ``U``."""
    return pair_cosines(U).abs().max().item()


def random_directions(m: int, d: int, seed: int = 0) -> torch.Tensor:
    """``m`` random unit vectors in ``d`` dimensions: the rows of an ``(m, d)`` tensor."""
    g = torch.Generator().manual_seed(seed)
    V = torch.randn(m, d, generator=g)              # (m, d)
    return V / V.norm(dim=1, keepdim=True)


def pack_directions(m: int, d: int, steps: int = 500, lr: float = 0.03,
                    seed: int = 0) -> torch.Tensor:
    """``m`` unit vectors in ``d`` dimensions pushed toward perpendicular.

    Starts from :func:`random_directions` (its seed shifted by
    ``$TEXTBOOK_SEED_OFFSET``, like every training seed) and runs Adam on a
    soft maximum of the pairs' ``|cos|`` (a log-sum-exp whose sharpness grows
    from 10 to 50), so every step pushes hardest on the pairs furthest from
    90°.
    """
    V = random_directions(m, d, training_seed(seed)).requires_grad_()
    opt = torch.optim.Adam([V], lr=lr)
    for step in range(steps):
        U = V / V.norm(dim=1, keepdim=True)         # (m, d): unit rows
        c = pair_cosines(U).abs()
        sharpness = 10 + 40 * step / steps
        loss = torch.logsumexp(sharpness * c, 0) / sharpness  # ~ max |cos|
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return V / V.norm(dim=1, keepdim=True)


def random_run_length(d: int, degrees: float, trials: int = 200,
                      seed: int = 0, limit: int = 10_000) -> np.ndarray:
    """How many random unit vectors in ``d`` dimensions can be drawn, one after
    another, before some pair is more than ``degrees`` from perpendicular.

    One count per trial (at most ``limit``): the number drawn *before* the
    first vector that breaks the window.
    """
    eps = math.sin(math.radians(degrees))           # |cos| allowed
    rng = np.random.default_rng(seed)
    counts = np.empty(trials, dtype=int)
    for t in range(trials):
        kept = np.empty((0, d))
        while len(kept) < limit:
            v = rng.standard_normal(d)
            v /= np.linalg.norm(v)
            if np.any(np.abs(kept @ v) > eps):
                break
            kept = np.vstack([kept, v])
        counts[t] = len(kept)
    return counts
