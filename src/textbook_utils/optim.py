"""Gradient descent, exact line search, momentum, Newton and SGD, in plain NumPy.

Used by the Strang chapters, "Gradient descent: downhill to a minimum"
(``book/strang/01_gradient_descent.ipynb``) and "Momentum, Newton and
stochastic gradient descent" (``book/strang/02_momentum_newton_sgd.ipynb``),
which follow MIT 18.065 lectures 22 and 23.

Every method returns the whole **path** ``x_0, x_1, ..., x_K`` as an array of
shape ``(K + 1, d)``, so a chapter can draw it over the contours and measure
how fast the error falls. The notation is Strang's:

    gradient descent   x_{k+1} = x_k - s_k grad f(x_k)          (s_k: step size at step k)
    heavy ball         x_{k+1} = x_k - s grad f(x_k) + beta (x_k - x_{k-1})
    Newton             x_{k+1} = x_k - t [Hessian f(x_k)]^{-1} grad f(x_k)   (t = 1: pure Newton)
    SGD                w_{k+1} = w_k - eta * (gradient of the loss on a mini-batch)

The model problem is f(x) = 1/2 x^T S x with S = diag(1, b)
(:func:`model_problem`), started at Strang's point (b, 1).
"""

from __future__ import annotations

import numpy as np

from .seeding import training_seed

__all__ = [
    "LeastSquares", "Quadratic", "exact_line_search", "exact_line_search_closed_form", "gradient_descent",
    "heavy_ball", "heavy_ball_parameters", "heavy_ball_rate", "iteration_rate", "measured_rate",
    "model_problem", "newton", "noise_ball", "sgd", "steepest_descent_rate", "strang_start",
]


def _vector(x, d: int | None, name: str) -> np.ndarray:
    """``x`` as a float64 vector of length ``d`` (any length when ``d`` is None)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a vector of numbers, got {type(x).__name__}")
    x = np.asarray(x)
    if x.dtype == bool or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if x.ndim != 1 or (d is not None and x.shape[0] != d):
        expected = f"({d},)" if d is not None else "(d,)"
        raise ValueError(f"{name} must have shape {expected}, got {x.shape}")
    return x.astype(np.float64)


def _count(n, name: str, minimum: int = 0) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n}")
    return int(n)


def _positive(v, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {v}")
    return float(v)


def _beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) or not 0 <= beta < 1:
        raise ValueError(f"beta must be a number in [0, 1), got {beta!r}")
    return float(beta)


class Quadratic:
    """f(x) = 1/2 x^T S x for a symmetric positive definite ``S`` of shape ``(d, d)``.

    Gradient S x, Hessian S (the same at every point), minimiser 0, and
    condition number lambda_max / lambda_min. ``f`` and ``grad`` accept one
    point ``(d,)`` or a stack of points ``(..., d)``, which is what contour
    plots need.
    """

    def __init__(self, S):
        S = np.asarray(S, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] != S.shape[1]:
            raise ValueError(f"S must be a square matrix (d, d), got shape {S.shape}")
        if not np.allclose(S, S.T):
            raise ValueError("S must be symmetric")
        eigenvalues = np.linalg.eigvalsh(S)  # ascending
        if eigenvalues[0] <= 0:
            raise ValueError(f"S must be positive definite; its smallest eigenvalue is {eigenvalues[0]}")
        self.S = S
        self.d = S.shape[0]
        self.eigenvalues = eigenvalues

    def f(self, x):
        x = np.asarray(x, dtype=np.float64)
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.S, x)

    def grad(self, x):
        return np.asarray(x, dtype=np.float64) @ self.S  # S is symmetric: (..., d)

    def hessian(self, x=None):
        return self.S.copy()

    @property
    def minimiser(self) -> np.ndarray:
        return np.zeros(self.d)

    @property
    def condition_number(self) -> float:
        return float(self.eigenvalues[-1] / self.eigenvalues[0])


def model_problem(b: float) -> Quadratic:
    """Strang's example f(x, y) = 1/2 (x^2 + b y^2), that is S = diag(1, b), b > 0."""
    return Quadratic(np.diag([1.0, _positive(b, "b")]))


def strang_start(b: float) -> np.ndarray:
    """Strang's starting point (x_0, y_0) = (b, 1)."""
    return np.array([_positive(b, "b"), 1.0])


def exact_line_search_closed_form(b: float, k):
    """Strang's closed forms for exact line search on :func:`model_problem` from (b, 1).

    With r = (b - 1) / (b + 1): x_k = b r^k, y_k = (-r)^k and f_k = r^(2k) f_0.
    ``k`` is a step number or an array of them; returns ``(x_k, y_k, f_k)``.
    """
    b = _positive(b, "b")
    k = np.asarray(k)
    if not np.issubdtype(k.dtype, np.integer) or np.any(k < 0):
        raise ValueError("k must be a non-negative integer step number (or an array of them)")
    r = (b - 1) / (b + 1)
    f0 = 0.5 * (b**2 + b)
    return b * r**k, (-r) ** k, r ** (2 * k) * f0


def steepest_descent_rate(lam_min: float, lam_max: float) -> float:
    """(M - m) / (M + m): the factor per step of the best fixed step, and of exact
    line search on the model problem from (b, 1). For eigenvalues {b, 1} it is |b - 1| / (b + 1)."""
    m, M = _positive(lam_min, "lam_min"), _positive(lam_max, "lam_max")
    if m > M:
        raise ValueError(f"lam_min must not exceed lam_max, got {m} > {M}")
    return (M - m) / (M + m)


def heavy_ball_parameters(lam_min: float, lam_max: float) -> tuple[float, float]:
    """The best heavy-ball step and momentum for eigenvalues in [m, M] (lecture 23):
    s = 4 / (sqrt(M) + sqrt(m))^2 and beta = ((sqrt(M) - sqrt(m)) / (sqrt(M) + sqrt(m)))^2."""
    steepest_descent_rate(lam_min, lam_max)  # checks the arguments
    rm, rM = np.sqrt(lam_min), np.sqrt(lam_max)
    return float(4 / (rM + rm) ** 2), float(((rM - rm) / (rM + rm)) ** 2)


def heavy_ball_rate(lam_min: float, lam_max: float) -> float:
    """(sqrt(M) - sqrt(m)) / (sqrt(M) + sqrt(m)); for eigenvalues {b, 1}: (1 - sqrt b) / (1 + sqrt b)."""
    steepest_descent_rate(lam_min, lam_max)
    return float((np.sqrt(lam_max) - np.sqrt(lam_min)) / (np.sqrt(lam_max) + np.sqrt(lam_min)))


def iteration_rate(eigenvalues, s: float, beta: float = 0.0) -> float:
    """The factor per step (spectral radius) of fixed-step descent or heavy ball on a quadratic.

    Along an eigenvector of S with eigenvalue lam, heavy ball is the 2-by-2
    recursion (x_{k+1}, x_k) = [[1 + beta - s lam, -beta], [1, 0]] (x_k, x_{k-1});
    the rate is the largest eigenvalue modulus over all lam. With ``beta = 0``
    it is max |1 - s lam|: the method converges when this is below 1.
    """
    lam = _vector(np.atleast_1d(eigenvalues), None, "eigenvalues")
    s = _positive(s, "s")
    beta = _beta(beta)
    radii = [np.max(np.abs(np.linalg.eigvals([[1 + beta - s * l, -beta], [1.0, 0.0]]))) for l in lam]
    return float(max(radii))


def measured_rate(errors, start: int, stop: int) -> float:
    """The average factor per step between two steps: (e_stop / e_start)^(1 / (stop - start)).

    ``errors`` is a sequence of positive errors e_0, e_1, ... (distances to the
    minimiser, or f_k - f_min); compare the result with a theoretical rate.
    """
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 1:
        raise ValueError(f"errors must be a 1-D sequence, got shape {e.shape}")
    start, stop = _count(start, "start"), _count(stop, "stop")
    if not start < stop < len(e):
        raise ValueError(f"need 0 <= start < stop < len(errors) = {len(e)}, got start={start}, stop={stop}")
    if e[start] <= 0 or e[stop] <= 0:
        raise ValueError("the errors at start and stop must be positive")
    return float((e[stop] / e[start]) ** (1 / (stop - start)))


def gradient_descent(grad, x0, s, n_steps: int) -> np.ndarray:
    """x_{k+1} = x_k - s_k grad(x_k) for k = 0 .. n_steps-1; returns the path ``(n_steps + 1, d)``.

    ``s`` is one step size used at every step, or a sequence of ``n_steps`` step
    sizes s_0, s_1, ... (k counts steps, not coordinates).
    """
    x = _vector(x0, None, "x0")
    n_steps = _count(n_steps, "n_steps")
    steps = np.full(n_steps, _positive(s, "s")) if np.ndim(s) == 0 else np.asarray(s, dtype=np.float64)
    if steps.shape != (n_steps,):
        raise ValueError(f"s must be a number or a sequence of n_steps={n_steps} step sizes, got shape {steps.shape}")
    if np.any(steps <= 0):
        raise ValueError("every step size s_k must be positive")
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


def heavy_ball(grad, x0, s: float, beta: float, n_steps: int) -> np.ndarray:
    """Polyak's heavy ball, x_{k+1} = x_k - s grad(x_k) + beta (x_k - x_{k-1}), with x_{-1} = x_0.

    Strang writes the same method as x_{k+1} = x_k - s z_k, z_k = grad(x_k) + beta z_{k-1}.
    Returns the path ``(n_steps + 1, d)``.
    """
    x = _vector(x0, None, "x0")
    s = _positive(s, "s")
    beta = _beta(beta)
    previous, path = x, [x]
    for _ in range(_count(n_steps, "n_steps")):
        x, previous = x - s * grad(x) + beta * (x - previous), x
        path.append(x)
    return np.array(path)


def newton(grad, hessian, x0, n_steps: int, *, t: float = 1.0, f=None) -> np.ndarray:
    """Newton's method for a minimum: x_{k+1} = x_k - t H(x_k)^{-1} grad(x_k).

    It needs the gradient and the Hessian (not a "Jacobian": that word belongs
    to Newton for a system F(x) = 0, and the Jacobian of F = grad f *is* the
    Hessian). ``t = 1`` is pure Newton; a fixed damping ``t`` in (0, 1] shortens
    every step. With ``f`` given, t is chosen at each step by backtracking
    instead: start at 1 and halve until f decreases enough (Armijo,
    f(x + t d) <= f(x) + t/4 grad^T d); that needs a downhill Newton direction,
    and RuntimeError says so when there is none. Newton seeks a zero of the gradient, so
    where the Hessian is not positive definite it can head for a saddle or a
    maximum, or run away. Returns the path ``(n_steps + 1, d)``.
    """
    x = _vector(x0, None, "x0")
    t = _positive(t, "t")
    if t > 1:
        raise ValueError(f"the damping t must be in (0, 1], got {t}")
    path = [x]
    for _ in range(_count(n_steps, "n_steps")):
        g = np.atleast_1d(grad(x))
        H = np.atleast_2d(hessian(x))
        d = -np.linalg.solve(H, g)  # the Newton direction
        t_k = t
        if f is not None and g @ d < 0:
            t_k = 1.0
            while f(x + t_k * d) > f(x) + 0.25 * t_k * (g @ d):
                t_k /= 2
        elif f is not None and np.any(g != 0):
            raise RuntimeError(f"at x = {x} the Newton direction does not go downhill (the Hessian is "
                               "not positive definite there); no step size t can make it decrease f")
        x = x + t_k * d
        path.append(x)
    return np.array(path)


class LeastSquares:
    """The loss f(w) = 1/(2n) ||A w - y||^2 of fitting ``A w`` to ``y``.

    ``A`` is ``(n, d)`` (one row per example), ``y`` is ``(n,)``. The gradient
    on a mini-batch of rows ``idx`` is (1/|idx|) A_idx^T (A_idx w - y_idx); with
    all rows it is the full gradient, and averaged over a random batch it equals
    the full gradient on average (an unbiased estimate).
    """

    def __init__(self, A, y):
        A = np.asarray(A, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if A.ndim != 2:
            raise ValueError(f"A must have shape (n, d), got {A.shape}")
        if y.shape != (A.shape[0],):
            raise ValueError(f"y must have shape ({A.shape[0]},), got {y.shape}")
        self.A, self.y = A, y
        self.n, self.d = A.shape

    def f(self, w):
        residual = np.asarray(w, dtype=np.float64) @ self.A.T - self.y  # (..., n)
        return 0.5 * np.mean(residual**2, axis=-1)

    def grad(self, w, idx=None):
        A, y = (self.A, self.y) if idx is None else (self.A[idx], self.y[idx])
        return A.T @ (A @ w - y) / len(y)  # (d,)

    def hessian(self, w=None):
        return self.A.T @ self.A / self.n

    @property
    def minimiser(self) -> np.ndarray:
        return np.linalg.lstsq(self.A, self.y, rcond=None)[0]


def sgd(problem: LeastSquares, w0, eta: float, batch_size: int, n_steps: int, *, seed: int = 0) -> np.ndarray:
    """Mini-batch SGD on a least-squares loss: w_{k+1} = w_k - eta * (gradient on mini-batch k).

    Each mini-batch is ``batch_size`` distinct examples drawn at random, afresh
    at every step, so each step's gradient is an unbiased estimate of the full
    gradient. (Nielsen's ``network.py`` instead shuffles once per epoch and
    walks through the batches in order; on average both see every example
    equally often.) Returns the path ``(n_steps + 1, d)``.
    """
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem must be a LeastSquares, got {type(problem).__name__}")
    w = _vector(w0, problem.d, "w0")
    eta = _positive(eta, "eta")
    batch_size = _count(batch_size, "batch_size", minimum=1)
    if batch_size > problem.n:
        raise ValueError(f"batch_size must be at most the number of examples {problem.n}, got {batch_size}")
    rng = np.random.default_rng(training_seed(_count(seed, "seed")))
    path = [w]
    for _ in range(_count(n_steps, "n_steps")):
        idx = rng.choice(problem.n, size=batch_size, replace=False)  # (batch_size,)
        w = w - eta * problem.grad(w, idx)
        path.append(w)
    return np.array(path)


def noise_ball(problem: LeastSquares, eta: float, batch_size: int) -> float:
    """Predicted mean of ||w_k - w*||^2 once SGD has settled, for a small learning rate.

    Near the minimiser w*, SGD is w_{k+1} - w* = (I - eta H)(w_k - w*) - eta xi_k
    with zero-mean gradient noise xi_k of covariance C_B = C / B * (n - B)/(n - 1),
    where C is the covariance of the per-example gradients at w* and H the
    Hessian. Keeping the terms of first order in eta, the settled covariance
    Sigma solves H Sigma + Sigma H = eta C_B, whose trace is
    (eta / 2) trace(H^{-1} C_B): proportional to eta / B.
    """
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem must be a LeastSquares, got {type(problem).__name__}")
    eta = _positive(eta, "eta")
    B = _count(batch_size, "batch_size", minimum=1)
    n = problem.n
    if B > n or n < 2:
        raise ValueError(f"batch_size must be in [1, n] with n >= 2 examples, got {B} of {n}")
    w_star = problem.minimiser
    G = problem.A * (problem.A @ w_star - problem.y)[:, None]  # (n, d): per-example gradients at w*
    C = G.T @ G / n  # (d, d); they average to zero at w*
    C_B = C / B * (n - B) / (n - 1)
    return float(eta / 2 * np.trace(np.linalg.solve(problem.hessian(), C_B)))
