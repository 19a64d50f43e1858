"""textbook_utils.lessons.preprocessing.Standardizer and textbook_utils.runs.video_net (chapter "Gradient descent")."""

import numpy as np
import pytest

from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.preprocessing import Standardizer
from textbook_utils.runs.video_net import (BOOK_RECIPE, VIDEO_NET_SIZES,
                                           VIDEO_RECIPE, Recipe,
                                           train_video_net)


def test_statistics_come_from_the_training_images_and_are_reused_unchanged():
    rng = np.random.default_rng(0)
    X_train = rng.random((500, 6), dtype=np.float32) * np.array([1, 2, 3, 4, 5, 6], dtype=np.float32)
    X_other = rng.random((7, 6), dtype=np.float32) + 10  # a different distribution on purpose
    s = Standardizer(X_train)
    np.testing.assert_allclose(s.mean, X_train.mean(axis=0), rtol=1e-6)
    assert s.scale == pytest.approx(float(np.std(X_train.astype(np.float64))), rel=1e-9)
    out = s(X_train)
    assert out.dtype == np.float32 and out.shape == (500, 6)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-6)  # every column centred
    # everything else goes through the *training* statistics, not its own
    np.testing.assert_allclose(s(X_other), (X_other - X_train.mean(axis=0)) / s.scale, rtol=1e-5)


def test_mnist_statistics_and_images_are_flattened():
    X, _ = load_mnist("train")
    s = Standardizer(X[:5000])
    assert s.mean.shape == (784,)
    assert 0.25 < s.scale < 0.35  # MNIST pixels in [0, 1]: mostly 0, some near 1
    images = X[:3].reshape(3, 28, 28)
    np.testing.assert_array_equal(s(images), s(X[:3]))  # (N, 28, 28) is (N, 784) read row by row
    assert not np.shares_memory(s(X[:3]), X)  # a new array; the input is untouched


def test_bad_inputs_are_refused_with_a_reason():
    X = np.random.default_rng(0).random((10, 4))
    s = Standardizer(X)
    with pytest.raises(ValueError, match="computed on 4"):
        s(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="integers"):
        Standardizer(np.zeros((3, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="NaN or infinite"):
        s(np.array([[0.0, np.nan, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="at least 2 examples"):
        Standardizer(X[:1])
    with pytest.raises(ValueError, match="no spread"):
        Standardizer(np.ones((5, 4)))
    with pytest.raises(ValueError, match="shape"):
        Standardizer(np.zeros(10))


def test_train_video_net_trains_the_videos_layers_with_a_recipe():
    X, y = load_mnist("train")
    Xt, yt = load_mnist("test")
    train, test = (X[:3000], y[:3000]), (Xt[:500], yt[:500])
    recipe = BOOK_RECIPE.changed(epochs=4, batch_size=64)
    model, standardize, history = train_video_net(train, test, recipe, device="cpu")
    assert model.sizes == VIDEO_NET_SIZES == [784, 16, 16, 10] and model.num_params == 13_002
    assert model.activation == "relu"
    np.testing.assert_allclose(standardize.mean, train[0].mean(axis=0), rtol=1e-5, atol=1e-7)
    assert len(history["epoch"]) == 4
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["test_accuracy"][-1] > 0.85  # 3,000 images are enough for a decent network
    _, _, stopped = train_video_net(train, test, recipe, target_accuracy=0.5, device="cpu")
    assert len(stopped["epoch"]) < 4  # stops at the first epoch at or above 50%


def test_the_videos_recipe_uses_raw_pixels_sigmoids_and_the_quadratic_cost():
    X, y = load_mnist("train")
    train = (X[:200], y[:200])
    assert (VIDEO_RECIPE.activation, VIDEO_RECIPE.loss, VIDEO_RECIPE.optimizer) == ("sigmoid", "quadratic", "sgd")
    model, standardize, history = train_video_net(train, train, VIDEO_RECIPE.changed(epochs=1), device="cpu")
    assert standardize is None and model.activation == "sigmoid"
    assert VIDEO_RECIPE.fit_settings() == dict(loss="quadratic", optimizer="sgd", lr=VIDEO_RECIPE.lr,
                                               batch_size=VIDEO_RECIPE.batch_size, epochs=VIDEO_RECIPE.epochs,
                                               schedule=None, weight_decay=0.0)
    assert VIDEO_RECIPE.changed(loss="cross_entropy").loss == "cross_entropy"
    assert VIDEO_RECIPE.loss == "quadratic"  # recipes are values: changed() makes a new one
    with pytest.raises(TypeError, match="Recipe"):
        train_video_net(train, train, dict(epochs=1))
    with pytest.raises(TypeError):
        Recipe("relu")  # every ingredient must be named
