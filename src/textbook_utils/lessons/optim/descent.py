"""Gradient descent on a quadratic, and how fast it gets there (lecture 22).

Used by the chapter "Gradient descent: downhill to a minimum"
(``book/strang/01_gradient_descent.ipynb``):

    gradient descent    x_{k+1} = x_k - s_k grad f(x_k)
    exact line search   s_k = g^T g / g^T S g  with g = grad f(x_k)

on Strang's model problem f(x, y) = 1/2 (x^2 + b y^2) = 1/2 x^T S x with
S = diag(1, b), started at his point (b, 1).
"""

from __future__ import annotations

import numpy as np


class Quadratic:
    """f(x) = 1/2 x^T S x for a symmetric positive definite S, shape (d, d).

    Gradient S x, Hessian S (the same everywhere), minimiser 0, condition
    number lambda_max / lambda_min. ``f`` and ``grad`` take one point (d,)
    or a stack of points (..., d), which is what contour plots need.
    """

    def __init__(self, S):
        S = np.asarray(S, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] != S.shape[1]:
            raise ValueError(f"S must be a square matrix (d, d), "
                             f"got shape {S.shape}")
        if not np.allclose(S, S.T):
            raise ValueError("S must be symmetric (S == S.T)")
        self.eigenvalues = np.linalg.eigvalsh(S)  # ascending
        if self.eigenvalues[0] <= 0:
            raise ValueError("S must be positive definite; its smallest "
                             f"eigenvalue is {self.eigenvalues[0]:.3g}")
        self.S = S
        self.d = len(S)

    def f(self, x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.S, x)

    def grad(self, x):
        return np.asarray(x) @ self.S  # (..., d); S x, as S is symmetric

    def hessian(self, x=None):
        return self.S

    @property
    def minimiser(self):
        return np.zeros(self.d)

    @property
    def condition_number(self):
        return float(self.eigenvalues[-1] / self.eigenvalues[0])


def model_problem(b: float) -> Quadratic:
    """Strang's f(x, y) = 1/2 (x^2 + b y^2): S = diag(1, b), with b > 0."""
    return Quadratic(np.diag([1.0, b]))


def strang_start(b: float) -> np.ndarray:
    """Strang's starting point (x_0, y_0) = (b, 1)."""
    return np.array([b, 1.0])


def gradient_descent(grad, x0, s, n_steps: int) -> np.ndarray:
    """x_{k+1} = x_k - s_k grad(x_k) for k = 0, 1, ..., n_steps - 1.

    ``s`` is one step size for every step, or a sequence of n_steps step
    sizes s_0, s_1, ... (k counts steps). Returns the path (n_steps + 1, d).
    """
    steps = np.broadcast_to(s, (n_steps,))  # s_k for each step k
    x = np.asarray(x0, dtype=np.float64)
    path = [x]
    for s_k in steps:
        x = x - s_k * grad(x)
        path.append(x)
    return np.array(path)


def exact_line_search(problem: Quadratic, x0, n_steps: int) -> np.ndarray:
    """Steepest descent on a quadratic, each step the best along -grad f.

    s_k = g^T g / g^T S g with g = S x_k. Returns the path (n_steps + 1, d).
    """
    x = np.asarray(x0, dtype=np.float64)
    path = [x]
    for k in range(n_steps):
        g = problem.grad(x)
        if not g.any():  # at the minimum: stay there
            path.append(x)
            continue
        s_k = (g @ g) / (g @ problem.S @ g)  # the best step along -g
        x = x - s_k * g
        path.append(x)
    return np.array(path)


def exact_line_search_closed_form(b: float, k):
    """Strang's solution for exact line search on the model problem.

    From (b, 1), with r = (b - 1) / (b + 1): x_k = b r^k, y_k = (-r)^k and
    f_k = r^(2k) f_0. ``k`` is a step number or an array of them.
    """
    r = (b - 1) / (b + 1)
    k = np.asarray(k)
    f0 = 0.5 * (b * b + b)  # f at (b, 1)
    return b * r**k, (-r) ** k, r ** (2 * k) * f0


def steepest_descent_rate(lam_min: float, lam_max: float) -> float:
    """(M - m) / (M + m): the factor per step of the best fixed step.

    Exact line search on the model problem from (b, 1) has the same factor,
    |b - 1| / (b + 1).
    """
    return (lam_max - lam_min) / (lam_max + lam_min)


def measured_rate(errors, start: int, stop: int) -> float:
    """The mean factor per step, (e_stop / e_start)^(1 / (stop - start)).

    ``errors`` are positive: distances to the minimiser, or f_k - f_min.
    """
    e = np.asarray(errors, dtype=np.float64)
    return float((e[stop] / e[start]) ** (1 / (stop - start)))
