"""Figures of the Nielsen chapters: plot_circuit and plot_weight_images (textbook_utils.figures.plotting)."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window. Notebooks keep the inline backend.

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from textbook_utils.figures.plotting import plot_circuit, plot_weight_images  # noqa: E402

NODES = {"x1": (0, 1, "x1"), "x2": (0, -1, "x2"), "out": (2, 0, "3")}
EDGES = [("x1", "out", "-2"), ("x2", "out", "-2", 0.7)]


def test_plot_circuit_draws_a_circle_per_node_and_an_arrow_and_label_per_edge():
    fig = plot_circuit(NODES, EDGES, title="NAND")
    ax = fig.axes[0]
    assert len(ax.patches) == 3  # one circle per node
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("-2") == 2 and {"x1", "x2", "3"} <= set(texts)
    assert len([c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]) == 2
    assert ax.get_title() == "NAND"
    plt.close(fig)


def test_plot_circuit_rejects_unknown_nodes_and_bad_specs():
    with pytest.raises(ValueError, match="between named nodes"):
        plot_circuit(NODES, [("x1", "nowhere", "1")])
    with pytest.raises(ValueError, match=r"\(x, y, text\)"):
        plot_circuit({"a": (0, 0)}, [])
    with pytest.raises(ValueError, match="label_at"):
        plot_circuit(NODES, [("x1", "out", "1", 1.5)])


def test_plot_weight_images_one_panel_per_neuron_with_a_shared_symmetric_scale():
    W = np.zeros((7, 784))
    W[0, 0], W[3, 5] = 2.0, -0.5
    fig = plot_weight_images(W, ncols=4, titles=range(7))
    axes = fig.axes
    assert len(axes) == 8  # two rows of four, the last one empty
    images = [ax.images[0] for ax in axes if ax.images]
    assert len(images) == 7 and not axes[-1].images
    assert all(im.get_clim() == (-2.0, 2.0) for im in images)
    assert images[0].get_array().shape == (28, 28) and images[0].get_array()[0, 0] == 2.0
    assert [ax.get_title() for ax in axes[:7]] == [str(k) for k in range(7)]
    plt.close(fig)


def test_plot_weight_images_checks_its_input():
    with pytest.raises(ValueError, match=r"\(m, 784\)"):
        plot_weight_images(np.zeros((3, 100)))
    with pytest.raises(ValueError, match="ncols"):
        plot_weight_images(np.zeros((3, 784)), ncols=0)
    with pytest.raises(ValueError, match="titles"):
        plot_weight_images(np.zeros((3, 784)), titles=["a"])
