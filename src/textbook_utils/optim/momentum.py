"""Momentum: the heavy ball (MIT 18.065, lecture 23).

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``):

    heavy ball   x_{k+1} = x_k - s grad f(x_k) + beta (x_k - x_{k-1})

started from rest, x_{-1} = x_0. On a quadratic whose Hessian has its
eigenvalues in [m, M], every eigenvector follows a two-term recursion of its
own, and the method's factor per step is the largest root of those
recursions (:func:`iteration_rate`).
"""

from __future__ import annotations

import numpy as np


def heavy_ball(grad, x0, s: float, beta: float, n_steps: int) -> np.ndarray:
    """Polyak's heavy ball; returns the path (n_steps + 1, d).

    Strang writes the same method as x_{k+1} = x_k - s z_k with the
    velocity z_k = grad f(x_k) + beta z_{k-1}.
    """
    x = x_prev = np.asarray(x0, dtype=np.float64)
    path = [x]
    for k in range(n_steps):
        x, x_prev = x - s * grad(x) + beta * (x - x_prev), x
        path.append(x)
    return np.array(path)


def heavy_ball_parameters(m: float, M: float) -> tuple[float, float]:
    """The best step and momentum for eigenvalues in [m, M] (lecture 23).

    s = 4 / (sqrt M + sqrt m)^2, beta = ((sqrt M - sqrt m)/(sqrt M + sqrt m))^2
    """
    rm, rM = np.sqrt(m), np.sqrt(M)
    return float(4 / (rM + rm) ** 2), float(((rM - rm) / (rM + rm)) ** 2)


def heavy_ball_rate(m: float, M: float) -> float:
    """(sqrt M - sqrt m) / (sqrt M + sqrt m), the heavy ball's best factor.

    For eigenvalues {b, 1} it is (1 - sqrt b) / (1 + sqrt b).
    """
    return float((np.sqrt(M) - np.sqrt(m)) / (np.sqrt(M) + np.sqrt(m)))


def iteration_rate(eigenvalues, s: float, beta: float = 0.0) -> float:
    """The factor per step of fixed-step descent (beta = 0) or heavy ball.

    Along an eigenvector with eigenvalue lam the error follows
    e_{k+1} = (1 + beta - s lam) e_k - beta e_{k-1}; its factor per step is
    the largest |mu| among the roots of mu^2 - (1 + beta - s lam) mu + beta.
    With beta = 0 that is |1 - s lam|; below 1 for every lam, it converges.
    """
    roots = [np.roots([1.0, -(1 + beta - s * lam), beta])
             for lam in np.atleast_1d(eigenvalues)]
    return float(max(np.max(np.abs(r)) for r in roots))
