"""Running an update rule of the Strang chapters, checked once at the door.

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``) with the rules of
:mod:`textbook_utils.lessons.optim.adaptive` (SGD, momentum, RMSProp, Adam),
which hold only their arithmetic: :func:`descend` checks a rule's settings
and the step count before the first step; :func:`sgd`, stochastic gradient
descent on a least-squares problem, checks its own.
"""

from __future__ import annotations

import numpy as np

from textbook_utils.tools.checks import (fraction, non_negative_int,
                                         positive_int, positive_number)
from textbook_utils.tools.seeding import training_seed

#: the settings a rule may have, and the check each must pass
SETTINGS = {"eta": positive_number, "eps": positive_number,
            "beta": fraction, "rho": fraction,
            "beta1": fraction, "beta2": fraction}


def check_rule(rule):
    """``rule`` if every setting it has passes its check (a ValueError
    naming the setting otherwise)."""
    for name, check in SETTINGS.items():
        if hasattr(rule, name):
            check(getattr(rule, name), name)
    return rule


def descend(rule, grad, x0, n_steps: int) -> np.ndarray:
    """x_{k+1} = rule.step(x_k, grad(x_k)); the path (n_steps + 1, d)."""
    check_rule(rule)
    n_steps = non_negative_int(n_steps, "n_steps")
    x = np.asarray(x0, dtype=np.float64)
    path = [x]
    for _ in range(n_steps):
        x = rule.step(x, grad(x))
        path.append(x)
    return np.array(path)


def sgd(problem, w0, eta: float, batch_size: int,
        n_steps: int, *, seed: int = 0) -> np.ndarray:
    """Mini-batch SGD on a least-squares problem (a
    :class:`~textbook_utils.lessons.optim.stochastic.LeastSquares`); returns
    the path (n_steps + 1, d).

    Each mini-batch is ``batch_size`` distinct examples drawn afresh at
    every step, so each step's gradient is an unbiased estimate of the full
    gradient. (Nielsen's ``network.py`` instead shuffles once per epoch and
    walks through the batches in order.) The draws start from
    ``training_seed(seed)``, so $TEXTBOOK_SEED_OFFSET moves them.
    """
    eta = positive_number(eta, "eta")
    batch_size = positive_int(batch_size, "batch_size")
    rng = np.random.default_rng(training_seed(seed))
    w = np.asarray(w0, dtype=np.float64)
    path = [w]
    for k in range(n_steps):
        idx = rng.choice(problem.n, size=batch_size, replace=False)  # (B,)
        w = w - eta * problem.grad(w, idx)
        path.append(w)
    return np.array(path)
