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
"""

from __future__ import annotations

import numpy as np

__all__ = ["Network", "relu", "sigmoid", "sigmoid_prime"]


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
    """

    def __init__(self, sizes, *, seed: int | None = 0, dtype=np.float64):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a list of layer sizes such as [784, 16, 16, 10], got {sizes!r}")
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"a network needs at least an input and an output layer, got sizes={sizes}")
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
                raise ValueError(f"every layer size must be a positive integer, got sizes={sizes}")
        dtype = np.dtype(dtype)
        if dtype not in [np.dtype(d) for d in _DTYPES]:
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        self.sizes = [int(s) for s in sizes]
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
        return f"Network({self.sizes}, dtype={self.dtype.name}, {self.num_params:,} parameters)"

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
