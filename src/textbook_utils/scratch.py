"""A neural network from scratch in NumPy, in the notation of the book.

Chapter "But what is a neural network?" (``book/3b1b/01_what_is_a_neural_network.ipynb``)
builds the 784-16-16-10 network of 3Blue1Brown's first video with this class
and runs it forward. The names follow the book and Nielsen's ``network.py``:
``sizes``, ``weights``, ``biases``, ``feedforward``.

Activations are **columns**, exactly as in the layer equation

    a' = sigma(W a + b),   W: (m, n),  a: (n, 1),  b: (m, 1),  a': (m, 1)

and a mini-batch of B examples is B columns side by side, ``a: (n, B)``, so
that one matrix product ``W @ a`` handles the whole batch and ``+ b``
broadcasts the bias column across it. MNIST comes from
:func:`textbook_utils.data.load_mnist` as rows ``(N, 784)``: pass ``X.T``.

Learning (chapters "Gradient descent", "Backpropagation, the intuition" and
"Backpropagation calculus", ``book/3b1b/02``–``04``, and Nielsen's chapter 1)
adds ``backprop``, ``SGD`` and ``evaluate``. Backpropagation runs on a whole
mini-batch at once: one matrix product per layer per mini-batch, where
Nielsen's ``network.py`` loops over the examples one by one. The four
equations, for layers l = L, L-1, ..., 1 (``*`` is the elementwise product):

    delta^L = dC/da^L * sigma'(z^L)                       (output error)
    delta^l = (W^(l+1).T @ delta^(l+1)) * sigma'(z^l)     (error, backwards)
    dC/db^l = delta^l,      dC/dW^l = delta^l @ a^(l-1).T

With B examples as columns, ``delta^l`` is ``(m, B)`` and the products above
sum over the batch; dividing by B gives the gradient of the **average** cost.
"""

from __future__ import annotations

import time

import numpy as np

from .checks import positive_int
from .seeding import training_seed

__all__ = ["COSTS", "Network", "check_sizes", "one_hot", "relu", "sigmoid", "sigmoid_prime"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function sigma(z) = 1 / (1 + e^(-z)), elementwise, in (0, 1).

    Computed as exp(-log(1 + e^(-z))) so that it never overflows, and keeps
    the dtype of ``z`` (float32 stays float32).
    """
    return np.exp(-np.logaddexp(0, -np.asarray(z)))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid: sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z: np.ndarray) -> np.ndarray:
    """The Rectified Linear Unit, ReLU(z) = max(0, z), elementwise."""
    return np.maximum(z, 0)


_DTYPES = (np.float32, np.float64)
COSTS = ("quadratic", "cross_entropy")


def one_hot(labels, n_classes: int = 10, dtype=np.float64) -> np.ndarray:
    """Integer labels ``(B,)`` as target columns ``(n_classes, B)``: a single 1 per column.

    This is the *target* y that training pulls the output activations toward.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be a 1-D array of integers, got dtype {labels.dtype}, shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}")
    Y = np.zeros((n_classes, labels.size), dtype=dtype)  # (10, B)
    Y[labels, np.arange(labels.size)] = 1
    return Y


def _sigmoid_(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^(-z)) computed in place in ``z``.

    Call it under ``np.errstate(over="ignore")``: e^(-z) overflows for z << 0.
    The callers of :meth:`Network._backprop` enter that context once (``SGD``
    once per epoch), not once per mini-batch, where it would cost several
    percent of an epoch.
    """
    np.negative(z, out=z)
    np.exp(z, out=z)  # may overflow to inf for z << 0; 1 / (1 + inf) = 0 is then exact
    z += 1
    return np.reciprocal(z, out=z)


def check_sizes(sizes) -> list[int]:
    """Validate layer sizes such as ``[784, 16, 16, 10]`` and return them as ints.

    Shared by :class:`Network` and :class:`textbook_utils.models.MLP`.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a list of layer sizes such as [784, 16, 16, 10], got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"a network needs at least an input and an output layer, got sizes={sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"every layer size must be a positive integer, got sizes={sizes}")
    return [int(s) for s in sizes]


class Network:
    """A fully connected network of sigmoid neurons.

    ``Network([784, 16, 16, 10])`` has an input layer of 784 activations (no
    weights, no biases), two hidden layers of 16 neurons and 10 outputs.

    - ``weights[l]`` has shape ``(sizes[l+1], sizes[l])``: row j holds the
      weights *into* neuron j of the next layer;
    - ``biases[l]`` has shape ``(sizes[l+1], 1)``.

    The parameters start random, drawn from ``seed``: biases from a standard
    normal, weights from a normal with standard deviation ``1/sqrt(n_in)`` so
    that the weighted sums start in the sigmoid's sensitive range rather than
    saturated (Nielsen, chapter 3, "weight initialization").

    ``cost`` is what learning minimises, per example x with one-hot target y:

    - ``"quadratic"``: C_x = 1/2 ||a^L - y||^2, Nielsen's eq. (6) — the video's
      sum of squared differences, with Nielsen's factor 1/2 (it only halves
      the gradient, i.e. rescales the learning rate eta);
    - ``"cross_entropy"``: C_x = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)],
      Nielsen's eq. (63), whose output error is simply delta^L = a^L - y.
    """

    def __init__(self, sizes, *, seed: int | None = 0, dtype=np.float64, cost: str = "quadratic"):
        sizes = check_sizes(sizes)
        dtype = np.dtype(dtype)
        if dtype not in [np.dtype(d) for d in _DTYPES]:
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        if cost not in COSTS:
            raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
        self.cost = cost
        self.sizes = sizes
        self.num_layers = len(sizes)
        self.dtype = dtype
        rng = np.random.default_rng(seed)
        self.biases = [rng.standard_normal((m, 1)).astype(dtype) for m in self.sizes[1:]]
        self.weights = [
            (rng.standard_normal((m, n)) / np.sqrt(n)).astype(dtype)
            for n, m in zip(self.sizes[:-1], self.sizes[1:])
        ]

    # ------------------------------------------------------------------ size

    @property
    def num_params(self) -> int:
        """Number of weights plus biases, counted from the arrays themselves."""
        return sum(w.size for w in self.weights) + sum(b.size for b in self.biases)

    def __repr__(self) -> str:
        return (f"Network({self.sizes}, dtype={self.dtype.name}, cost={self.cost!r}, "
                f"{self.num_params:,} parameters)")

    # ------------------------------------------------------------------ forward

    def _as_columns(self, a) -> tuple[np.ndarray, bool]:
        """Check an input and return it as a (n, B) array, and whether it was a vector."""
        a = np.asarray(a)
        if a.dtype.kind not in "fiub":
            raise TypeError(f"input activations must be numbers, got dtype {a.dtype}")
        n = self.sizes[0]
        if a.ndim == 1:
            if a.shape[0] != n:
                raise ValueError(f"input has {a.shape[0]} activations; this network expects {n}")
            return a.reshape(n, 1).astype(self.dtype, copy=False), True
        if a.ndim == 2 and a.shape[0] == n:
            return a.astype(self.dtype, copy=False), False
        hint = " (one example per row? pass X.T: examples are columns)" if a.ndim == 2 and a.shape[1] == n else ""
        raise ValueError(
            f"input has shape {a.shape}; expected ({n},) for one example or ({n}, B) "
            f"for B examples as columns{hint}"
        )

    def forward(self, a) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Run the network and keep every layer: returns ``(zs, activations)``.

        ``activations[0]`` is the input as columns ``(n, B)``; for each layer l,
        ``zs[l] = W a + b`` (the weighted inputs) and
        ``activations[l+1] = sigma(zs[l])``. Backpropagation needs both lists.
        """
        a, _ = self._as_columns(a)
        activations = [a]  # a^(0): (784, B)
        zs = []
        for W, b in zip(self.weights, self.biases):
            z = W @ a + b  # (m, n) @ (n, B) + (m, 1) -> (m, B)
            a = sigmoid(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def feedforward(self, a) -> np.ndarray:
        """The output layer's activations for input ``a``.

        ``a`` of shape ``(n,)`` gives ``(10,)``-style output; ``(n, B)`` gives ``(10, B)``.
        """
        cols, was_vector = self._as_columns(a)
        for W, b in zip(self.weights, self.biases):
            cols = sigmoid(W @ cols + b)
        return cols[:, 0] if was_vector else cols

    def predict(self, a) -> np.ndarray | int:
        """The digit each input is classified as: the brightest output neuron."""
        out = self.feedforward(a)
        return int(np.argmax(out)) if out.ndim == 1 else np.argmax(out, axis=0)

    # ------------------------------------------------------------------ learning

    def _targets(self, y, batch: int) -> np.ndarray:
        """Targets as one-hot columns ``(n_out, B)`` from int labels ``(B,)`` or floats ``(n_out, B)``."""
        y = np.asarray(y)
        n_out = self.sizes[-1]
        if y.ndim == 1 and y.dtype.kind in "iu":
            if y.shape[0] != batch:
                raise ValueError(f"got {y.shape[0]} labels for {batch} examples")
            return one_hot(y, n_out, self.dtype)
        if y.ndim == 2 and y.dtype.kind == "f" and y.shape == (n_out, batch):
            return y.astype(self.dtype, copy=False)
        raise ValueError(
            f"targets have shape {y.shape} and dtype {y.dtype}; expected integer labels ({batch},) "
            f"or one-hot columns ({n_out}, {batch})"
        )

    def backprop(self, x, y) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The gradient of the cost **averaged over the mini-batch**: ``(nabla_b, nabla_w)``.

        ``x`` is a mini-batch of B examples as columns ``(n_in, B)`` (or one
        example ``(n_in,)``); ``y`` holds their targets, either one-hot columns
        ``(n_out, B)`` or integer labels ``(B,)``. ``nabla_b[l]`` and
        ``nabla_w[l]`` have the shapes of ``biases[l]`` and ``weights[l]``:
        the partial derivatives of C = (1/B) sum_x C_x.
        """
        x, _ = self._as_columns(x)  # (n_in, B)
        Y = self._targets(y, x.shape[1])  # (n_out, B)
        with np.errstate(over="ignore"):
            return self._backprop(x, Y, 1.0 / x.shape[1])

    def _backprop(self, x, Y, scale, update: bool = False):
        """Backpropagation for one mini-batch: ``scale`` times the gradient summed over it.

        ``scale = 1/B`` gives the gradient of the average cost. With
        ``update=True`` (used by :meth:`SGD`, with ``scale = eta/B``) each layer is
        moved, W <- W - scale * sum_x dC_x/dW, as soon as its gradient and the
        error of the layer below are known, and nothing is returned.
        """
        activations = [x]  # a^(0): (n_in, B)
        for W, b in zip(self.weights, self.biases):
            z = W @ activations[-1]  # (m, n) @ (n, B) -> (m, B)
            z += b  # + (m, 1), broadcast over the batch
            activations.append(_sigmoid_(z))  # a = sigma(z), computed in z's memory
        a = activations[-1]  # a^L: (n_out, B)
        delta = a - Y  # cross-entropy: delta^L = a^L - y
        if self.cost == "quadratic":
            sp = 1 - a
            sp *= a  # sigma'(z^L) = a (1 - a)
            delta *= sp  # delta^L = (a^L - y) * sigma'(z^L)
        delta *= scale
        nabla_b, nabla_w = [None] * len(self.weights), [None] * len(self.weights)
        for l in range(len(self.weights) - 1, -1, -1):
            a_prev = activations[l]  # (n, B)
            nb = delta.sum(axis=1, keepdims=True)  # (m, 1): summed over the batch
            nw = delta @ a_prev.T  # (m, B) @ (B, n) -> (m, n)
            if l > 0:  # the error of the layer below, using W before this step's update
                delta = self.weights[l].T @ delta  # (n, m) @ (m, B) -> (n, B)
                sp = 1 - a_prev
                sp *= a_prev
                delta *= sp  # times sigma'(z^(l-1))
            if update:
                self.weights[l] -= nw
                self.biases[l] -= nb
            else:
                nabla_b[l], nabla_w[l] = nb, nw
        return None if update else (nabla_b, nabla_w)

    def _check_data(self, data, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` as from ``load_mnist``: X ``(N, n_in)`` rows, y ``(N,)`` int labels."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError(f"{name} must be a tuple (X, y) as returned by load_mnist, got {type(data).__name__}")
        X, y = np.asarray(data[0]), np.asarray(data[1])
        n_in, n_out = self.sizes[0], self.sizes[-1]
        if X.ndim != 2 or X.shape[1] != n_in or X.dtype.kind not in "fiu":
            raise ValueError(f"{name}: X must be numbers of shape (N, {n_in}), one example per row; got {X.shape}")
        if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(X):
            raise ValueError(f"{name}: y must be {len(X)} integer labels, shape ({len(X)},); got {y.dtype} {y.shape}")
        if len(y) == 0:
            raise ValueError(f"{name} is empty")
        if y.min() < 0 or y.max() >= n_out:
            raise ValueError(f"{name}: labels must lie in 0..{n_out - 1}, got {y.min()}..{y.max()}")
        return X.astype(self.dtype, copy=False), y

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None, *,
            seed: int | None = 0, verbose: bool = False, progress: bool = False,
            monitor_cost: bool = False) -> dict:
        """Mini-batch stochastic gradient descent, in place (Nielsen's ``network.py`` API).

        ``training_data`` and ``test_data`` are ``(X, y)`` as from ``load_mnist``:
        X ``(N, n_in)``, one example per row, and y ``(N,)`` integer labels. Each
        epoch shuffles the training set (with ``seed``), cuts it into mini-batches
        of ``mini_batch_size`` examples and takes one step per mini-batch,

            W <- W - eta * nabla_w,   b <- b - eta * nabla_b,

        where the gradient is that of the cost averaged over the mini-batch.
        ``verbose=True`` prints Nielsen's "Epoch k: correct / total" lines,
        ``progress=True`` shows a tqdm bar, ``monitor_cost=True`` also records
        the average cost on the whole training set after each epoch.

        Returns a history dict of per-epoch lists: ``"epoch"``,
        ``"train_seconds"`` (time spent learning, evaluation excluded) and, when
        ``test_data`` is given, ``"test_correct"`` and ``"test_accuracy"``; with
        ``monitor_cost``, ``"train_cost"``.
        """
        X, labels = self._check_data(training_data, "training_data")
        test = None if test_data is None else self._check_data(test_data, "test_data")
        epochs = positive_int(epochs, "epochs")
        batch = positive_int(mini_batch_size, "mini_batch_size")
        if isinstance(eta, bool) or not isinstance(eta, (int, float, np.floating, np.integer)) or not eta > 0:
            raise ValueError(f"eta (the learning rate) must be a positive number, got {eta!r}")
        Y = one_hot(labels, self.sizes[-1], self.dtype).T  # (N, n_out): row i is example i's target
        rng = np.random.default_rng(training_seed(seed))  # shifted by $TEXTBOOK_SEED_OFFSET
        history = {"epoch": [], "train_seconds": []}
        if test is not None:
            history.update(test_correct=[], test_accuracy=[])
        if monitor_cost:
            history["train_cost"] = []
        epoch_iter = range(epochs)
        if progress:
            from tqdm.auto import tqdm
            epoch_iter = tqdm(epoch_iter, desc="epochs")
        for epoch in epoch_iter:
            start = time.perf_counter()
            order = rng.permutation(len(X))
            with np.errstate(over="ignore"):
                for k in range(0, len(X), batch):
                    idx = order[k:k + batch]
                    # X[idx] is (B, n_in); .T is the same memory viewed as columns (n_in, B)
                    self._backprop(X[idx].T, Y[idx].T, eta / len(idx), update=True)
            history["epoch"].append(epoch)
            history["train_seconds"].append(time.perf_counter() - start)
            if test is not None:
                correct = self.evaluate(test)
                history["test_correct"].append(correct)
                history["test_accuracy"].append(correct / len(test[1]))
                if verbose:
                    print(f"Epoch {epoch}: {correct} / {len(test[1])}")
            elif verbose:
                print(f"Epoch {epoch} complete")
            if monitor_cost:
                history["train_cost"].append(self.total_cost((X, labels)))
        return history

    def _batched_outputs(self, X, chunk: int = 10_000):
        """Yield (start, output activations (n_out, b)) for X of rows, in chunks."""
        for k in range(0, len(X), chunk):
            yield k, self.feedforward(X[k:k + chunk].T)

    def evaluate(self, test_data) -> int:
        """How many examples of ``(X, y)`` the network classifies correctly (brightest output)."""
        X, y = self._check_data(test_data, "test_data")
        return int(sum(np.sum(out.argmax(axis=0) == y[k:k + out.shape[1]]) for k, out in self._batched_outputs(X)))

    def total_cost(self, data) -> float:
        """The network's cost averaged over all examples of ``(X, y)``: C = (1/n) sum_x C_x."""
        X, y = self._check_data(data, "data")
        total = 0.0
        for k, a in self._batched_outputs(X):
            Y = one_hot(y[k:k + a.shape[1]], self.sizes[-1], self.dtype)  # (n_out, b)
            if self.cost == "quadratic":
                total += 0.5 * float(np.sum((a - Y) ** 2))
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = Y * np.log(a) + (1 - Y) * np.log(1 - a)
                total -= float(np.sum(np.nan_to_num(terms)))  # 0 ln 0 = 0
        return total / len(X)
