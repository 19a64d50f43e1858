"""The tiny GAN and DDPM learn the 2-D data; the DDPM's noise schedule follows the paper's formulas."""

import numpy as np
import pytest
import torch

from textbook_utils import generative as g


@pytest.fixture(autouse=True)
def one_thread():
    """Models this small train fastest on one core (and steadily on a shared machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
    x0, eps = torch.ones(2, 2), torch.zeros(2, 2)
    t = torch.tensor([0, 999])
    xt = s.add_noise(x0, t, eps)
    expected = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000), 0)[t].sqrt()
    assert torch.allclose(xt[:, 0], expected)
    with pytest.raises(ValueError):
        g.NoiseSchedule(T=10, beta_1=0.5, beta_T=0.1)


def test_gan_learns_the_moons():
    X, _ = g.two_moons(1000)
    G, D, history = g.train_gan(X, steps=400, batch_size=128)
    S = g.sample_gan(G, 500)
    assert S.shape == (500, 2) and len(history["loss_D"]) == 400
    torch.manual_seed(0)
    fresh = g.make_mlp(2, 2, 64)(torch.randn(500, 2)).detach().numpy()
    assert np.median(g.nearest_distance(S, X)) < 0.5 * np.median(g.nearest_distance(fresh, X))


def test_ddpm_samples_lie_on_the_moons_and_follow_the_condition():
    X, y = g.two_moons(1000)
    model, schedule, history = g.train_ddpm(X, y, n_classes=2, T=50, steps=600, batch_size=128)
    assert np.mean(history["loss"][-50:]) < np.mean(history["loss"][:50])
    noise = np.random.default_rng(0).standard_normal((500, 2)).astype(np.float32)
    U = g.sample_ddpm(model, schedule, 500)
    assert np.median(g.nearest_distance(U, X)) < 0.5 * np.median(g.nearest_distance(noise, X))
    C, kept = g.sample_ddpm(model, schedule, 500, label=1, guidance=2.0, keep=(50, 0))
    assert set(kept) == {50, 0} and np.array_equal(kept[0], C)
    assert g.nearest_label_agreement(C, X, y, 1) > 0.8
    assert g.nearest_label_agreement(U, X, y, 1) < 0.8


def test_bad_input_is_rejected():
    X, y = g.two_moons(50)
    with pytest.raises(ValueError):
        g.two_moons(0)
    with pytest.raises(ValueError):
        g.train_ddpm(X, y, n_classes=1, steps=1)  # label 1 is outside 0..0
    model, schedule, _ = g.train_ddpm(X, y, n_classes=2, T=5, steps=1)
    with pytest.raises(ValueError):
        g.sample_ddpm(model, schedule, 5, label=2)
    with pytest.raises(ValueError):
        g.train_gan(X[:, :1], steps=1)
