"""textbook_utils.lessons.scratch: the network's shapes, parameter count and forward pass."""

import math

import numpy as np
import pytest

from textbook_utils.lessons.scratch import (Network, one_hot, relu, sigmoid,
                                            sigmoid_prime)


def test_3b1b_network_has_13002_parameters():
    net = Network([784, 16, 16, 10])
    assert [w.shape for w in net.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.biases] == [(16, 1), (16, 1), (10, 1)]
    assert net.num_params == 784 * 16 + 16 * 16 + 16 * 10 + 16 + 16 + 10 == 13_002
    assert "13,002 parameters" in repr(net)


def test_initial_weights_have_standard_deviation_one_over_sqrt_n_in():
    net = Network([784, 100, 10], seed=3)
    # N(0, 1/784): 78,400 draws, so the sample sd is within 1% of 1/28 with overwhelming probability
    assert net.weights[0].std() == pytest.approx(1 / 28, rel=0.01)
    assert net.biases[0].std() == pytest.approx(1.0, rel=0.2)  # N(0, 1), only 100 draws
    assert abs(net.weights[0].mean()) < 1e-3  # the sd of the mean is (1/28) / 280, about 1.3e-4


def test_forward_matches_the_layer_equation_written_out():
    net = Network([5, 4, 3], seed=7)
    x = np.linspace(0, 1, 5)
    a1 = 1 / (1 + np.exp(-(net.weights[0] @ x.reshape(5, 1) + net.biases[0])))
    a2 = 1 / (1 + np.exp(-(net.weights[1] @ a1 + net.biases[1])))
    np.testing.assert_allclose(net.feedforward(x), a2[:, 0], rtol=1e-12)
    zs, acts = net.forward(x)
    assert [z.shape for z in zs] == [(4, 1), (3, 1)]
    assert [a.shape for a in acts] == [(5, 1), (4, 1), (3, 1)]
    np.testing.assert_allclose(acts[1], a1, rtol=1e-12)
    np.testing.assert_allclose(zs[0], net.weights[0] @ x.reshape(5, 1) + net.biases[0], rtol=1e-12)


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


def test_activation_functions_against_closed_forms():
    assert sigmoid(0.0) == 0.5
    assert sigmoid(math.log(3)) == pytest.approx(0.75, rel=1e-15)  # 1 / (1 + 1/3)
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    s = sigmoid(z)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0
    np.testing.assert_allclose(s + sigmoid(-z), 1.0)
    assert sigmoid(np.float32(2.0)).dtype == np.float32
    assert relu(np.array([-2.0, 0.0, 3.0])).tolist() == [0.0, 0.0, 3.0]


def test_sigmoid_prime_is_the_slope_of_the_sigmoid():
    z = np.linspace(-8, 8, 33)
    h = 1e-5
    # rtol: the central difference rounds at about 1e-8 relative near z = 8
    numeric = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_prime(z), numeric, rtol=1e-7, atol=1e-12)
    assert sigmoid_prime(0.0) == 0.25  # the largest slope


def test_one_hot_puts_a_single_one_per_column():
    Y = one_hot(np.array([2, 0, 2]), 3)
    assert Y.tolist() == [[0, 1, 0], [0, 0, 0], [1, 0, 1]]
    assert one_hot(np.array([1]), 4, np.float32).dtype == np.float32


@pytest.mark.parametrize("sizes, error, match", [
    ([784], ValueError, "at least an input and an output"),
    ([784, 0, 10], ValueError, "positive integer"),
    ([784, -3, 10], ValueError, "positive integer"),
    ([784, 2.5, 10], ValueError, "positive integer"),
    ([784, True, 10], ValueError, "positive integer"),
    ("784-16-10", TypeError, "list of layer sizes"),
])
def test_bad_sizes(sizes, error, match):
    with pytest.raises(error, match=match):
        Network(sizes)


def test_bad_constructor_arguments_say_what_was_expected():
    with pytest.raises(TypeError, match="float32 or float64"):
        Network([2, 2], dtype=np.int32)
    with pytest.raises(ValueError, match="cost must be one of"):
        Network([4, 2], cost="mse")


def test_inputs_of_the_wrong_shape_fail_and_are_never_reshaped():
    """forward checks nothing (the doors do: SGD, evaluate, total_cost),
    but rows given for columns still fail loudly in the matrix product."""
    net = Network([784, 16, 10])
    with pytest.raises(ValueError, match="mismatch"):
        net.feedforward(np.zeros(100))
    with pytest.raises(ValueError, match="mismatch"):
        net.feedforward(np.zeros((3, 784)))
    with pytest.raises(ValueError, match="mismatch"):
        net.backprop(np.zeros((10, 784)), np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match=r"pass X.T"):
        net.evaluate((np.zeros((784, 3)), np.zeros(3, dtype=int)))
