"""Stochastic gradient descent on a least-squares loss, and its noise ball.

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``):

    w_{k+1} = w_k - eta * (gradient of the loss on mini-batch k)

The loss f(w) = 1/(2n) ||A w - y||^2 is a quadratic, so the chapter can
compare what SGD does with what the theory predicts. The loop itself,
:func:`textbook_utils.training.descend.sgd`, checks its settings and lives
with the other loops.
"""

from __future__ import annotations

import numpy as np



class LeastSquares:
    """The loss f(w) = 1/(2n) ||A w - y||^2 of fitting A w to y.

    ``A`` is (n, d), one row per example; ``y`` is (n,). The gradient on a
    mini-batch of rows ``idx`` is (1/|idx|) A_idx^T (A_idx w - y_idx): with
    all rows it is the full gradient, and over a random batch it equals the
    full gradient on average (an unbiased estimate).
    """

    def __init__(self, A, y):
        A = np.asarray(A, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if A.ndim != 2 or y.shape != (len(A),):
            raise ValueError(f"need A of shape (n, d) and y of shape (n,), "
                             f"got A {A.shape} and y {y.shape}")
        self.A, self.y = A, y
        self.n, self.d = A.shape

    def f(self, w):
        residual = np.asarray(w) @ self.A.T - self.y  # (..., n)
        return 0.5 * np.mean(residual**2, axis=-1)

    def grad(self, w, idx=None):
        A, y = (self.A, self.y) if idx is None else (self.A[idx], self.y[idx])
        return A.T @ (A @ w - y) / len(y)  # (d,)

    def hessian(self, w=None):
        return self.A.T @ self.A / self.n

    @property
    def minimiser(self):
        return np.linalg.lstsq(self.A, self.y, rcond=None)[0]


def noise_ball(problem: LeastSquares, eta: float, batch_size: int) -> float:
    """Predicted mean of ||w_k - w*||^2 once SGD has settled (small eta).

    Near the minimiser w*, SGD is w_{k+1} - w* = (I - eta H)(w_k - w*)
    - eta xi_k, with zero-mean gradient noise xi_k of covariance
    C_B = C / B * (n - B) / (n - 1), where C is the covariance of the
    per-example gradients at w* and H the Hessian. To first order in eta the
    settled covariance Sigma solves H Sigma + Sigma H = eta C_B, whose trace
    is (eta / 2) trace(H^-1 C_B): proportional to eta / B.
    """
    n, B = problem.n, batch_size
    w_star = problem.minimiser
    r = problem.A @ w_star - problem.y  # (n,) residuals at w*
    G = problem.A * r[:, None]  # (n, d): per-example gradients at w*
    C = G.T @ G / n  # (d, d); the rows of G average to zero at w*
    C_B = C / B * (n - B) / (n - 1)
    return float(eta / 2 * np.trace(np.linalg.solve(problem.hessian(), C_B)))
