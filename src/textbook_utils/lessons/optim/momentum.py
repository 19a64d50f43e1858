"""Momentum: the heavy ball and Nesterov's method (MIT 18.065, lecture 23).

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``):

    heavy ball  x_{k+1} = x_k - s grad f(x_k) + beta (x_k - x_{k-1})
    Nesterov    x_{k+1} = y_k - s grad f(y_k),
                y_k = x_k + beta (x_k - x_{k-1})

both started from rest, x_{-1} = x_0. The heavy ball takes the gradient
where it is; Nesterov's method first coasts along its last step and takes
the gradient there. On a quadratic whose Hessian has its eigenvalues in
[m, M], every eigenvector follows a two-term recursion of its own, and a
method's factor per step is the largest root of those recursions
(:func:`iteration_rate`); each method has a best (s, beta).
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


def nesterov(grad, x0, s: float, beta: float, n_steps: int) -> np.ndarray:
    """Nesterov's accelerated gradient; returns the path (n_steps + 1, d)."""
    x = x_prev = np.asarray(x0, dtype=np.float64)
    path = [x]
    for k in range(n_steps):
        y = x + beta * (x - x_prev)  # coast along the last step ...
        x, x_prev = y - s * grad(y), x  # ... then descend from there
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
    rm, rM = np.sqrt(m), np.sqrt(M)
    return float((rM - rm) / (rM + rm))


def nesterov_parameters(m: float, M: float) -> tuple[float, float]:
    """Nesterov's best step and momentum on a quadratic, eigenvalues in [m, M].

    s = 4 / (3M + m) and beta = (q - 2) / (q + 2) with q = sqrt(3 M/m + 1)
    (Lessard, Recht and Packard 2016, Proposition 1).
    """
    q = np.sqrt(3 * M / m + 1)
    return float(4 / (3 * M + m)), float((q - 2) / (q + 2))


def nesterov_rate(m: float, M: float) -> float:
    """1 - 2 / sqrt(3 M/m + 1): Nesterov's factor per step at its best."""
    return float(1 - 2 / np.sqrt(3 * M / m + 1))


def iteration_rate(eigenvalues, s: float, beta: float = 0.0, *,
                   nesterov: bool = False) -> float:
    """The factor per step of descent with momentum on a quadratic.

    beta = 0 is plain gradient descent with a fixed step s; otherwise the
    heavy ball, or Nesterov's method with ``nesterov=True``.

    Along an eigenvector with eigenvalue lam the error follows a recursion
    e_{k+1} = c e_k - c0 e_{k-1}: for the heavy ball c = 1 + beta - s lam
    and c0 = beta; for Nesterov c = (1 + beta)(1 - s lam) and
    c0 = beta (1 - s lam).
    Its factor per step is the largest |mu| among the roots of
    mu^2 - c mu + c0 = 0. With beta = 0 both are |1 - s lam|.
    """
    radii = []
    for lam in np.atleast_1d(eigenvalues):
        if nesterov:
            c, c0 = (1 + beta) * (1 - s * lam), beta * (1 - s * lam)
        else:
            c, c0 = 1 + beta - s * lam, beta
        radii.append(np.max(np.abs(np.roots([1.0, -c, c0]))))
    return float(max(radii))
