"""textbook_utils.tools.seeding: repeatable training, and the switch that shifts every training seed."""

import random

import numpy as np
import pytest
import torch

from textbook_utils.lessons.scratch import Network
from textbook_utils.tools.seeding import (SEED_OFFSET_ENV, seed_everything,
                                          seed_offset, training_seed)


def _draw():
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


def test_seed_everything_repeats_every_generator(monkeypatch):
    monkeypatch.delenv(SEED_OFFSET_ENV, raising=False)
    seed_everything(1234)
    first = _draw()
    seed_everything(1234)
    assert _draw() == first
    seed_everything(1235)
    assert _draw() != first


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                        ("7", TypeError), (True, TypeError)])
def test_seed_everything_rejects_bad_seeds(bad, error):
    with pytest.raises(error, match="seed must"):
        seed_everything(bad)


def test_the_offset_shifts_seed_everything_by_exactly_its_value(monkeypatch):
    monkeypatch.setenv(SEED_OFFSET_ENV, "3")
    assert seed_offset() == 3 and training_seed(7) == 10
    seed_everything(7)
    shifted = _draw()
    monkeypatch.delenv(SEED_OFFSET_ENV)
    assert seed_offset() == 0 and training_seed(7) == 7
    seed_everything(10)
    assert _draw() == shifted
    seed_everything(7)
    assert _draw() != shifted


def test_the_offset_wraps_around_at_2_to_the_32(monkeypatch):
    monkeypatch.setenv(SEED_OFFSET_ENV, "1")
    assert training_seed(2**32 - 1) == 0


@pytest.mark.parametrize("value", ["one", "1.5", "-2"])
def test_a_bad_offset_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(SEED_OFFSET_ENV, value)
    with pytest.raises(ValueError, match=SEED_OFFSET_ENV):
        seed_everything(0)


def test_the_offset_changes_the_mini_batch_order_of_training_but_not_the_initial_network(monkeypatch):
    """Network(seed=...) is an illustrative draw and stays put; SGD's shuffling moves."""
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 6)), rng.integers(0, 3, 200)

    def run():
        net = Network([6, 5, 3], seed=0)
        start = [w.copy() for w in net.weights]
        net.SGD((X, y), epochs=1, mini_batch_size=10, eta=1.0, seed=0)
        return start, net.weights

    monkeypatch.delenv(SEED_OFFSET_ENV, raising=False)
    start0, trained0 = run()
    monkeypatch.setenv(SEED_OFFSET_ENV, "1")
    start1, trained1 = run()
    assert all(np.array_equal(a, b) for a, b in zip(start0, start1))
    assert not all(np.allclose(a, b) for a, b in zip(trained0, trained1))
