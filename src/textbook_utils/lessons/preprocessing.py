"""Standardising the inputs: centre every pixel, scale by the pixels' spread.

Chapter "Gradient descent" (``book/3b1b/02_gradient_descent.ipynb``) trains
the video's 784-16-16-10 network on standardised images. MNIST's pixels lie in
[0, 1], mostly 0 (the page) with a few near 1 (the ink), so every input is
positive and small. Subtracting each pixel's mean over the training images and
dividing by the overall standard deviation of the training pixels gives inputs
centred on 0 with a spread near 1, which gradient descent handles better: the
gradients of a neuron's 784 weights no longer all share the sign of its error,
and the first layer's learning rate means the same as the other layers'.

The statistics come from the **training** images only and are then applied,
unchanged, to every other image (test images, noise, your own drawings): the
test set must play no part in training, not even in choosing a mean.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Standardizer"]


def _images(X, name: str, n_features: int | None = None) -> np.ndarray:
    """``X`` as a float array ``(N, features)``; ``(N, 28, 28)`` images are flattened."""
    X = np.asarray(X)
    if X.ndim == 3:
        X = X.reshape(len(X), -1)  # (N, 28, 28) -> (N, 784)
    if X.ndim != 2 or X.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be numbers of shape (N, features) or (N, 28, 28); "
                         f"got {X.dtype} {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features per example; the statistics were "
                         f"computed on {n_features}")
    if X.dtype.kind in "iu":
        raise ValueError(f"{name} holds integers ({X.dtype}); pass pixels scaled to [0, 1], "
                         "as load_mnist returns them by default")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


class Standardizer:
    """``x -> (x - mean) / scale``, with ``mean`` and ``scale`` from the training images.

    ``mean`` (784,) is the average of each pixel over ``X_train``; ``scale`` is
    one number, the standard deviation of all of ``X_train``'s pixels together.
    (One scale for every pixel, not one per pixel: a border pixel that is
    almost always 0 has a tiny spread, and dividing by it would blow up the
    rare stray ink there.)

    >>> standardize = Standardizer(X_train)     # statistics of the training set
    >>> X_train_s, X_test_s = standardize(X_train), standardize(X_test)
    """

    def __init__(self, X_train):
        X = _images(X_train, "X_train")
        if len(X) < 2:
            raise ValueError(f"X_train needs at least 2 examples to have a spread, got {len(X)}")
        mean = X.mean(axis=0, dtype=np.float64)  # (784,) each pixel's average
        mean_square = np.einsum("ij,ij->j", X, X, dtype=np.float64).sum() / X.size  # E[x^2], all pixels
        self.mean = mean.astype(np.float32)
        self.scale = float(np.sqrt(max(mean_square - mean.mean() ** 2, 0.0)))  # sqrt(E[x^2] - E[x]^2)
        if not self.scale > 0:
            raise ValueError("X_train has no spread: every pixel of every image is the same")

    def __call__(self, X) -> np.ndarray:
        """``(X - mean) / scale`` as float32, shape ``(N, 784)`` (images are flattened)."""
        X = _images(X, "X", n_features=len(self.mean))
        X_s = np.subtract(X, self.mean, dtype=np.float32)  # (N, 784), a new array
        X_s /= np.float32(self.scale)
        return X_s

    def __repr__(self) -> str:
        return f"Standardizer(features={len(self.mean)}, scale={self.scale:.4f})"
