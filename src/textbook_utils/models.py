"""The book's networks in PyTorch: a multilayer perceptron (MLP).

Chapter "Gradient descent" (``book/3b1b/02_gradient_descent.ipynb``) trains
3Blue1Brown's 784-16-16-10 network with this class and
:func:`textbook_utils.training.fit`; chapter "Backpropagation calculus"
(``04``) checks the NumPy gradients of :mod:`textbook_utils.scratch` against
``torch.autograd`` on an ``MLP`` with the same weights.

The notation is the book's. ``MLP([784, 16, 16, 10])`` has one ``nn.Linear``
per layer; its ``weight`` has shape ``(m, n)`` — row j holds the weights into
neuron j, exactly like ``scratch.Network.weights`` — and its ``bias`` shape
``(m,)``. PyTorch puts a batch of examples in **rows**, ``(B, 784)``, so a
layer computes ``z = a @ W.T + b``, the transpose of the book's column form
``z = W a + b``.

The network returns the output layer's **weighted inputs** z^L (often called
*logits*), with no activation applied: the loss chosen in ``fit`` decides
how they become output activations (sigmoid for the video's quadratic cost,
softmax for cross-entropy). The predicted digit is ``argmax`` either way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .scratch import check_sizes

__all__ = ["ACTIVATIONS", "MLP"]

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
}


class MLP(nn.Module):
    """A fully connected network: ``activation`` after every layer except the last.

    ``sizes`` lists the layer widths, input first: ``[784, 16, 16, 10]`` is
    the video's network (13,002 parameters). ``activation`` is one of
    ``"sigmoid"`` (the video's and Nielsen's), ``"relu"``, ``"tanh"``,
    ``"gelu"``. Parameters start from PyTorch's default initialisation; call
    :func:`textbook_utils.device.seed_everything` first to fix them.

    ``dropout`` (default 0): during training, each hidden activation is set
    to 0 with this probability (and the others scaled up to compensate), a
    regulariser that discourages memorising; ``model.eval()`` turns it off.

    Inputs may be ``(B, 784)`` rows or ``(B, 28, 28)`` images (flattened);
    the output is z^L of shape ``(B, 10)``.
    """

    def __init__(self, sizes, activation: str = "sigmoid", *, dropout: float = 0.0):
        super().__init__()
        sizes = check_sizes(sizes)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        self.sizes = sizes
        self.activation = activation
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.layers = nn.ModuleList(nn.Linear(n, m) for n, m in zip(self.sizes[:-1], self.sizes[1:]))
        self.sigma = ACTIVATIONS[activation]()

    @classmethod
    def from_scratch(cls, net, dtype: torch.dtype = torch.float64) -> "MLP":
        """An ``MLP`` with the same weights and biases as a ``scratch.Network`` (sigmoid).

        Used to check the NumPy backpropagation against ``torch.autograd``.
        """
        model = cls(net.sizes, activation="sigmoid").to(dtype)
        with torch.no_grad():
            for layer, W, b in zip(model.layers, net.weights, net.biases):
                layer.weight.copy_(torch.from_numpy(np.asarray(W)))  # (m, n)
                layer.bias.copy_(torch.from_numpy(np.asarray(b)[:, 0]))  # (m, 1) -> (m,)
        return model

    @property
    def num_params(self) -> int:
        """Number of weights plus biases."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"MLP expects a torch.Tensor, got {type(x).__name__}")
        a = x.flatten(1) if x.ndim > 2 else x  # (B, 784)
        if a.ndim != 2 or a.shape[1] != self.sizes[0]:
            raise ValueError(f"input has shape {tuple(x.shape)}; expected (B, {self.sizes[0]}) rows")
        *hidden, output = self.layers
        for layer in hidden:
            a = self.sigma(layer(a))  # a' = sigma(a W^T + b): (B, m)
            if self.dropout is not None:
                a = self.dropout(a)
        return output(a)  # z^L: (B, n_out)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}, params={self.num_params:,}"
