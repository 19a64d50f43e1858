"""Newton's method for a minimum: pure, damped, or with a line search.

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``):

    x_{k+1} = x_k - t H(x_k)^{-1} grad f(x_k)     (t = 1: pure Newton)

It needs the gradient and the Hessian H (not a "Jacobian": that word
belongs to Newton for a system F(x) = 0, and the Jacobian of F = grad f *is*
the Hessian). Newton seeks a zero of the gradient, so where H is not
positive definite it can head for a saddle or a maximum, or run away.
"""

from __future__ import annotations

import numpy as np


def newton(grad, hessian, x0, n_steps: int, *, t: float = 1.0,
           f=None) -> np.ndarray:
    """Newton's method; returns the path (n_steps + 1, d).

    ``t`` is a fixed damping of every step. With ``f`` given, t is chosen
    at each step by backtracking instead (Boyd & Vandenberghe, section
    9.5): start at 1 and halve until f(x + t d) <= f(x) + t/4 grad^T d.
    That needs a downhill Newton direction d; where there is none, no t
    helps, and a RuntimeError says so.
    """
    x = np.asarray(x0, dtype=np.float64)
    path = [x]
    for k in range(n_steps):
        g = np.atleast_1d(grad(x))
        d = -np.linalg.solve(np.atleast_2d(hessian(x)), g)  # Newton step
        t_k = t
        if f is not None and g.any():
            if g @ d >= 0:
                raise RuntimeError(
                    f"at x = {x} the Newton direction does not go downhill "
                    "(the Hessian is not positive definite there), so no "
                    "step length t can make f decrease")
            t_k = 1.0
            while f(x + t_k * d) > f(x) + 0.25 * t_k * (g @ d):
                t_k /= 2
        x = x + t_k * d
        path.append(x)
    return np.array(path)
