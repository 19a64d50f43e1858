"""A neural network from scratch in NumPy: forward pass, backpropagation, SGD.

Used by the 3Blue1Brown chapters 1-4 (``book/3b1b/01``-``04``) and both
Nielsen chapters (``book/nielsen/``). Chapter 4 and "Learning to recognise
digits" show the source of :meth:`Network.backprop`,
:meth:`Network.update_mini_batch` and :meth:`Network.SGD`, and walk through
it. The math checks nothing; what a reader hands the doors (the
constructor, ``SGD``, ``evaluate``, ``total_cost``) is checked once, as it
comes in, by :mod:`textbook_utils.training.network_doors`. Names are the
equations' and those of Nielsen's ``network.py``: ``weights``, ``biases``,
``delta``, ``nabla_b``, ``nabla_w``, ``eta``.

Activations are **columns**, as in the layer equation

    a^l = sigma(W^l a^(l-1) + b^l),   W^l: (n_l, n_(l-1)),  b^l: (n_l, 1),

and a mini-batch of B examples is B columns side by side, ``(n, B)``: one
matrix product per layer handles the whole batch, and ``+ b`` broadcasts the
bias column across it. ``load_mnist`` gives images as rows ``(N, 784)``, so a
batch of them goes in as ``X.T``.

Python counts from 0 and the book from 1: ``weights[l - 1]`` is W^l,
``biases[l - 1]`` is b^l, ``zs[l - 1]`` is z^l, and ``activations[l]`` is
a^l, with a^0 the input.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.special import expit

from textbook_utils.tools.seeding import training_seed
from textbook_utils.training.network_doors import (COSTS, check_data,
                                                   check_network, check_sgd,
                                                   stop_if_diverged)

__all__ = ["COSTS", "Network", "one_hot", "relu", "sigmoid",
           "sigmoid_prime"]


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^-z), elementwise.

    SciPy's ``expit`` is this function, computed in one pass and without
    the overflow of e^-z for z < -709 (-88 in float32).
    """
    return expit(z)


def sigmoid_prime(z):
    """The sigmoid's derivative, sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1 - s)


def relu(z):
    """The rectified linear unit, max(0, z), elementwise."""
    return np.maximum(z, 0)


def one_hot(labels, n_classes: int = 10, dtype=np.float64) -> np.ndarray:
    """Integer labels ``(B,)`` in 0..n_classes-1 as target columns
    ``(n_classes, B)``: a single 1 in each column, at the label's row."""
    Y = np.zeros((n_classes, len(labels)), dtype=dtype)  # (n_classes, B)
    Y[labels, np.arange(len(labels))] = 1
    return Y


class Network:
    """A fully connected network of sigmoid neurons, e.g. ``[784, 30, 10]``.

    W^l = ``weights[l - 1]`` has shape ``(sizes[l], sizes[l - 1])`` (row j:
    the weights into neuron j), b^l = ``biases[l - 1]`` has ``(sizes[l], 1)``.
    They start random, from ``seed``: biases N(0, 1), weights N(0, 1/n_in),
    so that weighted inputs start where the sigmoid is not flat (Nielsen,
    chapter 3). ``cost`` is what learning minimises for an example with
    one-hot target y: ``"quadratic"``, 1/2 ||a^L - y||^2 (Nielsen's eq. 6),
    or ``"cross_entropy"``, -sum_j [y_j ln a_j + (1-y_j) ln(1-a_j)] (eq. 63).
    """

    def __init__(self, sizes, *, seed: int | None = 0, dtype=np.float64,
                 cost: str = "quadratic"):
        self.sizes, self.dtype, self.cost = check_network(sizes, dtype, cost)
        self.num_layers = len(self.sizes)
        rng = np.random.default_rng(seed)
        self.biases = [rng.standard_normal((n, 1)).astype(self.dtype)
                       for n in self.sizes[1:]]
        self.weights = [(rng.standard_normal((n, m)) / np.sqrt(m))
                        .astype(self.dtype)
                        for m, n in zip(self.sizes[:-1], self.sizes[1:])]

    @property
    def num_params(self) -> int:
        """How many weights and biases, counted from the arrays."""
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases))

    def __repr__(self):
        return (f"Network({self.sizes}, cost={self.cost!r}, dtype="
                f"{self.dtype.name}): {self.num_params:,} parameters")

    def forward(self, x):
        """Run the network on x, keeping every layer: ``(zs, activations)``.

        x is one input (n_0,) or B inputs as columns (n_0, B). zs[l-1] is
        z^l = W^l a^(l-1) + b^l and activations[l] is a^l = sigma(z^l), each
        (n_l, B); activations[0] is the input, as a column if it was one.
        """
        a = np.asarray(x, dtype=self.dtype)
        a = a.reshape(len(a), -1)  # one input (n_0,) -> (n_0, 1)
        zs, activations = [], [a]
        for W, b in zip(self.weights, self.biases):
            z = W @ a + b  # (n_l, n_(l-1)) @ (n_(l-1), B) + (n_l, 1)
            a = sigmoid(z)  # (n_l, B)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def feedforward(self, x):
        """The output activations: (n_L,) for one input, else (n_L, B)."""
        a_L = self.forward(x)[1][-1]
        return a_L[:, 0] if np.ndim(x) == 1 else a_L

    def predict(self, x):
        """The digit each input is read as: the brightest output neuron."""
        return np.argmax(self.feedforward(x), axis=0)

    def backprop(self, x, y):
        """Gradient of the cost averaged over a mini-batch: (nabla_b, nabla_w).

        x: B inputs as columns (n_0, B); y: their B integer labels, or
        their targets as columns (n_L, B), as in Nielsen's network.py.
        nabla_b[l-1] = dC/db^l and nabla_w[l-1] = dC/dW^l have the shapes
        of b^l and W^l. delta^l = dC/dz^l has shape (n_l, B).
        """
        _, activations = self.forward(x)  # every layer's a, kept
        Y = y if np.ndim(y) == 2 else one_hot(y, self.sizes[-1], self.dtype)
        B, L = Y.shape[1], self.num_layers - 1
        nabla_b, nabla_w = [None] * L, [None] * L
        # BP1, for the batch's average cost (1/B) sum_x C_x: each column
        # is one example's delta^L divided by B
        delta = self.output_error(activations[-1], Y) / B  # (n_L, B)
        for l in range(L, 0, -1):  # l = L, L-1, ..., 1: backwards
            a = activations[l - 1]  # a^(l-1), (n_(l-1), B)
            nabla_b[l - 1] = delta.sum(axis=1, keepdims=True)  # BP3
            nabla_w[l - 1] = delta @ a.T  # BP4; @ sums over the B columns
            if l > 1:  # BP2: delta^(l-1), with sigma'(z^(l-1)) = a (1 - a)
                delta = (self.weights[l - 1].T @ delta) * a * (1 - a)
        return nabla_b, nabla_w

    def output_error(self, a_L, Y):
        """BP1: delta^L = nabla_a C * sigma'(z^L), for this network's cost.

        sigma'(z) = sigma(z) (1 - sigma(z)) = a (1 - a): the output
        activation already holds it. Quadratic cost: nabla_a C = a - y.
        Cross-entropy: nabla_a C = (a - y) / (a (1 - a)), which sigma'
        cancels.
        """
        if self.cost == "cross_entropy":
            return a_L - Y
        return (a_L - Y) * a_L * (1 - a_L)

    def update_mini_batch(self, x, y, eta):
        """One step of gradient descent on the mini-batch (x, y): y as for
        :meth:`backprop`, labels or target columns."""
        nabla_b, nabla_w = self.backprop(x, y)
        for W, b, nw, nb in zip(self.weights, self.biases, nabla_w, nabla_b):
            W -= eta * nw  # W <- W - eta dC/dW
            b -= eta * nb  # b <- b - eta dC/db

    def SGD(self, training_data, epochs, mini_batch_size, eta,
            test_data=None, *, seed: int | None = 0, verbose: bool = False,
            monitor_cost: bool = False) -> dict:
        """Stochastic gradient descent: epochs of shuffled mini-batch steps.

        training_data, test_data: (X, y) as from load_mnist, X (N, n_0) with
        one example per row, y (N,) labels. seed orders the mini-batches.
        The arguments are checked once, before any work. Returns lists per
        epoch: "epoch", "train_seconds", with test_data "test_correct" and
        "test_accuracy", with monitor_cost "train_cost". Raises
        FloatingPointError if training diverges (a weight or the cost no
        longer finite).
        """
        (X, labels), epochs, mini_batch_size, eta, test_data = check_sgd(
            self, training_data, epochs, mini_batch_size, eta, test_data)
        rng = np.random.default_rng(training_seed(seed))
        targets = one_hot(labels, self.sizes[-1], self.dtype)  # (n_L, N)
        history = {"epoch": [], "train_seconds": [], "test_correct": [],
                   "test_accuracy": [], "train_cost": []}
        for epoch in range(epochs):
            start = time.perf_counter()
            order = rng.permutation(len(X))  # a new shuffle every epoch
            for k in range(0, len(X), mini_batch_size):
                batch = order[k:k + mini_batch_size]  # B example numbers
                # the batch as columns: inputs (n_0, B), targets (n_L, B)
                self.update_mini_batch(X[batch].T, targets[:, batch], eta)
            stop_if_diverged(self, X[batch].T, labels[batch], epoch, eta)
            history["epoch"].append(epoch)
            history["train_seconds"].append(time.perf_counter() - start)
            if test_data is not None:
                X_test, y_test = test_data
                correct = int(np.sum(self.predict(X_test.T) == y_test))
                history["test_correct"].append(correct)
                history["test_accuracy"].append(correct / len(y_test))
                if verbose:
                    print(f"Epoch {epoch}: {correct} / {len(y_test)}")
            if monitor_cost:
                history["train_cost"].append(self.average_cost(X.T, labels))
        return {key: values for key, values in history.items() if values}

    def evaluate(self, test_data) -> int:
        """How many examples of (X, y) the network gets right."""
        X, y = check_data(test_data, self, "test_data")
        return int(np.sum(self.predict(X.T) == y))

    def total_cost(self, data) -> float:
        """The cost averaged over the examples of (X, y): (1/n) sum_x C_x."""
        X, y = check_data(data, self, "data")
        return self.average_cost(X.T, y)

    def average_cost(self, x, y) -> float:
        """The cost averaged over the columns of x (n_0, N), with labels y."""
        a, Y = self.feedforward(x), one_hot(y, self.sizes[-1])  # (n_L, N)
        if self.cost == "quadratic":
            return 0.5 * float(np.sum((a - Y) ** 2)) / len(y)
        with np.errstate(divide="ignore"):  # a saturated wrong output: inf
            p = np.where(Y == 1, a, 1 - a)  # the probability given to y_j
            return -float(np.sum(np.log(p))) / len(y)

