"""The pieces of the generative-models chapter: 2-D data, scores, networks, the DDPM noise schedule."""

import numpy as np
import pytest
import torch

from textbook_utils.lessons import generative as g


def test_toy_data_shapes_labels_and_seeding():
    X, y = g.two_moons(500, seed=3)
    assert X.shape == (500, 2) and X.dtype == np.float32 and set(np.unique(y)) == {0, 1}
    assert np.array_equal(X, g.two_moons(500, seed=3)[0])
    R, k = g.gaussian_ring(400, k=4, radius=2.0, std=0.01)
    radius = np.linalg.norm(R, axis=1)
    assert np.all(np.abs(radius - 2.0) < 0.1)
    angles = np.arctan2(R[:, 1], R[:, 0])
    assert np.allclose(np.cos(angles), np.cos(2 * np.pi * k / 4), atol=0.05)


def test_nearest_helpers():
    data = np.array([[0.0, 0.0], [10.0, 0.0]], dtype=np.float32)
    labels = np.array([0, 1])
    samples = np.array([[1.0, 0.0], [9.0, 0.0], [0.0, -3.0]], dtype=np.float32)
    assert np.allclose(g.nearest_distance(samples, data), [1.0, 1.0, 3.0])
    assert g.nearest_label_agreement(samples, data, labels, 0) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        g.nearest_distance(np.zeros((3, 3), dtype=np.float32), data)


def test_noise_schedule_matches_the_closed_form():
    s = g.NoiseSchedule(T=1000)  # the DDPM paper's own setting
    assert s.beta[0].item() == pytest.approx(1e-4) and s.beta[-1].item() == pytest.approx(0.02)
    assert s.alpha_bar[-1].item() < 1e-4  # x_T is essentially pure noise
    # x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, both terms
    x0, eps = torch.ones(2, 2), torch.full((2, 2), 2.0)
    t = torch.tensor([0, 999])
    xt = s.add_noise(x0, t, eps)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    alpha_bar = torch.tensor([1 - 1e-4, float(torch.prod(1 - betas))],
                             dtype=torch.float64)
    expected = alpha_bar.sqrt() * 1.0 + (1 - alpha_bar).sqrt() * 2.0
    assert torch.allclose(xt[:, 0].double(), expected, atol=1e-5)
    assert xt[1, 0].item() == pytest.approx(2.0, abs=0.01)  # x_T: the noise
    with pytest.raises(ValueError):
        g.NoiseSchedule(T=10, beta_1=0.5, beta_T=0.1)


def test_mlp_and_denoiser_shapes():
    torch.manual_seed(0)
    mlp = g.make_mlp(3, 2, width=8, depth=2)
    assert [m.out_features for m in mlp if isinstance(m, torch.nn.Linear)] == [8, 8, 2]
    model = g.Denoiser(T=10, n_classes=2, width=16, d_emb=8)
    x, t = torch.randn(5, 2), torch.tensor([0, 3, 9, 9, 1])
    y = torch.tensor([0, 1, 2, 2, 0])  # class 2 is the null class
    assert model(x, t, y).shape == (5, 2)
    # sinusoidal time features: sin and cos of t times each frequency; t = 0 gives sin 0, cos 0
    features = model.time_features(torch.tensor([0, 5]))
    assert features.shape == (2, 8) and torch.allclose(features[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    assert torch.allclose(features[1, :4] ** 2 + features[1, 4:] ** 2, torch.ones(4))
    # the frequencies fall geometrically from 1 towards 1/1000: 1000^(-k/4), k = 0..3
    expected = torch.tensor([np.sin(5 * 1000.0 ** (-k / 4)) for k in range(4)], dtype=torch.float32)
    assert torch.allclose(features[1, :4], expected, atol=1e-5)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError):
        g.nearest_label_agreement(np.zeros((3, 2), np.float32), np.zeros((4, 2), np.float32), [0, 1], 0)
