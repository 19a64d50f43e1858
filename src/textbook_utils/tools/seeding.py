"""Seeds: where every random draw of training starts, and one switch that moves them all.

Every chapter that trains calls :func:`seed_everything` first, so that its
printed numbers are repeatable on the machine that runs it. But a number that
depends on *which* random draw training got — an accuracy, a loss — is not a
fact about the network; it is one sample. A claim such as "over 96% of the
test images" must hold for other seeds too, and the test suite checks that it
does:

    TEXTBOOK_SEED_OFFSET=1 python -m pytest book

adds 1 to every training seed: the seed given to :func:`seed_everything`
(hence every PyTorch model's initial weights and dropout masks) and the seed
that orders the mini-batches of every training loop that calls
:func:`training_seed` (``training.fit``, ``scratch.Network.SGD``, the GPT's
``train``). Seeds that fix *data* or an illustrative example — a noise image,
the random network drawn in chapter 1 — are not shifted, so what they print
stays exactly comparable. CI runs every chapter both ways (CONTRIBUTING.md).

This module does not import PyTorch until :func:`seed_everything` is called,
so NumPy-only code can use :func:`training_seed` without paying for it.
"""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["SEED_OFFSET_ENV", "seed_everything", "seed_offset", "training_seed"]

SEED_OFFSET_ENV = "TEXTBOOK_SEED_OFFSET"


def seed_offset() -> int:
    """The shift ``$TEXTBOOK_SEED_OFFSET`` asks for (0 when it is unset or empty)."""
    value = os.environ.get(SEED_OFFSET_ENV, "").strip()
    if not value:
        return 0
    try:
        offset = int(value)
    except ValueError:
        raise ValueError(f"${SEED_OFFSET_ENV} must be a whole number such as 1, got {value!r}") from None
    if offset < 0:
        raise ValueError(f"${SEED_OFFSET_ENV} must be 0 or more, got {offset}")
    return offset


def training_seed(seed: int | None) -> int | None:
    """``seed`` shifted by :func:`seed_offset`: the seed a training loop actually uses.

    ``None`` (fresh, unrepeatable randomness) stays ``None``.
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return (int(seed) + seed_offset()) % 2**32


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (all devices).

    The seed used is :func:`training_seed` of ``seed``. With
    ``deterministic=True`` PyTorch is also told to use deterministic kernels
    only (slower on GPUs; some operations then raise instead of running).
    """
    import torch

    seed = training_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
