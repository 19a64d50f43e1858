"""Position encodings (chapter 5): sinusoids, the offset share and the spectrum."""

import math

import torch

from textbook_utils.lessons.positions import (cosine_matrix, offset_share,
                                      position_spectrum, sinusoidal)


def test_sinusoidal_follows_the_formula_of_the_paper():
    PE = sinusoidal(50, 16)
    assert PE.shape == (50, 16)
    for p, i in [(0, 0), (7, 0), (13, 3), (49, 7)]:
        angle = p / 10_000 ** (2 * i / 16)
        assert abs(PE[p, 2 * i] - math.sin(angle)) < 1e-6
        assert abs(PE[p, 2 * i + 1] - math.cos(angle)) < 1e-6


def test_sinusoids_depend_on_the_offset_only_random_vectors_do_not():
    # sin a sin b + cos a cos b = cos(a - b): a dot product of two positions
    # is a function of their offset, so the offset explains everything
    assert offset_share(cosine_matrix(sinusoidal(64, 128))) > 0.9999
    R = torch.randn(64, 128, generator=torch.Generator().manual_seed(0))
    assert offset_share(cosine_matrix(R)) < 0.1
    C = cosine_matrix(R)
    assert torch.allclose(C.diagonal(), torch.ones(64), atol=1e-5)


def test_spectrum_finds_a_pure_frequency():
    n = 64
    p = torch.arange(n, dtype=torch.float32)[:, None]
    M = torch.cat([torch.cos(2 * math.pi * 5 * p / n),
                   3 * torch.sin(2 * math.pi * 5 * p / n),
                   torch.cos(2 * math.pi * 12 * p / n) + 7], dim=1)  # (64, 3)
    s = position_spectrum(M)
    assert s.shape == (33,)
    assert abs(s.sum().item() - 1) < 1e-6 and s[0] < 1e-8
    # power 1 + 9 at 5 cycles, 1 at 12 (the constant 7 is removed)
    assert abs(s[5].item() - 10 / 11) < 1e-4 and abs(s[12].item() - 1 / 11) < 1e-4
