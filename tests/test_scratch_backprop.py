"""textbook_utils.lessons.scratch: backpropagation, SGD, evaluate, total_cost and the guards of SGD.

Gradients are checked against two independent references: centred finite
differences of the cost, and torch.autograd on a PyTorch copy of the same
network with the cost written out in torch.
"""

import numpy as np
import pytest
import torch

from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.scratch import Network, one_hot
from textbook_utils.tools.seeding import SEED_OFFSET_ENV

SHAPES = [[3, 2], [5, 4, 3], [7, 6, 5, 4], [10, 3, 8, 2, 6]]


def _relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def _batch(sizes, B=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((sizes[0], B))  # (n_in, B) columns
    labels = rng.integers(0, sizes[-1], B)
    return x, labels


def _cost(net, x, labels):
    """The average cost over the batch, written out independently of the package."""
    a = x
    for W, b in zip(net.weights, net.biases):
        a = 1 / (1 + np.exp(-(W @ a + b)))
    Y = np.zeros_like(a)
    Y[labels, np.arange(len(labels))] = 1
    if net.cost == "quadratic":
        return 0.5 * np.sum((a - Y) ** 2) / len(labels)
    return -np.sum(Y * np.log(a) + (1 - Y) * np.log(1 - a)) / len(labels)


def _numeric_gradient(net, P, x, labels, eps=1e-6):
    """dC/dP by centred finite differences, nudging one entry of P (in place) at a time."""
    grad = np.zeros_like(P)
    for i in np.ndindex(P.shape):
        old = P[i]
        P[i] = old + eps
        c_plus = _cost(net, x, labels)
        P[i] = old - eps
        c_minus = _cost(net, x, labels)
        P[i] = old
        grad[i] = (c_plus - c_minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("sizes", SHAPES, ids=str)
def test_backprop_matches_centred_finite_differences(sizes, cost):
    net = Network(sizes, seed=3, cost=cost)
    x, labels = _batch(sizes)
    nabla_b, nabla_w = net.backprop(x, labels)
    for params, grads in ((net.weights, nabla_w), (net.biases, nabla_b)):
        for P, G in zip(params, grads):
            numeric = _numeric_gradient(net, P, x, labels)
            assert G.shape == P.shape
            assert _relative_error(G, numeric) < 1e-6


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("sizes", SHAPES, ids=str)
def test_backprop_matches_torch_autograd(sizes, cost):
    net = Network(sizes, seed=4, cost=cost)
    x, labels = _batch(sizes, B=9, seed=1)
    nabla_b, nabla_w = net.backprop(x, labels)

    Ws = [torch.tensor(W, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    a = torch.tensor(x)
    for W, b in zip(Ws, bs):
        a = torch.sigmoid(W @ a + b)
    Y = torch.nn.functional.one_hot(torch.tensor(labels), sizes[-1]).T.double()
    if cost == "quadratic":
        C = 0.5 * ((a - Y) ** 2).sum() / len(labels)
    else:
        C = torch.nn.functional.binary_cross_entropy(a, Y, reduction="sum") / len(labels)
    C.backward()
    for ours, theirs in zip(nabla_w + nabla_b, Ws + bs):
        assert _relative_error(ours, theirs.grad.numpy()) < 1e-6


def test_batch_gradient_is_the_mean_of_single_example_gradients():
    net = Network([8, 5, 4], seed=2)
    x, labels = _batch([8, 5, 4], B=5)
    nabla_b, nabla_w = net.backprop(x, labels)
    singles = [net.backprop(x[:, j], labels[j:j + 1]) for j in range(5)]
    for l in range(2):
        np.testing.assert_allclose(nabla_w[l], np.mean([s[1][l] for s in singles], axis=0), rtol=1e-12)
        np.testing.assert_allclose(nabla_b[l], np.mean([s[0][l] for s in singles], axis=0), rtol=1e-12)


def test_float32_gradients_stay_float32_and_agree_with_float64():
    n64 = Network([20, 10, 5], seed=1)
    n32 = Network([20, 10, 5], seed=1, dtype=np.float32)
    x, labels = _batch([20, 10, 5], B=8)
    g64 = n64.backprop(x, labels)
    g32 = n32.backprop(x.astype(np.float32), labels)
    for a, b in zip(g64[0] + g64[1], g32[0] + g32[1]):
        assert b.dtype == np.float32
        assert _relative_error(a, b) < 1e-5


def test_update_mini_batch_steps_against_the_finite_difference_gradient():
    net = Network([6, 5, 3], seed=5)
    x, labels = _batch([6, 5, 3], B=4, seed=1)
    eta = 0.7
    # W - eta dC/dW, with dC/dW measured by nudging
    expected = [P - eta * _numeric_gradient(net, P, x, labels)
                for P in net.weights + net.biases]
    net.update_mini_batch(x, labels, eta)
    for P, E in zip(net.weights + net.biases, expected):
        np.testing.assert_allclose(P, E, rtol=1e-8, atol=1e-9)


def test_one_sgd_epoch_of_one_batch_is_one_update_step():
    rng = np.random.default_rng(1)
    X, y = rng.random((4, 6)), rng.integers(0, 3, 4)  # 4 examples as rows, like load_mnist
    stepped, trained = Network([6, 5, 3], seed=5), Network([6, 5, 3], seed=5)
    stepped.update_mini_batch(X.T, y, 0.7)
    trained.SGD((X, y), epochs=1, mini_batch_size=4, eta=0.7)  # the whole set: one step, any order
    for a, b in zip(trained.weights + trained.biases, stepped.weights + stepped.biases):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def mnist_small():
    X, y = load_mnist("train")
    Xt, yt = load_mnist("test")
    return (X[:5000], y[:5000]), (Xt[:1000], yt[:1000])


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_sgd_learns_mnist_and_reports_history(mnist_small, cost, capsys):
    train, test = mnist_small
    net = Network([784, 30, 10], seed=0, dtype=np.float32, cost=cost)
    before = net.total_cost(train)
    eta = 3.0 if cost == "quadratic" else 0.5
    history = net.SGD(train, 2, 10, eta, test_data=test, verbose=True, monitor_cost=True)
    assert set(history) == {"epoch", "train_seconds", "test_correct", "test_accuracy", "train_cost"}
    assert history["epoch"] == [0, 1]
    assert len(history["train_seconds"]) == 2
    assert history["test_accuracy"][-1] == history["test_correct"][-1] / 1000
    assert history["test_accuracy"][-1] > 0.8  # untrained: about 0.1
    assert history["train_cost"][-1] < 0.5 * before
    assert history["train_cost"][-1] == pytest.approx(net.total_cost(train), rel=1e-6)
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Epoch {k}: {c} / 1000" for k, c in enumerate(history["test_correct"])]
    assert set(Network([784, 10]).SGD((train[0][:20], train[1][:20]), 1, 10, 1.0)) == {
        "epoch", "train_seconds"}


def test_sgd_is_repeatable_with_a_seed_and_the_seed_offset_moves_it(mnist_small, monkeypatch):
    train = (mnist_small[0][0][:500], mnist_small[0][1][:500])

    def trained(seed):
        net = Network([784, 10, 10])
        net.SGD(train, 1, 10, 1.0, seed=seed)
        return net.weights[0]

    monkeypatch.delenv(SEED_OFFSET_ENV, raising=False)
    seed7, seed8 = trained(7), trained(8)
    np.testing.assert_array_equal(seed7, trained(7))
    assert not np.array_equal(seed7, seed8)
    monkeypatch.setenv(SEED_OFFSET_ENV, "1")  # what the perturbed test run does: seed 7 trains as 8
    np.testing.assert_array_equal(trained(7), seed8)


def test_evaluate_counts_the_brightest_output(mnist_small):
    _, (X, y) = mnist_small
    net = Network([784, 12, 10], seed=1)
    predictions = np.array([np.argmax(net.feedforward(x)) for x in X[:200]])
    assert net.evaluate((X[:200], y[:200])) == int(np.sum(predictions == y[:200]))


def test_total_cost_is_the_average_of_the_example_costs():
    net = Network([5, 4, 3], seed=2)
    x, labels = _batch([5, 4, 3], B=7)
    assert net.total_cost((x.T, labels)) == pytest.approx(_cost(net, x, labels), rel=1e-12)
    ce = Network([5, 4, 3], seed=2, cost="cross_entropy")
    assert ce.total_cost((x.T, labels)) == pytest.approx(_cost(ce, x, labels), rel=1e-12)


def _weights_after_failed_sgd(net, *args, error, match, **kwargs):
    before = [W.copy() for W in net.weights]
    with pytest.raises(error, match=match):
        net.SGD(*args, **kwargs)
    return all(np.array_equal(a, b) for a, b in zip(before, net.weights))


def test_sgd_rejects_raw_pixels_before_training():
    X_raw, y = load_mnist("train", raw=True)
    X_raw, y = X_raw[:100].reshape(100, 784), y[:100]  # uint8, 0..255
    net = Network([784, 10, 10])
    assert _weights_after_failed_sgd(net, (X_raw, y), 1, 10, 3.0, error=ValueError, match="divide by 255")
    assert _weights_after_failed_sgd(net, (X_raw.astype(np.float32), y), 1, 10, 3.0,
                                     error=ValueError, match="raw 0-255 pixels")
    test = (X_raw, y)
    assert _weights_after_failed_sgd(net, (X_raw / 255, y), 1, 10, 3.0, test_data=test,
                                     error=ValueError, match="test_data: X lies in 0..255")
    net.SGD((X_raw / 255, y), 1, 10, 3.0)  # scaled: fine


@pytest.mark.parametrize("low, high", [(-0.01, 1.0), (0.0, 1.01), (-1.8, 3.2)])
def test_sgd_rejects_inputs_outside_the_unit_interval(low, high):
    X = np.linspace(low, high, 5 * 4).reshape(5, 4)  # one entry at each end
    net = Network([4, 3, 2])
    assert _weights_after_failed_sgd(net, (X, np.zeros(5, dtype=int)), 1, 1, 1.0, error=ValueError,
                                     match=rf"X lies in {low:g}\.\.{high:g}; inputs must be scaled to \[0, 1\]")


def test_one_sgd_epoch_lowers_the_cost_on_real_digits(mnist_small):
    train, _ = mnist_small
    net = Network([784, 30, 10], seed=0)
    before = net.total_cost(train)
    net.SGD(train, 1, 10, 3.0, seed=0)
    assert net.total_cost(train) < 0.5 * before  # 500 steps of eta = 3: the cost at least halves


@pytest.mark.parametrize("eta", [float("inf"), float("nan"), 0.0, -0.1, True, "3"])
def test_sgd_rejects_a_learning_rate_that_is_not_a_finite_positive_number(eta):
    X, y = np.full((5, 4), 0.5), np.zeros(5, dtype=int)
    net = Network([4, 3, 2])
    assert _weights_after_failed_sgd(net, (X, y), 1, 1, eta, error=ValueError, match="eta")


def test_sgd_rejects_nan_or_infinite_inputs_before_training():
    X, y = np.full((50, 4), 0.5), np.zeros(50, dtype=int)
    X[-1, 2] = np.nan  # the last example: training would have run 49 steps first
    net = Network([4, 3, 2])
    assert _weights_after_failed_sgd(net, (X, y), 1, 1, 1.0, error=ValueError, match="1 entries that are NaN")
    X[-1, 2] = np.inf
    good = (np.full((5, 4), 0.5), np.zeros(5, dtype=int))
    assert _weights_after_failed_sgd(net, good, 1, 1, 1.0, test_data=(X, y), error=ValueError,
                                     match="test_data X has 1 entries")


@pytest.mark.parametrize("data, kwargs, error, match", [
    ((np.zeros((4, 5)), np.zeros(5, dtype=int)), {}, ValueError, r"shape \(N, 4\).*pass X.T"),
    (np.zeros((5, 4)), {}, TypeError, "pair"),
    ((np.zeros((5, 4)), np.full(5, 2)), {}, ValueError, "labels must lie in 0..1, got 2..2"),
    ((np.zeros((5, 4)), np.full(5, -1)), {}, ValueError, "labels must lie in 0..1"),
    ((np.zeros((5, 4)), np.zeros(5)), {}, ValueError, "integer labels"),
    ((np.zeros((5, 4)), np.zeros(3, dtype=int)), {}, ValueError, "5 integer labels"),
    ((np.zeros((0, 4)), np.zeros(0, dtype=int)), {}, ValueError, "N >= 1"),
    ((np.zeros((5, 4)), np.zeros(5, dtype=int)), {"mini_batch_size": 0}, ValueError, "mini_batch_size"),
    ((np.zeros((5, 4)), np.zeros(5, dtype=int)), {"epochs": 2.5}, ValueError, "epochs"),
    ((np.zeros((5, 4)), np.zeros(5, dtype=int)), {"epochs": 0}, ValueError, "epochs must be a positive"),
    ((np.zeros((5, 4)), np.zeros(5, dtype=int)), {"mini_batch_size": -10}, ValueError, "mini_batch_size must"),
])
def test_sgd_rejects_bad_data_and_arguments_before_training(data, kwargs, error, match):
    args = {"epochs": 1, "mini_batch_size": 1, "eta": 1.0, **kwargs}
    assert _weights_after_failed_sgd(Network([4, 3, 2]), data, **args, error=error, match=match)


def test_evaluate_and_total_cost_check_their_data_too():
    net = Network([4, 3, 2])
    with pytest.raises(ValueError, match="test_data: labels must lie"):
        net.evaluate((np.zeros((5, 4)), np.full(5, 7)))
    with pytest.raises(ValueError, match="raw 0-255"):
        net.total_cost((np.full((5, 4), 200.0), np.zeros(5, dtype=int)))


def test_sgd_stops_with_an_error_when_training_diverges():
    """eta = 1e308 overflows float32 weights to infinity: SGD raises, naming
    the epoch, eta and the cost, instead of returning as if it had learned."""
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 6)), rng.integers(0, 3, 40)
    net = Network([6, 5, 3], dtype=np.float32)
    with np.errstate(all="ignore"), pytest.raises(
            FloatingPointError, match=r"diverged in epoch 0 with eta = 1e\+308: the cost of the "
                                      r"last mini-batch is nan"):
        net.SGD((X, y), 3, 10, 1e308)
    poisoned = Network([6, 5, 3])
    poisoned.biases[0][0, 0] = np.nan  # a NaN anywhere spreads to every weight
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="eta = 0.5"):
        poisoned.SGD((X, y), 1, 10, 0.5)
    Network([6, 5, 3]).SGD((X, y), 3, 10, 0.5)  # a sane eta: no error


def test_backprop_takes_labels_or_target_columns_alike():
    net = Network([7, 5, 4], seed=2)
    x, labels = _batch([7, 5, 4], B=6)
    by_labels, by_targets = net.backprop(x, labels), net.backprop(x, one_hot(labels, 4))
    for a, b in zip(by_labels[0] + by_labels[1], by_targets[0] + by_targets[1]):
        np.testing.assert_array_equal(a, b)
