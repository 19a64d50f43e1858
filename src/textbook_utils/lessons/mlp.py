"""The multilayer perceptron (MLP) in PyTorch: layers of neurons, each fed by all of the last.

Chapter "But what is a neural network?" (``book/3b1b/01_what_is_a_neural_network.ipynb``)
shows :meth:`MLP.forward`; chapter "Gradient descent" (``02``) trains the
video's 784-16-16-10 network with it and :func:`textbook_utils.training.loop.fit`;
chapter "Backpropagation calculus" (``04``) checks the NumPy gradients of
:mod:`textbook_utils.lessons.scratch` against ``torch.autograd`` on an ``MLP`` with the
same weights.

``MLP([784, 16, 16, 10])`` has one ``nn.Linear`` per layer. Its ``weight`` has
shape ``(m, n)`` — row j holds the weights into neuron j, as in
``scratch.Network.weights`` — and its ``bias`` shape ``(m,)``. PyTorch puts a
batch of examples in **rows**, ``(B, 784)``, so a layer computes
``z = a @ W.T + b``, the transpose of the book's column form ``z = W a + b``.

The network returns the output layer's **weighted inputs** z^L (the
*logits*), with no activation applied: the cost decides how they become
output activations (a sigmoid for the video's quadratic cost, a softmax for
cross-entropy). The predicted digit is the ``argmax`` either way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from textbook_utils.training.network_doors import check_sizes

__all__ = ["ACTIVATIONS", "MLP"]

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class MLP(nn.Module):
    """A fully connected network with layer sizes ``sizes``, e.g. ``[784, 16, 16, 10]``.

    ``activation`` is the hidden neurons' sigma: ``"sigmoid"`` (the video's
    and Nielsen's), ``"relu"``, ``"tanh"`` or ``"gelu"``. The parameters start
    from PyTorch's default initialisation; call
    :func:`textbook_utils.tools.seeding.seed_everything` first to fix them.

    ``dropout`` (default 0): during training, each hidden activation is set
    to 0 with this probability (and the others scaled up to compensate), a
    regulariser that discourages memorising; ``model.eval()`` turns it off.
    """

    def __init__(self, sizes, activation: str = "sigmoid", *, dropout: float = 0.0):
        super().__init__()
        self.sizes = check_sizes(sizes)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        self.activation = activation
        self.layers = nn.ModuleList(nn.Linear(n, m) for n, m in zip(self.sizes[:-1], self.sizes[1:]))
        self.sigma = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.flatten(1)                # (B, 784): one image per row
        *hidden, output = self.layers
        for layer in hidden:
            a = self.sigma(layer(a))    # a' = sigma(a W^T + b): (B, m)
            a = self.dropout(a)         # only in training, if asked for
        return output(a)                # z = a W^T + b: (B, 10), no sigma

    @classmethod
    def from_scratch(cls, net, dtype: torch.dtype = torch.float64) -> "MLP":
        """An ``MLP`` with the same weights and biases as a ``scratch.Network`` (sigmoid).

        Used to check the NumPy backpropagation against ``torch.autograd``.
        """
        model = cls(net.sizes, activation="sigmoid").to(dtype)
        with torch.no_grad():
            for layer, W, b in zip(model.layers, net.weights, net.biases):
                layer.weight.copy_(torch.from_numpy(np.asarray(W)))  # (m, n)
                layer.bias.copy_(torch.from_numpy(np.asarray(b).reshape(-1)))  # (m, 1) -> (m,)
        return model

    @property
    def num_params(self) -> int:
        """Number of weights plus biases."""
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}, params={self.num_params:,}"
