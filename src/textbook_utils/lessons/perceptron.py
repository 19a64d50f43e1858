"""Perceptrons, and circuits of NAND perceptrons that add binary numbers.

Chapter "Perceptrons and sigmoid neurons" (``book/nielsen/01_perceptrons_and_sigmoid_neurons.ipynb``),
after Nielsen, *Neural Networks and Deep Learning*, chapter 1.

A perceptron with weights w and bias b outputs (Nielsen's eq. 2)

    output = 1  if w . x + b > 0,
    output = 0  if w . x + b <= 0,

where w . x = sum_j w_j x_j. The inequality is **strict**: a weighted input of
exactly 0 gives 0. With weights (-2, -2) and bias 3 a perceptron is a NAND
gate, and since every logical function can be built from NAND gates, so can
every circuit — including one that adds numbers written in binary.
"""

from __future__ import annotations

import numpy as np


__all__ = [
    "NAND_BIAS",
    "NAND_WEIGHTS",
    "add_binary",
    "full_adder",
    "half_adder",
    "nand",
    "perceptron",
    "step",
]

NAND_WEIGHTS = (-2.0, -2.0)
NAND_BIAS = 3.0


def step(z):
    """The perceptron's activation: 1 where z > 0, else 0 (elementwise, as ints).

    A scalar ``z`` gives a Python ``int``; an array gives an ``int64`` array of the same shape.
    """
    out = (np.asarray(z) > 0).astype(np.int64)
    return int(out) if out.ndim == 0 else out


def perceptron(x, w, b):
    """The output of one perceptron: 1 if w . x + b > 0, else 0.

    ``w`` holds the n weights ``(n,)`` and ``b`` is one number. ``x`` is one
    input ``(n,)`` (returns an ``int``) or a batch of inputs as rows ``(B, n)``
    (returns ``(B,)`` ints). Inputs may be any real numbers, not only bits.
    """
    x, w = np.asarray(x), np.asarray(w)
    if np.ndim(b) != 0:  # a vector b would broadcast into one output per entry
        raise TypeError(f"b (the bias) must be one number, got {b!r}")
    if w.ndim != 1 or x.ndim not in (1, 2) or x.shape[-1] != w.size:
        raise ValueError(f"x has shape {x.shape} and w {w.shape}; expected w (n,) "
                         f"and x (n,) for one input or (B, n) for B inputs as rows")
    z = x @ w + b  # (B, n) @ (n,) -> (B,), or a scalar for one input
    return step(z)


def _bit(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value not in (0, 1):
        raise ValueError(f"{name} must be the bit 0 or 1, got {value!r}")
    return int(value)


def nand(x1, x2) -> int:
    """NAND of two bits, computed by the perceptron with weights (-2, -2) and bias 3."""
    x = (_bit(x1, "x1"), _bit(x2, "x2"))
    return perceptron(x, NAND_WEIGHTS, NAND_BIAS)


def half_adder(x1, x2) -> tuple[int, int]:
    """Add two bits with five NAND perceptrons (Nielsen's circuit): ``(sum_bit, carry_bit)``.

    n = NAND(x1, x2) feeds three perceptrons; the bitwise sum x1 XOR x2 is
    NAND(NAND(x1, n), NAND(x2, n)). The carry, x1 AND x2, is NAND(n, n): a
    perceptron that takes n twice, which is the same as one input of weight
    -2 + -2 = -4 and bias 3.
    """
    x1, x2 = _bit(x1, "x1"), _bit(x2, "x2")
    n = nand(x1, x2)
    sum_bit = nand(nand(x1, n), nand(x2, n))
    carry = perceptron((n,), (NAND_WEIGHTS[0] + NAND_WEIGHTS[1],), NAND_BIAS)  # NAND(n, n)
    return sum_bit, carry


def full_adder(x1, x2, carry_in) -> tuple[int, int]:
    """Add three bits with nine NAND perceptrons: ``(sum_bit, carry_out)``.

    Two XORs built as in :func:`half_adder` give the sum bit; the carry is
    NAND of the two "first" NANDs, (x1 AND x2) OR ((x1 XOR x2) AND carry_in).
    """
    x1, x2, c = _bit(x1, "x1"), _bit(x2, "x2"), _bit(carry_in, "carry_in")
    n1 = nand(x1, x2)
    s1 = nand(nand(x1, n1), nand(x2, n1))  # x1 XOR x2
    n2 = nand(s1, c)
    sum_bit = nand(nand(s1, n2), nand(c, n2))  # s1 XOR c
    carry_out = nand(n1, n2)  # NOT(n1) OR NOT(n2)
    return sum_bit, carry_out


def add_binary(a: int, b: int, n_bits: int) -> int:
    """a + b computed by a ripple-carry chain of ``n_bits`` NAND-perceptron full adders.

    ``a`` and ``b`` must be integers in 0 .. 2**n_bits - 1; the result has up
    to ``n_bits + 1`` bits (the last carry). Built from 9 * n_bits perceptrons.
    """
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if not 0 <= value < 2**n_bits:
            raise ValueError(f"{name} must lie in 0..{2**n_bits - 1} to fit in {n_bits} bits, got {value}")
    total, carry = 0, 0
    for k in range(n_bits):  # least significant bit first
        bit, carry = full_adder((a >> k) & 1, (b >> k) & 1, carry)
        total |= bit << k
    return total | carry << n_bits
