"""Baseline classifiers (textbook_utils.lessons.baselines): darkness, average darkness, random guesses."""

import numpy as np
import pytest

from textbook_utils.lessons.baselines import (AverageDarkness, darkness,
                                              random_guesses)
from textbook_utils.tools.data import load_mnist


def test_darkness_is_the_total_ink_of_each_image():
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[1, 0, 0] = 255
    images[2] = 1
    assert darkness(images).tolist() == [0.0, 255.0, 784.0]
    assert darkness(images.reshape(3, 784)).tolist() == [0.0, 255.0, 784.0]


def test_average_darkness_on_a_hand_made_example():
    # digit 0: darknesses 2 and 4 (average 3); digit 1: darkness 10
    images = np.array([[1, 1], [2, 2], [5, 5]])
    labels = np.array([0, 0, 1])
    clf = AverageDarkness().fit(images, labels, n_classes=2)
    assert clf.averages.tolist() == [3.0, 10.0]
    # darkness 6 is nearer 3, darkness 7 nearer 10; 6.5 is a tie and goes to the smaller digit
    assert clf.predict(np.array([[3, 3], [3, 4], [3, 3.5]])).tolist() == [0, 1, 0]
    assert clf.evaluate(np.array([[3, 3], [3, 4]]), np.array([0, 0])) == 1


def test_average_darkness_matches_nielsens_loop_on_real_digits():
    X, y = load_mnist("train", raw=True)
    X, y = X[:3000], y[:3000]
    Xt, yt = load_mnist("test", raw=True)
    Xt, yt = Xt[:500], yt[:500]
    # Nielsen's mnist_average_darkness.py, written out with Python loops and dicts
    sums, counts = {}, {}
    for image, digit in zip(X, y):
        sums[int(digit)] = sums.get(int(digit), 0) + int(image.sum(dtype=np.int64))
        counts[int(digit)] = counts.get(int(digit), 0) + 1
    avgs = {k: sums[k] / counts[k] for k in sorted(sums)}
    expected = []
    for image in Xt:
        d = int(image.sum(dtype=np.int64))
        distances = {k: abs(v - d) for k, v in avgs.items()}
        expected.append(min(distances, key=distances.get))
    clf = AverageDarkness().fit(X, y)
    np.testing.assert_allclose(clf.averages, [avgs[k] for k in range(10)], rtol=1e-12)
    assert clf.predict(Xt).tolist() == expected
    assert clf.evaluate(Xt, yt) == sum(int(e == t) for e, t in zip(expected, yt))


def test_average_darkness_beats_chance_but_not_by_much_on_mnist():
    X, y = load_mnist("train")
    Xt, yt = load_mnist("test")
    accuracy = AverageDarkness().fit(X[:50_000], y[:50_000]).evaluate(Xt, yt) / len(yt)
    assert 0.15 < accuracy < 0.30


def test_random_guesses_are_uniform_and_seeded():
    g = random_guesses(100_000, seed=3)
    assert g.shape == (100_000,) and g.min() == 0 and g.max() == 9
    assert np.all(np.abs(np.bincount(g) / len(g) - 0.1) < 0.005)
    assert np.array_equal(g, random_guesses(100_000, seed=3))
    assert not np.array_equal(g, random_guesses(100_000, seed=4))
    assert set(random_guesses(1000, n_classes=3).tolist()) == {0, 1, 2}


def test_bad_input_is_rejected():
    with pytest.raises(RuntimeError, match="fit"):
        AverageDarkness().predict(np.zeros((1, 784)))
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        darkness(np.zeros(784))
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        AverageDarkness().fit(np.zeros((2, 4)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integers"):
        AverageDarkness().fit(np.zeros((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="none for"):
        AverageDarkness().fit(np.zeros((2, 4)), np.array([0, 1]), n_classes=3)
    with pytest.raises(ValueError, match="0..9"):
        AverageDarkness().fit(np.zeros((2, 4)), np.array([0, 10]))
    with pytest.raises(ValueError, match="high <= 0"):  # NumPy says it
        random_guesses(5, n_classes=-2)
