"""textbook_utils.plotting and .widgets: the figures and the explorer of chapter 1."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window. Notebooks keep the inline backend.

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from textbook_utils.data import load_mnist  # noqa: E402
from textbook_utils.plotting import plot_digit, plot_layers  # noqa: E402
from textbook_utils.scratch import Network  # noqa: E402
from textbook_utils.widgets import activation_explorer  # noqa: E402


def test_plot_layers_draws_one_panel_per_layer_and_marks_the_answer():
    images, labels = load_mnist("test")
    _, acts = Network([784, 16, 16, 10]).forward(images[0])
    fig = plot_layers([a[:, 0] for a in acts], label=int(labels[0]))
    assert len(fig.axes) == 4
    answer = int(np.argmax(acts[-1]))
    assert fig.axes[-1].get_title().endswith(f"answer {answer}")
    assert "label 7" in fig.axes[0].get_title()
    plt.close(fig)


def test_plot_inputs_are_checked():
    with pytest.raises(ValueError, match=r"\(784,\) or \(28, 28\)"):
        plot_digit(np.zeros(100))
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        plot_layers([np.zeros(784), np.array([2.0, 0.5])])


def test_explorer_redraws_when_a_slider_moves():
    images, labels = load_mnist("test")
    box = activation_explorer(images[:20], labels[:20])
    image_slider, seed_slider = box.children[0].children
    out = box.children[1]
    first = out.outputs[0]["data"]["text/html"]
    assert '<img alt="Activations of an untrained 784-16-16-10 network' in first
    assert "test image 0, a 7" in first
    image_slider.value = 3
    assert out.outputs[0]["data"]["text/html"] != first
    assert "test image 3, a 0" in out.outputs[0]["data"]["text/html"]
    seed_slider.value = 4
    assert len(out.outputs) == 1 and "weights seed 4" in out.outputs[0]["data"]["text/html"]
    plt.close("all")


def test_explorer_rejects_bad_data():
    images, labels = load_mnist("test")
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        activation_explorer(images[:5].reshape(5, 28, 28), labels[:5])
    with pytest.raises(ValueError, match="labels must have shape"):
        activation_explorer(images[:5], labels[:4])
