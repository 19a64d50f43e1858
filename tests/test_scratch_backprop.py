"""textbook_utils.scratch: backpropagation, SGD, evaluate and total_cost.

Gradients are checked against two independent references: centred finite
differences of the cost, and torch.autograd on a PyTorch copy of the same
network with the cost written out in torch.
"""

import numpy as np
import pytest
import torch

from textbook_utils.data import load_mnist
from textbook_utils.scratch import Network, one_hot

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


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("sizes", SHAPES, ids=str)
def test_backprop_matches_centred_finite_differences(sizes, cost):
    net = Network(sizes, seed=3, cost=cost)
    x, labels = _batch(sizes)
    nabla_b, nabla_w = net.backprop(x, labels)
    eps = 1e-6
    for params, grads in ((net.weights, nabla_w), (net.biases, nabla_b)):
        for P, G in zip(params, grads):
            numeric = np.zeros_like(P)
            for i in np.ndindex(P.shape):
                old = P[i]
                P[i] = old + eps
                c_plus = _cost(net, x, labels)
                P[i] = old - eps
                c_minus = _cost(net, x, labels)
                P[i] = old
                numeric[i] = (c_plus - c_minus) / (2 * eps)
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
    Y = torch.tensor(one_hot(labels, sizes[-1]))
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


def test_labels_and_one_hot_targets_give_the_same_gradient():
    net = Network([6, 4, 3], seed=0)
    x, labels = _batch([6, 4, 3])
    by_label = net.backprop(x, labels)
    by_target = net.backprop(x, one_hot(labels, 3))
    for a, b in zip(by_label[0] + by_label[1], by_target[0] + by_target[1]):
        np.testing.assert_array_equal(a, b)


def test_float32_gradients_stay_float32_and_agree_with_float64():
    n64 = Network([20, 10, 5], seed=1)
    n32 = Network([20, 10, 5], seed=1, dtype=np.float32)
    x, labels = _batch([20, 10, 5], B=8)
    g64 = n64.backprop(x, labels)
    g32 = n32.backprop(x.astype(np.float32), labels)
    for a, b in zip(g64[0] + g64[1], g32[0] + g32[1]):
        assert b.dtype == np.float32
        assert _relative_error(a, b) < 1e-5


def test_one_sgd_step_is_w_minus_eta_times_the_gradient():
    net = Network([6, 5, 3], seed=5)
    rng = np.random.default_rng(1)
    X, y = rng.random((4, 6)), rng.integers(0, 3, 4)  # 4 examples as rows, like load_mnist
    nabla_b, nabla_w = net.backprop(X.T, y)
    expected_w = [W - 0.7 * g for W, g in zip(net.weights, nabla_w)]
    expected_b = [b - 0.7 * g for b, g in zip(net.biases, nabla_b)]
    net.SGD((X, y), epochs=1, mini_batch_size=4, eta=0.7)  # one mini-batch = the whole set: one step
    for a, b in zip(net.weights + net.biases, expected_w + expected_b):
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
    assert history["epoch"] == [0, 1]
    assert len(history["train_seconds"]) == 2
    assert history["test_accuracy"][-1] == history["test_correct"][-1] / 1000
    assert history["test_accuracy"][-1] > 0.8  # untrained: about 0.1
    assert history["train_cost"][-1] < 0.5 * before
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Epoch {k}: {c} / 1000" for k, c in enumerate(history["test_correct"])]


def test_sgd_is_repeatable_with_a_seed(mnist_small):
    train, _ = mnist_small
    a, b = Network([784, 10, 10]), Network([784, 10, 10])
    a.SGD((train[0][:500], train[1][:500]), 1, 10, 1.0, seed=7)
    b.SGD((train[0][:500], train[1][:500]), 1, 10, 1.0, seed=7)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])


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


def test_bad_arguments_raise_clear_errors():
    net = Network([4, 3, 2])
    X, y = np.zeros((5, 4)), np.zeros(5, dtype=int)
    with pytest.raises(ValueError, match="cost must be one of"):
        Network([4, 2], cost="mse")
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        net.SGD((X.T, y), 1, 1, 1.0)
    with pytest.raises(TypeError, match="tuple"):
        net.SGD(X, 1, 1, 1.0)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        net.SGD((X, y + 2), 1, 1, 1.0)
    with pytest.raises(ValueError, match="integer labels"):
        net.SGD((X, y.astype(float)), 1, 1, 1.0)
    with pytest.raises(ValueError, match="eta"):
        net.SGD((X, y), 1, 1, -0.1)
    with pytest.raises(ValueError, match="mini_batch_size"):
        net.SGD((X, y), 1, 0, 1.0)
    with pytest.raises(ValueError, match="epochs"):
        net.SGD((X, y), 2.5, 1, 1.0)
    with pytest.raises(ValueError, match="targets have shape"):
        net.backprop(X.T, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="3 labels for 5 examples"):
        net.backprop(X.T, y[:3])
    with pytest.raises(ValueError, match="pass X.T"):
        net.backprop(X, y)
    with pytest.raises(ValueError, match="labels must lie"):
        one_hot(np.array([0, 10]))
