"""Muon: momentum, then orthogonalise the step of each weight matrix.

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``), which derives it beside
Adam, and by the live run of chapter "GPT: what a transformer does"
(``book/3b1b/05_gpt.ipynb``), whose hidden matrices it trains. For a weight
matrix W (m, n) with gradient G, momentum beta and step size eta:

    M <- beta M + G                  (the heavy ball's velocity)
    D  = G + beta M                  (Nesterov: look one step ahead)
    W <- W - eta sqrt(max(1, m / n)) orth(D)

orth(D) = U V^T for D = U Sigma V^T: the same directions as D, every
singular value set to 1, so no direction of the step is starved because
its singular value is small. It is computed without an SVD by a few
Newton-Schulz steps (:func:`newton_schulz`), matrix products only. Muon is
Keller Jordan's (2024), https://kellerjordan.github.io/posts/muon/; the
quintic's coefficients are his.
"""

from __future__ import annotations

import torch

__all__ = ["Muon", "NS_COEFFICIENTS", "newton_schulz"]

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # a, b, c of p(s) below


def newton_schulz(D, steps=5, coefficients=NS_COEFFICIENTS):
    """Approximately U V^T for D = U Sigma V^T (m, n), by iterating

        X <- a X + b (X X^T) X + c (X X^T)^2 X,  from X = D / ||D||_F,

    which maps each singular value s of X to p(s) = a s + b s^3 + c s^5
    and leaves U and V alone; p pushes every s in (0, 1] towards 1."""
    a, b, c = coefficients
    X = D / (D.norm() + 1e-7)  # every singular value now <= 1
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T  # (n, m): the Gram matrix X X^T is the smaller one
    for _ in range(steps):
        A = X @ X.T  # (rows, rows)
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


class Muon(torch.optim.Optimizer):
    """Muon for 2-D weights: lr (eta), momentum (beta), Newton-Schulz steps
    and decoupled weight decay, as AdamW's. Only matrices belong here;
    embeddings, gains and biases go to Adam (the recipe that builds it,
    :func:`textbook_utils.training.gpt_loop.make_optimizer`, sorts them)."""

    def __init__(self, params, lr=0.02, momentum=0.95, ns_steps=5,
                 weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum,
                                      ns_steps=ns_steps,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            eta, beta = group["lr"], group["momentum"]
            for W in group["params"]:
                if W.grad is None:
                    continue
                G = W.grad  # (m, n)
                M = self.state[W].setdefault("M", torch.zeros_like(G))
                M.mul_(beta).add_(G)  # velocity
                D = G.add(M, alpha=beta)  # Nesterov's look-ahead
                O = newton_schulz(D, group["ns_steps"])
                scale = max(1.0, W.shape[0] / W.shape[1]) ** 0.5
                W.mul_(1 - eta * group["weight_decay"])
                W.add_(O, alpha=-eta * scale)
