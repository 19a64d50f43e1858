"""Checks for the boundaries a reader touches: constructors, loaders, training entry points.

The book validates what a reader passes in — sizes, learning rates, paths —
*before* any long work starts, and says what was wrong and what was expected.
Inside the math it does not check at all (see CONTRIBUTING.md, "Guards where
readers err"). These few functions are the vocabulary of those checks, so that
every boundary says the same thing the same way.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["finite_array", "fraction", "non_negative_int", "positive_int", "positive_number"]


def positive_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is a whole number >= 1; otherwise a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is a whole number >= 0 (a count of steps or tokens)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def fraction(value, name: str) -> float:
    """``value`` as a ``float`` if it is in [0, 1) (a momentum, a decay rate)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def positive_number(value, name: str) -> float:
    """``value`` as a ``float`` if it is a finite number > 0 (a learning rate, a step size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def finite_array(X, name: str) -> np.ndarray:
    """``X`` as a NumPy array if every entry is a finite number (no NaN, no infinity)."""
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    if not np.all(np.isfinite(X)):
        bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        raise ValueError(f"{name} has {bad} entries that are NaN or infinite; expected finite numbers")
    return X
