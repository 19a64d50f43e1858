"""Tabular data from CSV files: a small network against gradient-boosted trees.

Used in chapter "Your own data" (``book/questions/05_your_data.ipynb``).

The data are real CSV files that scikit-learn ships inside its package
(``sklearn/datasets/data/``), read here with Python's ``csv`` module exactly
as you would read your own. Their first row is a header in scikit-learn's
format, ``n_samples,n_features,class names...``; every other row holds the
features and, last, the class number.

:func:`cross_validate` scores any ``fit_predict(X_train, y_train, X_test)``
by stratified k-fold cross-validation, so the two model families are
compared on the very same splits: :func:`mlp_fit_predict` (the book's
:class:`~textbook_utils.lessons.mlp.MLP` trained by
:func:`~textbook_utils.training.loop.fit` on standardised features) and
:func:`trees_fit_predict` (scikit-learn's ``HistGradientBoostingClassifier``
with its defaults, on one thread).
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["SKLEARN_CSV", "cross_validate", "mlp_fit_predict", "read_sklearn_csv", "sklearn_csv_path",
           "standardise", "trees_fit_predict"]

#: data sets shipped as CSV by scikit-learn, and their file names
SKLEARN_CSV = {"breast_cancer": "breast_cancer.csv", "wine": "wine_data.csv", "iris": "iris.csv"}


def sklearn_csv_path(name: str) -> Path:
    """Where the installed scikit-learn keeps the CSV file of data set ``name``."""
    if name not in SKLEARN_CSV:
        raise ValueError(f"name must be one of {sorted(SKLEARN_CSV)}, got {name!r}")
    return Path(str(resources.files("sklearn.datasets") / "data" / SKLEARN_CSV[name]))


def read_sklearn_csv(path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a CSV in scikit-learn's layout: ``X`` (n, p) float64, ``y`` (n,) int64, class names.

    The header's counts are checked against the rows actually read.
    """
    path = Path(path)
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path} is empty")
    header = rows[0]
    try:
        n_samples, n_features = int(header[0]), int(header[1])
    except (IndexError, ValueError):
        raise ValueError(f"{path}: the first row must start with n_samples,n_features; got {header[:3]}") from None
    data = np.array(rows[1:], dtype=np.float64)
    if data.shape != (n_samples, n_features + 1):
        raise ValueError(f"{path}: header promises {n_samples} rows of {n_features} features + 1 label, "
                         f"found {data.shape}")
    X, y = data[:, :-1], data[:, -1].astype(np.int64)
    names = header[2:]
    if y.min() < 0 or y.max() >= len(names):
        raise ValueError(f"{path}: labels must lie in 0..{len(names) - 1}")
    return X, y, names


def standardise(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift and scale every column to mean 0, standard deviation 1 **using the training rows only**."""
    X_train, X_test = np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)  # a constant column stays 0 rather than dividing by zero
    return (X_train - mean) / std, (X_test - mean) / std


def cross_validate(fit_predict, X, y, *, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Accuracy of ``fit_predict`` on each of ``n_folds`` stratified folds: shape (n_folds,).

    The folds are scikit-learn's ``StratifiedKFold`` (shuffled, seeded): every
    fold has the classes in about the data's proportions.
    """
    from sklearn.model_selection import StratifiedKFold

    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"X must be (n, p) and y (n,), got {X.shape} and {y.shape}")
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or not 2 <= n_folds <= np.bincount(y).min():
        raise ValueError(f"n_folds must be an integer from 2 to the smallest class size, got {n_folds!r}")
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    scores = []
    for train, test in folds.split(X, y):
        pred = np.asarray(fit_predict(X[train], y[train], X[test]))
        scores.append(float((pred == y[test]).mean()))
    return np.array(scores)


def mlp_fit_predict(X_train, y_train, X_test, *, hidden=(32,), epochs: int = 60, batch_size: int = 128,
                    lr: float = 4e-3, seed: int = 0) -> np.ndarray:
    """Standardise, train the book's ReLU ``MLP`` with Adam and cross-entropy, predict classes.

    Mini-batches of 128 rows: a few hundred training rows make a handful of
    steps per epoch, each cheap; the learning rate is four times Adam's usual
    1e-3 to match (about the accuracy of 32 rows at 1e-3, in a third of the time).
    """
    import torch

    from textbook_utils.tools.seeding import seed_everything
    from textbook_utils.lessons.mlp import MLP
    from textbook_utils.training.loop import fit

    X_train, X_test = standardise(X_train, X_test)
    n_classes = int(np.max(y_train)) + 1
    seed_everything(seed)
    model = MLP([X_train.shape[1], *hidden, n_classes], activation="relu")
    # One thread, as for the trees: a network this small only waits for a second one
    # (and on a busy machine, for a long time). The caller's setting is restored after.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fit(model, (X_train.astype(np.float32), np.asarray(y_train)), epochs=epochs, batch_size=batch_size,
            lr=lr, optimizer="adam", seed=seed, eval_train=False)
        with torch.no_grad():
            return model(torch.as_tensor(X_test, dtype=torch.float32)).argmax(dim=1).numpy()
    finally:
        torch.set_num_threads(threads)


def trees_fit_predict(X_train, y_train, X_test, *, seed: int = 0) -> np.ndarray:
    """scikit-learn's ``HistGradientBoostingClassifier`` with default settings; raw features."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    # One OpenMP thread: on data this small, more threads only wait for each other.
    with threadpool_limits(limits=1, user_api="openmp"):
        return HistGradientBoostingClassifier(random_state=seed).fit(X_train, y_train).predict(X_test)
