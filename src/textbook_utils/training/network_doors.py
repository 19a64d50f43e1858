"""The doors of the NumPy network, checked once before any work.

:class:`textbook_utils.lessons.scratch.Network` holds only the math of the
3Blue1Brown and Nielsen chapters; what a reader hands it is checked here,
where it comes in: the layer sizes and settings of the constructor
(:func:`check_network`, also :func:`check_sizes` for the PyTorch ``MLP``),
the data and settings of ``SGD`` (:func:`check_sgd`), the data of
``evaluate`` and ``total_cost`` (:func:`check_data`), and, once an epoch,
whether training has diverged (:func:`stop_if_diverged`).
"""

from __future__ import annotations

import numpy as np

from textbook_utils.tools.checks import (finite_array, positive_int,
                                         positive_number)

__all__ = ["COSTS", "check_data", "check_network", "check_sgd",
           "check_sizes", "stop_if_diverged"]

#: the costs a Network can minimise
COSTS = ("quadratic", "cross_entropy")


def check_sizes(sizes) -> list[int]:
    """Layer sizes such as ``[784, 16, 16, 10]`` as ints (also for MLP)."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a list of layer sizes such as "
                        f"[784, 16, 16, 10], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"a network needs at least an input and an output "
                         f"layer, got sizes={list(sizes)}")
    return [positive_int(n, f"every layer size in {list(sizes)}")
            for n in sizes]


def check_network(sizes, dtype, cost):
    """A Network's ``(sizes, dtype, cost)``, checked: sizes as ints, dtype
    float32 or float64 (as a NumPy dtype), cost one of :data:`COSTS`."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    return check_sizes(sizes), dtype, cost


def check_data(data, net, name: str):
    """(X, y) for ``net``, checked before any work starts; X in net's dtype.

    X: (N, n_0) finite inputs in [0, 1], one example per row (raw 0-255
    pixels are the likely mistake);
    y: (N,) integer labels in 0..n_L - 1.
    """
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (X, y) as returned by "
                        f"load_mnist, got {type(data).__name__}")
    X, y = np.asarray(data[0]), np.asarray(data[1])
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} X must hold numbers, got dtype {X.dtype}")
    n_0, n_L = net.sizes[0], net.sizes[-1]
    if X.ndim != 2 or X.shape[1] != n_0 or len(X) == 0:
        hint = (" (examples as columns? pass X.T)"
                if X.ndim == 2 and X.shape[0] == n_0 else "")
        raise ValueError(f"{name}: X must have shape (N, {n_0}), one example "
                         f"per row, N >= 1; got {X.shape}{hint}")
    lo, hi = X.min(), X.max()  # two passes; NaN fails both tests below
    if not (0 <= lo and hi <= 1):
        finite_array(X, f"{name} X")  # NaN or infinity: say so
        raise ValueError(f"{name}: X lies in {lo:g}..{hi:g}; "
                         f"inputs must be scaled to [0, 1], brightnesses "
                         f"as the chapters use them (raw 0-255 pixels? "
                         f"divide by 255, or use load_mnist's floats, "
                         f"without raw=True)")
    if y.shape != (len(X),) or y.dtype.kind not in "iu":
        raise ValueError(f"{name}: y must be {len(X)} integer labels, shape "
                         f"({len(X)},); got {y.dtype} of shape {y.shape}")
    if not (0 <= y.min() and y.max() < n_L):
        raise ValueError(f"{name}: labels must lie in 0..{n_L - 1}, got "
                         f"{y.min()}..{y.max()}")
    return X.astype(net.dtype, copy=False), y


def check_sgd(net, training_data, epochs, mini_batch_size, eta, test_data):
    """The arguments of ``Network.SGD``, checked (:func:`check_data` for
    both data sets) and returned in the same order."""
    return (check_data(training_data, net, "training_data"),
            positive_int(epochs, "epochs"),
            positive_int(mini_batch_size, "mini_batch_size"),
            positive_number(eta, "eta (the learning rate)"),
            None if test_data is None
            else check_data(test_data, net, "test_data"))


def stop_if_diverged(net, x, y, epoch, eta):
    """Raise FloatingPointError if a weight of ``net`` is no longer finite
    or its cost on (x, y) is NaN: a step size too large has blown the
    weights up, and nothing after that is learning. (An infinite
    cross-entropy alone is not that: one saturated wrong output gives it.)
    """
    with np.errstate(all="ignore"):
        cost = net.average_cost(x, y)
    params = net.weights + net.biases
    if np.isnan(cost) or not all(np.isfinite(P).all() for P in params):
        raise FloatingPointError(
            f"training diverged in epoch {epoch} with eta = {eta:g}: "
            f"the cost of the last mini-batch is {cost} and the weights "
            f"are not all finite; try a smaller eta")
