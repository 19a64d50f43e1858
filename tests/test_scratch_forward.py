"""textbook_utils.scratch: the network's shapes, parameter count and forward pass."""

import numpy as np
import pytest

from textbook_utils.scratch import Network, relu, sigmoid, sigmoid_prime


def test_3b1b_network_has_13002_parameters():
    net = Network([784, 16, 16, 10])
    assert [w.shape for w in net.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.biases] == [(16, 1), (16, 1), (10, 1)]
    assert net.num_params == 784 * 16 + 16 * 16 + 16 * 10 + 16 + 16 + 10 == 13_002


def test_forward_matches_the_layer_equation_written_out():
    net = Network([5, 4, 3], seed=7)
    x = np.linspace(0, 1, 5)
    a1 = 1 / (1 + np.exp(-(net.weights[0] @ x.reshape(5, 1) + net.biases[0])))
    a2 = 1 / (1 + np.exp(-(net.weights[1] @ a1 + net.biases[1])))
    np.testing.assert_allclose(net.feedforward(x), a2[:, 0], rtol=1e-12)
    zs, acts = net.forward(x)
    assert [z.shape for z in zs] == [(4, 1), (3, 1)]
    assert [a.shape for a in acts] == [(5, 1), (4, 1), (3, 1)]


def test_a_batch_of_columns_equals_one_example_at_a_time():
    net = Network([6, 5, 2], seed=1)
    X = np.random.default_rng(0).random((6, 4))  # 4 examples as columns
    batch = net.feedforward(X)
    assert batch.shape == (2, 4)
    for j in range(4):
        np.testing.assert_allclose(batch[:, j], net.feedforward(X[:, j]), rtol=1e-12)
    assert net.predict(X).tolist() == [int(np.argmax(batch[:, j])) for j in range(4)]


def test_float32_network_stays_float32():
    net = Network([4, 3, 2], dtype=np.float32)
    assert all(w.dtype == np.float32 for w in net.weights)
    assert net.feedforward(np.ones(4, dtype=np.float32)).dtype == np.float32


def test_seed_fixes_the_weights():
    a, b, c = Network([3, 2], seed=5), Network([3, 2], seed=5), Network([3, 2], seed=6)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_activation_functions():
    assert sigmoid(0.0) == 0.5
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    s = sigmoid(z)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0
    np.testing.assert_allclose(s + sigmoid(-z), 1.0)
    np.testing.assert_allclose(sigmoid_prime(z), s * (1 - s))
    assert relu(np.array([-2.0, 0.0, 3.0])).tolist() == [0.0, 0.0, 3.0]


@pytest.mark.parametrize("sizes, error, match", [
    ([784], ValueError, "at least an input and an output"),
    ([784, 0, 10], ValueError, "positive integer"),
    ([784, -3, 10], ValueError, "positive integer"),
    ([784, 2.5, 10], ValueError, "positive integer"),
    ("784-16-10", TypeError, "list of layer sizes"),
])
def test_bad_sizes(sizes, error, match):
    with pytest.raises(error, match=match):
        Network(sizes)


def test_bad_inputs_say_what_shape_was_expected():
    net = Network([784, 16, 10])
    with pytest.raises(ValueError, match=r"expects 784"):
        net.feedforward(np.zeros(100))
    with pytest.raises(ValueError, match=r"pass X.T"):
        net.feedforward(np.zeros((3, 784)))
    with pytest.raises(TypeError, match="float32 or float64"):
        Network([2, 2], dtype=np.int32)
    with pytest.raises(TypeError, match="must be numbers"):
        net.feedforward(np.array(["a"] * 784))
