"""Packing directions (chapter 7): the Welch bound, random and optimised vectors."""

import math

import numpy as np
import torch

from textbook_utils.lessons.packing import (coherence, pack_directions,
                                            pair_cosines, random_directions,
                                            random_run_length, welch_bound)


def simplex(d):
    """The d + 1 vertices of a regular simplex centred at 0, as unit rows in d dimensions."""
    E = torch.eye(d + 1) - 1 / (d + 1)                  # centred, in d + 1 dims
    basis = torch.linalg.svd(E)[2][:d]                  # (d, d + 1): their span
    V = E @ basis.T                                     # (d + 1, d)
    return V / V.norm(dim=1, keepdim=True)


def test_the_welch_bound_is_reached_by_the_simplex_and_matches_the_video_numbers():
    for d in (2, 3, 7):
        U = simplex(d)
        assert abs(coherence(U) - 1 / d) < 1e-5          # all pairs at cos -1/d
        assert abs(welch_bound(d + 1, d) - 1 / d) < 1e-12
    assert abs(welch_bound(10_000, 100) - 0.0995) < 5e-5
    assert welch_bound(10_000, 100) > math.sin(math.radians(1))


def test_no_set_beats_the_bound_not_even_on_the_mean_square():
    for m, d in [(30, 5), (200, 20)]:
        for U in (random_directions(m, d, seed=3), pack_directions(m, d, steps=100)):
            c = pair_cosines(U)
            assert c.shape == (m * (m - 1) // 2,)
            assert (c ** 2).mean().sqrt().item() >= welch_bound(m, d) - 1e-5
            assert coherence(U) >= welch_bound(m, d)


def test_optimising_pushes_the_worst_pair_toward_perpendicular():
    m, d = 60, 10
    start = random_directions(m, d, seed=0)
    packed = pack_directions(m, d, steps=300, seed=0)
    assert torch.allclose(packed.norm(dim=1), torch.ones(m), atol=1e-5)
    assert coherence(packed) < 0.7 * coherence(start)
    assert coherence(packed) < 1.6 * welch_bound(m, d)
    # no more vectors than dimensions: they can be made perpendicular
    assert coherence(pack_directions(5, 10, steps=300)) < 0.05


def test_random_vectors_within_one_degree_at_gpt3_width_are_a_handful():
    counts = random_run_length(12_288, 1.0, trials=100, seed=0)
    assert counts.shape == (100,)
    # about 5% of random pairs fall outside 89-91 degrees at this width
    assert 3 < counts.mean() < 9
    # a 5 degree window is a 9-sigma event there: nothing breaks in 40 draws
    assert np.all(random_run_length(12_288, 5.0, trials=3, limit=40) == 40)
