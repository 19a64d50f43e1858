"""Interactive explorers the chapters embed (ipywidgets).

Each builder returns a widget to display as a cell's last expression. In
Jupyter every control is live; in the built book the page shows the view as it
was when the notebook was executed.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .plotting import figure_html, plot_layers
from .scratch import Network

__all__ = ["activation_explorer"]


def activation_explorer(images, labels, *, sizes=(784, 16, 16, 10), index: int = 0, seed: int = 0):
    """Pick a digit and a random-weights seed; see every layer's activations.

    Used in chapter "But what is a neural network?". ``images`` is
    ``(N, 784)`` with values in [0, 1] and ``labels`` is ``(N,)``, as returned
    by :func:`textbook_utils.data.load_mnist`. The network is a fresh,
    *untrained* :class:`~textbook_utils.scratch.Network` built from ``sizes``
    and ``seed``: the point is to watch the numbers flow, not to get the
    right answer (that is what training, in the next chapter, is for).
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != sizes[0]:
        raise ValueError(f"images must have shape (N, {sizes[0]}), got {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in [0, {len(images)}), got {index}")

    image_slider = widgets.IntSlider(value=index, min=0, max=len(images) - 1, description="image",
                                     continuous_update=False)
    seed_slider = widgets.IntSlider(value=seed, min=0, max=99, description="weights seed",
                                    continuous_update=False, style={"description_width": "initial"})
    out = widgets.Output()
    networks: dict[int, Network] = {}

    def redraw(change=None):
        net = networks.setdefault(seed_slider.value, Network(list(sizes), seed=seed_slider.value))
        i = image_slider.value
        _, activations = net.forward(images[i])
        fig = plot_layers([a[:, 0] for a in activations], label=int(labels[i]))
        alt = (f"Activations of an untrained {'-'.join(map(str, sizes))} network (weights seed "
               f"{seed_slider.value}) for test image {i}, a {int(labels[i])}; its answer is "
               f"{int(np.argmax(activations[-1]))}.")
        out.outputs = ()
        out.append_display_data(figure_html(fig, alt))  # works with or without a kernel
        plt.close(fig)

    image_slider.observe(redraw, names="value")
    seed_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([image_slider, seed_slider]), out])
