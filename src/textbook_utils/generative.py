"""Two generative models small enough to train in seconds: a GAN and a DDPM on 2-D points.

Used in chapter "Generative models: GANs and diffusion"
(``book/questions/03_generative_models.ipynb``). Both learn to produce new
points that look like the training points, here the standard 2-D "model
problems" of the literature (two interleaved half-moons, a ring of
Gaussians), drawn from a seeded generator so every run sees the same data.

- :func:`train_gan` — a generator G(z) and a discriminator D(x) trained
  against each other (Goodfellow et al. 2014, arXiv:1406.2661), with the
  "non-saturating" generator loss of that paper.
- :func:`train_ddpm` / :func:`sample_ddpm` — a denoising diffusion
  probabilistic model (Ho, Jain & Abbeel 2020, arXiv:2006.11239): noise is
  added in ``T`` small steps, a network learns to predict the noise, and
  sampling runs the steps backwards (the paper's Algorithms 1 and 2). With
  labels, the network also sees the class; a "null" class is trained 20% of
  the time (Ho & Salimans 2022, arXiv:2207.12598), so the same network
  samples **unconditioned** (null class) or **conditioned** on a class.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import positive_int
from .seeding import seed_everything, training_seed

__all__ = ["Denoiser", "NoiseSchedule", "gaussian_ring", "make_mlp", "nearest_distance",
           "nearest_label_agreement", "sample_ddpm", "sample_gan", "train_ddpm", "train_gan", "two_moons"]


# --------------------------------------------------------------------------- the 2-D data

def two_moons(n: int, *, noise: float = 0.08, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved half-circles: X (n, 2) float32, label (n,) 0 or 1."""
    n = positive_int(n, "n")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
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
    n, k = positive_int(n, "n"), positive_int(k, "k")
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
    n_in, n_out, width, depth = (positive_int(v, k) for v, k in ((n_in, "n_in"), (n_out, "n_out"),
                                                                  (width, "width"), (depth, "depth")))
    layers, n = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(n, width), nn.SiLU()]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, n_out))


# --------------------------------------------------------------------------- GAN

def train_gan(X, *, steps: int = 2000, batch_size: int = 256, d_z: int = 2, lr: float = 1e-3,
              width: int = 64, seed: int = 0) -> tuple[nn.Module, nn.Module, dict]:
    """Train a generator G: z (B, d_z) -> x (B, 2) against a discriminator D: x -> logit.

    Each step: D learns to output "real" (1) on data and "fake" (0) on G's
    points; then G learns to make D say "real" on its points. Adam with
    beta1 = 0.5 (Radford et al. 2015). Returns ``(G, D, history)`` with the
    two losses per step.
    """
    X = _points(X)
    steps, batch_size, d_z = (positive_int(v, k) for v, k in ((steps, "steps"), (batch_size, "batch_size"),
                                                               (d_z, "d_z")))
    seed_everything(seed)
    G, D = make_mlp(d_z, 2, width), make_mlp(2, 1, width)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(training_seed(seed))
    ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)
    history = {"loss_D": [], "loss_G": []}
    for _ in range(steps):
        real = X[torch.randint(len(X), (batch_size,), generator=gen)]  # (B, 2)
        fake = G(torch.randn(batch_size, d_z, generator=gen))  # (B, 2)
        loss_D = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        loss_G = F.binary_cross_entropy_with_logits(D(fake), ones)  # non-saturating: maximise log D(G(z))
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
        history["loss_D"].append(loss_D.item())
        history["loss_G"].append(loss_G.item())
    G.d_z = d_z
    return G.eval(), D.eval(), history


@torch.no_grad()
def sample_gan(G: nn.Module, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` points (n, 2) from a trained generator."""
    gen = torch.Generator().manual_seed(training_seed(seed))
    return G(torch.randn(positive_int(n, "n"), G.d_z, generator=gen)).numpy()


# --------------------------------------------------------------------------- diffusion (DDPM)

class NoiseSchedule:
    """beta_t rising linearly over ``T`` steps; alpha_t = 1 - beta_t, alpha_bar_t = prod alpha.

    The DDPM paper uses T = 1000 and beta from 1e-4 to 0.02; with fewer steps
    each must add more noise, so the default scales beta by 1000 / T (at
    most 0.5). For T >= 40 the last alpha_bar is then below e^-10: x_T is
    (almost) pure noise.
    """

    def __init__(self, T: int = 100, beta_1: float | None = None, beta_T: float | None = None):
        self.T = positive_int(T, "T")
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

    def time_features(self, t):
        freqs = torch.exp(-math.log(1000.0) * torch.arange(self.d_emb // 2) / (self.d_emb // 2))
        angle = t.float()[:, None] * freqs[None, :]  # (B, d_emb/2)
        return torch.cat([angle.sin(), angle.cos()], dim=1)  # (B, d_emb)

    def forward(self, x, t, y):
        return self.net(torch.cat([x, self.time_features(t), self.class_emb(y)], dim=1))


def train_ddpm(X, labels=None, *, n_classes: int = 0, T: int = 100, steps: int = 3000,
               batch_size: int = 256, lr: float = 2e-3, p_uncond: float = 0.2,
               width: int = 64, seed: int = 0) -> tuple[Denoiser, NoiseSchedule, dict]:
    """DDPM training (Ho et al. 2020, Algorithm 1): minimise ||eps - eps_theta(x_t, t)||^2.

    With ``labels`` (n,) in ``0..n_classes-1`` the network is told the
    class, except a fraction ``p_uncond`` of the time when it gets the null
    class, so it also learns the unconditioned distribution.
    """
    X = _points(X)
    steps, batch_size = positive_int(steps, "steps"), positive_int(batch_size, "batch_size")
    if labels is None:
        n_classes, y_all = 0, torch.zeros(len(X), dtype=torch.long)
    else:
        y_all = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        if y_all.shape != (len(X),) or n_classes < 1 or y_all.min() < 0 or y_all.max() >= n_classes:
            raise ValueError(f"labels must be {len(X)} integers in 0..n_classes-1 with n_classes >= 1")
    if not 0 <= p_uncond < 1:
        raise ValueError(f"p_uncond must be in [0, 1), got {p_uncond!r}")
    seed_everything(seed)
    schedule, model = NoiseSchedule(T), Denoiser(T, n_classes, width=width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(training_seed(seed))
    history = {"loss": []}
    for _ in range(steps):
        idx = torch.randint(len(X), (batch_size,), generator=gen)
        x0, y = X[idx], y_all[idx].clone()  # (B, 2), (B,)
        if n_classes:
            y[torch.rand(batch_size, generator=gen) < p_uncond] = n_classes  # drop the condition
        t = torch.randint(T, (batch_size,), generator=gen)
        eps = torch.randn(batch_size, 2, generator=gen)
        loss = F.mse_loss(model(schedule.add_noise(x0, t, eps), t, y), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        history["loss"].append(loss.item())
    return model.eval(), schedule, history


@torch.no_grad()
def sample_ddpm(model: Denoiser, schedule: NoiseSchedule, n: int, *, label: int | None = None,
                guidance: float = 0.0, seed: int = 0, keep: tuple = ()) -> np.ndarray | tuple:
    """Ancestral sampling (Ho et al. 2020, Algorithm 2), from x_T ~ N(0, I) down to x_0.

    ``label=None`` samples unconditioned (null class); a class number samples
    conditioned on it, optionally pushed further by classifier-free
    ``guidance`` w: eps = (1 + w) eps(x, class) - w eps(x, null). ``keep``
    lists steps t whose x_t are also returned, as ``(x_0, {t: x_t})``.
    """
    n = positive_int(n, "n")
    null = model.n_classes
    if label is not None and not (isinstance(label, (int, np.integer)) and 0 <= label < null):
        raise ValueError(f"label must be None or a class in 0..{null - 1}, got {label!r}")
    gen = torch.Generator().manual_seed(training_seed(seed))
    x = torch.randn(n, 2, generator=gen)  # x_T
    y_null = torch.full((n,), null, dtype=torch.long)
    y = y_null if label is None else torch.full((n,), int(label), dtype=torch.long)
    kept = {}
    for t in reversed(range(schedule.T)):
        if t + 1 in keep:
            kept[t + 1] = x.numpy().copy()
        tt = torch.full((n,), t, dtype=torch.long)
        eps = model(x, tt, y)
        if label is not None and guidance:
            eps = (1 + guidance) * eps - guidance * model(x, tt, y_null)
        a, ab, b = schedule.alpha[t], schedule.alpha_bar[t], schedule.beta[t]
        x = (x - b / (1 - ab).sqrt() * eps) / a.sqrt()  # the mean of x_{t-1}
        if t > 0:
            x = x + b.sqrt() * torch.randn(n, 2, generator=gen)  # sigma_t^2 = beta_t
    if 0 in keep:
        kept[0] = x.numpy().copy()
    return (x.numpy(), kept) if keep else x.numpy()
