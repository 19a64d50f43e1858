"""The pieces of two small generative models on 2-D points: data, networks, noise schedule.

Used in chapter "Generative models: GANs and diffusion"
(``book/questions/03_generative_models.ipynb``), which writes the training
and sampling loops of a GAN (Goodfellow et al. 2014, arXiv:1406.2661) and of
a denoising diffusion model (Ho, Jain & Abbeel 2020, arXiv:2006.11239) itself:
those loops are the chapter's subject. This module holds what they use:

- the standard 2-D "model problems" of the literature, two interleaved
  half-moons and a ring of Gaussians, drawn from a seeded generator;
- :func:`nearest_distance` and :func:`nearest_label_agreement`, which score
  generated points against the data;
- :func:`make_mlp`, the small networks;
- :class:`NoiseSchedule` (the closed forms of the forward, noising process)
  and :class:`Denoiser`, the network eps_theta(x_t, t, class).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


__all__ = ["Denoiser", "NoiseSchedule", "gaussian_ring", "make_mlp", "nearest_distance",
           "nearest_label_agreement", "two_moons"]


# --------------------------------------------------------------------------- the 2-D data

def two_moons(n: int, *, noise: float = 0.08, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved half-circles: X (n, 2) float32, label (n,) 0 or 1."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)  # (n,)
    theta = rng.uniform(0, math.pi, n)
    X = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # upper moon, radius 1
    lower = label == 1
    X[lower] = np.stack([1 - np.cos(theta[lower]), 0.5 - np.sin(theta[lower])], axis=1)
    X += noise * rng.standard_normal((n, 2))
    X -= [0.5, 0.25]  # centre the pair on the origin
    return X.astype(np.float32), label.astype(np.int64)


def gaussian_ring(n: int, *, k: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0):
    """``n`` points from ``k`` small Gaussians evenly spaced on a circle; label = which Gaussian."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, k, n)
    angle = 2 * math.pi * label / k
    X = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1) + std * rng.standard_normal((n, 2))
    return X.astype(np.float32), label.astype(np.int64)


def _points(X, name="X") -> torch.Tensor:
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
    if X.ndim != 2 or X.shape[1] != 2 or not X.is_floating_point():
        raise ValueError(f"{name} must be float points of shape (n, 2), got {X.dtype} {tuple(X.shape)}")
    return X.float()


def nearest_distance(samples, data) -> np.ndarray:
    """For each sample (m, 2), the distance to its nearest data point (n, 2): shape (m,)."""
    S, D = _points(samples, "samples"), _points(data, "data")
    return torch.cdist(S, D).min(dim=1).values.numpy()


def nearest_label_agreement(samples, data, labels, wanted) -> float:
    """Fraction of samples whose nearest data point has label ``wanted`` (or ``wanted[i]``)."""
    S, D = _points(samples, "samples"), _points(data, "data")
    labels = torch.as_tensor(np.asarray(labels))
    if labels.shape != (len(D),):
        raise ValueError(f"labels must have shape ({len(D)},), got {tuple(labels.shape)}")
    nearest = labels[torch.cdist(S, D).argmin(dim=1)]
    return (nearest == torch.as_tensor(np.asarray(wanted))).float().mean().item()


def make_mlp(n_in: int, n_out: int, width: int = 128, depth: int = 2) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` SiLU neurons: (B, n_in) -> (B, n_out)."""
    layers, n = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(n, width), nn.SiLU()]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, n_out))


# --------------------------------------------------------------------------- diffusion (DDPM)

class NoiseSchedule:
    """beta_t rising linearly over ``T`` steps; alpha_t = 1 - beta_t, alpha_bar_t = prod alpha.

    The DDPM paper uses T = 1000 and beta from 1e-4 to 0.02; with fewer steps
    each must add more noise, so the default scales beta by 1000 / T (at
    most 0.5). For T >= 40 the last alpha_bar is then below e^-10: x_T is
    (almost) pure noise.
    """

    def __init__(self, T: int = 100, beta_1: float | None = None, beta_T: float | None = None):
        self.T = T
        beta_1 = 1e-4 * 1000 / T if beta_1 is None else beta_1
        beta_T = min(0.02 * 1000 / T, 0.5) if beta_T is None else beta_T
        if not 0 < beta_1 <= beta_T < 1:
            raise ValueError(f"need 0 < beta_1 <= beta_T < 1, got {beta_1}, {beta_T}")
        self.beta = torch.linspace(beta_1, beta_T, T)  # (T,)
        self.alpha = 1 - self.beta
        self.alpha_bar = torch.cumprod(self.alpha, dim=0)

    def add_noise(self, x0, t, eps):
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps  (t is 0-based, shape (B,))."""
        ab = self.alpha_bar[t][:, None]  # (B, 1)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


class Denoiser(nn.Module):
    """eps_theta(x_t, t, class): the noise the network believes was added, (B, 2).

    The step t enters as sinusoidal features (as in the Transformer's
    positions), the class as a learned embedding; class ``n_classes`` is the
    "null" class that means "no condition".
    """

    def __init__(self, T: int, n_classes: int = 0, width: int = 64, d_emb: int = 16):
        super().__init__()
        self.T, self.n_classes, self.d_emb = T, n_classes, d_emb
        self.class_emb = nn.Embedding(n_classes + 1, d_emb)
        self.net = make_mlp(2 + 2 * d_emb, 2, width=width, depth=3)
        # frequencies 1000^(-k / (d_emb/2)), k = 0, 1, ...; computed once: (d_emb/2,)
        freqs = torch.exp(-math.log(1000.0) * torch.arange(d_emb // 2) / (d_emb // 2))
        self.register_buffer("freqs", freqs, persistent=False)

    def time_features(self, t):
        angle = t.float()[:, None] * self.freqs[None, :]  # (B, d_emb/2)
        return torch.cat([angle.sin(), angle.cos()], dim=1)  # (B, d_emb)

    def forward(self, x, t, y):
        return self.net(torch.cat([x, self.time_features(t), self.class_emb(y)], dim=1))
