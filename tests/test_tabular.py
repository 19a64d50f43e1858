"""Reading scikit-learn's shipped CSV files, standardising without leakage, cross-validation."""

import numpy as np
import pytest
import torch

from textbook_utils.lessons import tabular as T


def test_reads_the_real_breast_cancer_csv():
    X, y, names = T.read_sklearn_csv(T.sklearn_csv_path("breast_cancer"))
    # Wolberg et al.'s Wisconsin diagnostic data: 569 tumours, 30 features, 212 malignant.
    assert X.shape == (569, 30) and names == ["malignant", "benign"]
    assert np.bincount(y).tolist() == [212, 357]


def test_header_is_checked(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("3,2,a,b\n1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match="header promises"):
        T.read_sklearn_csv(bad)
    with pytest.raises(ValueError):
        T.sklearn_csv_path("titanic")


def test_standardise_uses_training_statistics_only():
    train = np.array([[0.0, 5.0], [2.0, 5.0]])
    test = np.array([[4.0, 5.0]])
    a, b = T.standardise(train, test)
    assert np.allclose(a, [[-1, 0], [1, 0]]) and np.allclose(b, [[3, 0]])


def test_cross_validation_folds_are_stratified_and_cover_every_row():
    y = np.array([0] * 10 + [1] * 5)
    X = np.arange(15.0)[:, None]
    seen = []

    def remember(X_train, y_train, X_test):
        seen.append(X_test[:, 0].tolist())
        assert np.bincount(y_train.astype(int)).tolist() == [8, 4]
        return np.zeros(len(X_test), dtype=int)

    scores = T.cross_validate(remember, X, y, n_folds=5)
    assert sorted(x for fold in seen for x in fold) == list(range(15))
    assert np.allclose(scores, 2 / 3)  # always guessing class 0
    with pytest.raises(ValueError):
        T.cross_validate(remember, X, y, n_folds=6)  # class 1 has only 5 rows


def test_both_models_beat_the_majority_class_on_wine():
    X, y, _ = T.read_sklearn_csv(T.sklearn_csv_path("wine"))
    majority = np.bincount(y).max() / len(y)
    threads = torch.get_num_threads()
    for fit_predict in (T.trees_fit_predict, lambda a, b, c: T.mlp_fit_predict(a, b, c, epochs=20)):
        assert T.cross_validate(fit_predict, X, y, n_folds=3).mean() > majority + 0.4
    assert torch.get_num_threads() == threads  # the MLP's one-thread training leaves the setting as it was
