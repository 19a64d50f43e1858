"""Perceptrons and NAND circuits (textbook_utils.lessons.perceptron), checked against plain logic and arithmetic."""

import itertools

import numpy as np
import pytest

from textbook_utils.lessons.perceptron import (NAND_BIAS, NAND_WEIGHTS,
                                               add_binary, full_adder,
                                               half_adder, nand, perceptron,
                                               step)

BITS = (0, 1)


def test_perceptron_fires_only_when_weighted_input_is_strictly_positive():
    # w . x + b for w = (1, 1), b = -2 is 0 at x = (1, 1): Nielsen's rule says 0 (strict >)
    assert perceptron((1, 1), (1, 1), -2) == 0
    assert perceptron((1, 1), (1, 1), -1.999) == 1
    assert perceptron((1, 1), (1, 1), -2.001) == 0
    assert perceptron((0.5, 2.0), (4.0, -1.0), 0.25) == 1  # 2 - 2 + 0.25 > 0: real inputs are fine


def test_perceptron_on_a_batch_of_rows_matches_one_at_a_time():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3))  # (B, n)
    w, b = rng.standard_normal(3), 0.3
    batch = perceptron(X, w, b)
    assert batch.shape == (50,) and batch.dtype.kind == "i"
    assert batch.tolist() == [perceptron(x, w, b) for x in X]
    assert batch.tolist() == [int(sum(wi * xi for wi, xi in zip(w, x)) + b > 0) for x in X]


def test_step_is_zero_at_zero_and_keeps_shape():
    assert step(0.0) == 0 and step(1e-12) == 1 and step(-3) == 0
    assert step(np.array([[-1.0, 0.0], [0.5, 2.0]])).tolist() == [[0, 0], [1, 1]]


def test_nand_perceptron_has_nielsens_weights_and_truth_table():
    assert NAND_WEIGHTS == (-2, -2) and NAND_BIAS == 3
    for x1, x2 in itertools.product(BITS, BITS):
        assert nand(x1, x2) == int(not (x1 and x2))


def test_half_adder_adds_two_bits_on_every_input():
    for x1, x2 in itertools.product(BITS, BITS):
        s, c = half_adder(x1, x2)
        assert 2 * c + s == x1 + x2


def test_full_adder_adds_three_bits_on_every_input():
    for x1, x2, c_in in itertools.product(BITS, BITS, BITS):
        s, c = full_adder(x1, x2, c_in)
        assert 2 * c + s == x1 + x2 + c_in


def test_add_binary_agrees_with_integer_addition_for_all_4_bit_pairs():
    for a, b in itertools.product(range(16), range(16)):
        assert add_binary(a, b, 4) == a + b


def test_add_binary_wide_numbers():
    assert add_binary(2**16 - 1, 1, 16) == 2**16
    assert add_binary(12345, 54321, 16) == 66666


@pytest.mark.parametrize("bad", [2, -1, True, 0.5, 1.0, "1"])
def test_gates_reject_non_bits(bad):
    with pytest.raises(ValueError, match="bit 0 or 1"):
        nand(bad, 0)
    with pytest.raises(ValueError, match="bit 0 or 1"):
        full_adder(0, 1, bad)


def test_perceptron_rejects_mismatched_or_bad_input():
    with pytest.raises(ValueError, match=r"expected w \(n,\)"):
        perceptron((1, 0, 1), (1, 1), 0)
    with pytest.raises(ValueError, match=r"x has shape \(2,\) and w \(1, 2\)"):
        perceptron((1, 0), [[1, 1]], 0)
    with pytest.raises(TypeError, match="bias"):  # a vector bias would give one output per entry
        perceptron((1, 0), (1, 1), (0, 1))


def test_add_binary_rejects_numbers_that_do_not_fit():
    with pytest.raises(ValueError, match="0..15"):
        add_binary(16, 0, 4)
    with pytest.raises(ValueError, match="0..15"):
        add_binary(0, -1, 4)
    with pytest.raises(ValueError, match="fit in 0 bits"):
        add_binary(1, 1, 0)
    with pytest.raises(TypeError, match="integer"):
        add_binary(1.0, 1, 4)
