"""Naive classifiers that a digit recogniser must beat.

Chapter "Learning to recognise digits" (``book/nielsen/02_learning_to_recognise_digits.ipynb``),
after Nielsen, *Neural Networks and Deep Learning*, chapter 1, and his
``mnist_average_darkness.py``.

- Random guessing: right one time in ten on ten balanced classes.
- Average darkness: a "1" uses less ink than an "8". Learn the average total
  ink of each digit on the training images; call a new image the digit whose
  average is nearest to its own total ink.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AverageDarkness", "darkness", "random_guesses"]


def _images(images) -> np.ndarray:
    """Images as rows ``(N, pixels)``, from ``(N, 784)`` or ``(N, 28, 28)``."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images.reshape(len(images), -1)
    if images.ndim == 2:
        return images
    raise ValueError(f"images must have shape (N, 784) or (N, 28, 28), got {images.shape}")


def _labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be a 1-D array of integers, got dtype {labels.dtype}, shape {labels.shape}")
    if len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} images")
    return labels


def darkness(images) -> np.ndarray:
    """Total ink of each image: the sum of its pixel values, ``(N,)`` float64.

    For the raw ``uint8`` images (0..255) the sums are integers and exact.
    """
    return _images(images).sum(axis=1, dtype=np.float64)  # (N, 784) -> (N,)


def random_guesses(n: int, *, n_classes: int = 10, seed: int | None = 0) -> np.ndarray:
    """``n`` guesses drawn uniformly from 0 .. n_classes - 1, ``(n,)`` int64."""
    return np.random.default_rng(seed).integers(0, n_classes, size=n)


class AverageDarkness:
    """Classify a digit by the training digit whose average darkness is closest.

    >>> clf = AverageDarkness().fit(X_train, y_train)   # doctest: +SKIP
    >>> clf.evaluate(X_test, y_test)                    # doctest: +SKIP

    After :meth:`fit`, ``averages[k]`` is the mean darkness of the training
    images labelled k. Ties go to the smaller digit, as in Nielsen's code.
    """

    def __init__(self):
        self.averages: np.ndarray | None = None  # (n_classes,)

    def fit(self, images, labels, *, n_classes: int = 10) -> "AverageDarkness":
        """Learn the average darkness of each digit 0 .. n_classes - 1; returns ``self``."""
        d = darkness(images)  # (N,)
        labels = _labels(labels, len(d))
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}")
        counts = np.bincount(labels, minlength=n_classes)  # (n_classes,)
        if np.any(counts == 0):
            raise ValueError(f"every digit needs training images; none for {np.flatnonzero(counts == 0).tolist()}")
        self.averages = np.bincount(labels, weights=d, minlength=n_classes) / counts
        return self

    def predict(self, images) -> np.ndarray:
        """The digit whose average darkness is nearest each image's darkness, ``(N,)``."""
        if self.averages is None:
            raise RuntimeError("call fit(images, labels) before predict")
        d = darkness(images)  # (N,)
        distance = np.abs(d[:, None] - self.averages[None, :])  # (N, n_classes)
        return distance.argmin(axis=1)  # first minimum: ties go to the smaller digit

    def evaluate(self, images, labels) -> int:
        """How many of the images are classified correctly."""
        predictions = self.predict(images)
        return int(np.sum(predictions == _labels(labels, len(predictions))))
