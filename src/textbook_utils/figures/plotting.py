"""Figures the chapters share: digits, activation columns, a network's layers.

First used in chapter "But what is a neural network?"
(``book/3b1b/01_what_is_a_neural_network.ipynb``). Every function draws on
Matplotlib axes and returns the figure, so the same figure shows in Jupyter,
in the built book and in a plain ``python`` script (call ``plt.show()``).
"""

from __future__ import annotations

import base64
import html
import io
import struct
import zlib

import matplotlib.patches as mpatches
import matplotlib.text
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML

__all__ = ["TEXT_SIZE_KEY", "book_style", "figure_html", "plot_digit", "plot_layers",
           "png_with_text_size", "smallest_text_pt"]

#: the website's text column, in inches at the figures' 100 CSS px per inch
COLUMN_INCHES = 6.7


def book_style() -> None:
    """The book's figures: sized for the text column, sharp on every screen.

    Called once at the top of every chapter. A figure is laid out at 100
    dpi, so an inch is 100 CSS px on the website, whose text column is about
    672 px: a figure at most ``COLUMN_INCHES`` wide is shown at its full size,
    and its lettering, 10 points and larger, is 14 px or more, larger than
    the page's small print (13 px). Jupyter shows each figure as a "retina"
    PNG (twice the pixels, shown at the same size), which stays sharp on
    high-density screens, and which records the size of its smallest text
    (:func:`png_with_text_size`) for the book's reading test.
    """
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": "figure", "font.size": 10})
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:  # in a notebook; a plain script just plots
        from matplotlib.figure import Figure
        # importing the inline backend sets Jupyter's figure formats up
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type(Figure, _retina_png)  # retina, noting its text


#: the PNG text chunk in which a figure records its smallest lettering
TEXT_SIZE_KEY = "smallest-text-pt"


def smallest_text_pt(fig) -> float | None:
    """The size in points of the smallest text in a drawn figure (None: no text).

    Every visible, non-empty text counts: titles, labels, tick labels,
    legends, annotations.
    """
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=None)


def png_with_text_size(png: bytes, points: float | None) -> bytes:
    """The PNG with a text chunk ``smallest-text-pt`` saying ``points``.

    The website's reading test reads it back and, from the size the browser
    shows the image at, works out how many CSS px the smallest text is.
    """
    value = "none" if points is None else f"{points:g}"
    data = TEXT_SIZE_KEY.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = (struct.pack(">I", len(data)) + b"tEXt" + data
             + struct.pack(">I", zlib.crc32(b"tEXt" + data)))
    end_of_header = 8 + 25  # the signature, then the IHDR chunk
    return png[:end_of_header] + chunk + png[end_of_header:]


def _retina_png(fig):
    """Jupyter's "retina" PNG of a figure, noting its smallest text."""
    from IPython.core.pylabtools import retina_figure

    sizes = []
    note = fig.canvas.mpl_connect("draw_event", lambda event: sizes.append(smallest_text_pt(fig)))
    try:
        shown = retina_figure(fig)
    finally:
        fig.canvas.mpl_disconnect(note)
    if shown is None:  # an empty figure shows nothing
        return None
    png, size = shown
    drawn = [s for s in sizes if s is not None]
    return png_with_text_size(png, min(drawn, default=None)), size


def figure_html(fig, alt: str) -> HTML:
    """A figure as an ``<img>`` with alt text, for widget outputs and other HTML.

    Widgets show figures through this so that every image in the built book
    carries a description for screen readers.
    """
    if not alt or not alt.strip():
        raise ValueError("alt text must describe the figure; got an empty string")
    shown = _retina_png(fig)
    if shown is None:
        raise ValueError("the figure is empty: it has no axes to show")
    png, _ = shown
    width = struct.unpack(">I", png[16:20])[0] / 2  # CSS px: 2 pixels each
    encoded = base64.b64encode(png).decode("ascii")
    return HTML(f'<img alt="{html.escape(alt)}" width="{width:g}" '
                f'src="data:image/png;base64,{encoded}"/>')


def _as_image(image) -> np.ndarray:
    """A digit as a (28, 28) array, from (784,) or (28, 28)."""
    image = np.asarray(image)
    if image.shape == (784,):
        return image.reshape(28, 28)
    if image.shape == (28, 28):
        return image
    raise ValueError(f"a digit must have shape (784,) or (28, 28), got {image.shape}")


def plot_digit(image, ax=None, *, title: str | None = None):
    """Show one MNIST digit in grey levels, black = 0 and white = 1 (or 255)."""
    image = _as_image(image)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2, 2.2))
    vmax = 255 if image.dtype == np.uint8 else 1.0
    ax.imshow(image, cmap="gray", vmin=0, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def plot_layers(activations, *, label: int | None = None, fig=None):
    """Draw one example's activations layer by layer, input on the left.

    ``activations`` is the list a^(0), a^(1), ..., a^(L) for a single example
    (each of shape ``(n,)`` or ``(n, 1)``), such as
    ``[a[:, 0] for a in Network.forward(x)[1]]``. The input layer is drawn as
    the 28×28 image it came from; each later layer as a column of cells whose
    brightness is the neuron's activation in [0, 1]. The output layer is
    labelled 0..9 and its brightest neuron (the network's answer) is marked.

    ``fig``, a figure this function drew for layers of the same sizes, is
    drawn again in place: the same axes, with new cells, titles and box (an
    explorer draws its frames this way; laying the axes out is most of the
    cost of a frame). Any other figure is cleared and drawn afresh.
    """
    layers = [np.asarray(a, dtype=float).reshape(-1) for a in activations]
    if len(layers) < 2:
        raise ValueError(f"need the input layer and at least one more, got {len(layers)} layer(s)")
    for i, a in enumerate(layers[1:], start=1):
        if a.min() < 0 or a.max() > 1:
            raise ValueError(f"layer {i} has activations outside [0, 1]; expected sigmoid outputs")
    pixels = [_as_image(layers[0])] + [a.reshape(-1, 1) for a in layers[1:]]  # what each panel shows
    best = int(np.argmax(layers[-1]))
    titles = ([f"input (784)" + (f"\nlabel {label}" if label is not None else "")]
              + [f"layer {i} ({len(a)})" for i, a in enumerate(layers[1:-1], start=1)]
              + [f"output ({len(layers[-1])})\nanswer {best}"])
    if fig is not None and [im.get_array().shape for ax in fig.axes for im in ax.images] == [
            p.shape for p in pixels]:  # drawn before, for these sizes: only the values change
        for ax, image, title in zip(fig.axes, pixels, titles):
            ax.images[0].set_data(image)
            ax.set_title(title, fontsize=10)
        fig.axes[-1].patches[0].set_y(best - 0.5)  # the box around the answer
        return fig
    if fig is None:
        fig = plt.figure(figsize=(2.0 + 1.1 * (len(layers) - 1), 3.4))
    fig.clear()
    widths = [2.6] + [1.0] * (len(layers) - 1)
    axes = fig.subplots(1, len(layers), gridspec_kw={"width_ratios": widths})
    plot_digit(pixels[0], axes[0], title=titles[0])
    for ax, image, title in zip(axes[1:], pixels[1:], titles[1:]):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
    output = axes[-1]
    output.set_yticks(range(len(layers[-1])))
    output.tick_params(axis="y", labelsize=10, length=0)
    output.add_patch(plt.Rectangle((-0.5, best - 0.5), 1, 1, fill=False, ec="tab:orange", lw=2.5))
    # fixed margins rather than tight_layout, which measures every label and
    # would double the cost of each of an explorer's frames
    fig.subplots_adjust(left=0.02, right=0.95, bottom=0.03, top=0.84, wspace=0.9)
    return fig


# --- Strang chapters: contours of f(x, y) and descent paths over them ---------------------------
# Used by "Gradient descent: downhill to a minimum" (book/strang/01_gradient_descent.ipynb) and
# "Momentum, Newton and stochastic gradient descent" (book/strang/02_momentum_newton_sgd.ipynb).

__all__ += ["plot_contours", "plot_path"]


def plot_contours(f, xlim, ylim, ax=None, *, levels=12, n: int = 240, cmap: str = "Blues_r",
                  equal_scales: bool = True):
    """Draw the level curves of a function of two variables over a box.

    ``f`` takes a stack of points of shape ``(..., 2)`` and returns ``(...)``,
    as :class:`textbook_utils.lessons.optim.Quadratic` and ``LeastSquares`` do.
    ``levels`` is a number of levels (spaced geometrically between the
    smallest positive and the largest value on the box, which suits functions
    whose minimum is 0) or an increasing list of values, such as the values of
    f along a path. Returns the axes, with equal scales on x and y so that
    right angles look right (``equal_scales=False`` lets a long thin box fill
    the axes; then say in the caption that one axis is stretched).
    """
    (x0, x1), (y0, y1) = xlim, ylim
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"xlim and ylim must be increasing pairs, got {xlim} and {ylim}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 grid points per side, got {n!r}")
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    Z = np.asarray(f(np.stack([X, Y], axis=-1)), dtype=float)
    if Z.shape != X.shape:
        raise ValueError(f"f must map points (..., 2) to values (...); got {Z.shape} for {X.shape + (2,)}")
    if np.ndim(levels) == 0:
        if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
            raise ValueError(f"levels must be a positive integer or a list of values, got {levels!r}")
        positive = Z[Z > 0]
        low = max(positive.min(), positive.max() * 1e-4) if positive.size else 1e-12
        levels = np.geomspace(low, Z.max(), int(levels)) if Z.max() > low else int(levels)
    else:
        levels = np.unique(np.asarray(levels, dtype=float))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.contour(X, Y, Z, levels=levels, cmap=cmap, linewidths=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if equal_scales:
        ax.set_aspect("equal")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    return ax


def plot_path(path, ax=None, *, label: str | None = None, color: str | None = None, marker: str = "o"):
    """Draw the iterates x_0, x_1, ... of a method (array ``(K + 1, 2)``) joined by segments.

    The start is marked with a larger hollow circle. Returns the axes.
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) < 1:
        raise ValueError(f"path must have shape (K + 1, 2), got {path.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    (line,) = ax.plot(path[:, 0], path[:, 1], marker=marker, ms=3, lw=1.2, color=color, label=label)
    ax.plot(path[0, 0], path[0, 1], "o", ms=8, mfc="none", color=line.get_color())
    return ax


# --------------------------------------------------------------------------- transformers
# Chapters "GPT: what a transformer does" and "Attention in transformers"
# (book/3b1b/05_gpt.ipynb, 06_attention.ipynb).

__all__ += ["plot_attention_pattern", "plot_token_probabilities"]


def _shown(token: str) -> str:
    """A token as a readable tick label: spaces and newlines made visible."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(token, token)


def plot_attention_pattern(A, tokens, ax=None, *, title: str | None = None):
    """Heatmap of one head's attention pattern, row = query, column = key.

    ``A`` is ``(T, T)`` with rows summing to 1 (a causal pattern is zero
    above the diagonal); ``tokens`` are the ``T`` token strings.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square (T, T) pattern, got shape {A.shape}")
    if len(tokens) != A.shape[0]:
        raise ValueError(f"need {A.shape[0]} tokens for a {A.shape} pattern, got {len(tokens)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(A, cmap="Blues", vmin=0, vmax=1)
    labels = [_shown(t) for t in tokens]
    ax.set_xticks(range(len(labels)), labels, fontsize=10, family="monospace")
    ax.set_yticks(range(len(labels)), labels, fontsize=10, family="monospace")
    ax.set_xlabel("key (looked at)")
    ax.set_ylabel("query (updated)")
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def plot_token_probabilities(probs, tokens, ax=None, *, title: str | None = None):
    """Horizontal bars of next-token probabilities, largest on top."""
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 1 or len(probs) != len(tokens):
        raise ValueError(f"probs must be 1-D with one entry per token, got {probs.shape} "
                         f"and {len(tokens)} tokens")
    if np.any(probs < 0) or np.any(probs > 1):
        raise ValueError("probabilities must lie in [0, 1]")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.32 * len(probs) + 1.0))
    y = np.arange(len(probs))[::-1]
    ax.barh(y, probs, color="tab:blue")
    ax.set_yticks(y, [repr(t)[1:-1] if t not in (" ", "\n") else _shown(t) for t in tokens],
                  family="monospace", fontsize=12)
    ax.tick_params(axis="x", labelsize=11)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability", fontsize=11)
    if title:
        ax.set_title(title, fontsize=12)
    return ax.figure


# --------------------------------------------------------------------------- Nielsen, chapter 1
# "Perceptrons and sigmoid neurons" and "Learning to recognise digits"
# (book/nielsen/01_perceptrons_and_sigmoid_neurons.ipynb, 02_learning_to_recognise_digits.ipynb).

__all__ += ["plot_circuit", "plot_weight_images"]


def plot_circuit(nodes, edges, ax=None, *, title: str | None = None):
    """Draw a small circuit of perceptrons: circles joined by arrows labelled with weights.

    ``nodes`` maps a name to ``(x, y, text)``: where the node sits and what it
    shows (an input's name, or a perceptron's bias). ``edges`` is a list of
    ``(from_name, to_name, weight_text)``, optionally with a fourth entry, the
    fraction of the way along the arrow where the label sits (default 0.45);
    an empty weight text draws no label.
    """
    nodes = dict(nodes)
    for name, spec in nodes.items():
        if len(spec) != 3:
            raise ValueError(f"node {name!r} must be (x, y, text), got {spec!r}")
    for edge in edges:
        if len(edge) not in (3, 4) or edge[0] not in nodes or edge[1] not in nodes:
            raise ValueError(f"edge {edge!r} must be (from, to, weight_text[, label_at]) between named nodes")
        if len(edge) == 4 and not 0 <= edge[3] <= 1:
            raise ValueError(f"edge {edge!r}: label_at must lie in [0, 1]")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    radius = 0.28
    for src, dst, text, *label_at in edges:
        t = label_at[0] if label_at else 0.45
        (x0, y0, _), (x1, y1, _) = nodes[src], nodes[dst]
        d = np.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / d, (y1 - y0) / d
        ax.annotate("", xy=(x1 - radius * ux, y1 - radius * uy), xytext=(x0 + radius * ux, y0 + radius * uy),
                    arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.2))
        if text:
            ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0) + 0.1, text, fontsize=10, color="tab:blue",
                    ha="center", va="bottom")
    for name, (x, y, text) in nodes.items():
        ax.add_patch(plt.Circle((x, y), radius, fc="white", ec="black", lw=1.2, zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=4)
    xs = [x for x, _, _ in nodes.values()]
    ys = [y for _, y, _ in nodes.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def plot_weight_images(W, *, ncols: int = 10, titles=None, fig=None):
    """Each row of ``W`` (the weights into one neuron, ``(m, 784)``) as a 28 × 28 image.

    Colours are symmetric about zero, one scale for all panels: red pixels
    push the neuron on, blue pixels push it off, white ones do nothing.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[1] != 784:
        raise ValueError(f"W must have shape (m, 784), one row per neuron; got {W.shape}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    if titles is not None and len(titles) != len(W):
        raise ValueError(f"got {len(titles)} titles for {len(W)} neurons")
    ncols = min(ncols, len(W))
    nrows = -(-len(W) // ncols)
    if fig is None:
        fig = plt.figure(figsize=(1.0 * ncols, 1.1 * nrows))
    fig.clear()
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    vmax = float(np.abs(W).max()) or 1.0
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(W):
            ax.axis("off")
            continue
        ax.imshow(W[k].reshape(28, 28), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=10)
    fig.tight_layout()
    return fig


# --- Orientation, "How we got here": where the book's chapters sit ---------------------------

__all__ += ["plot_taxonomy"]


def plot_taxonomy(regions, ax=None, *, colours=None):
    """Nested boxes, outermost first, each listing what sits in it and in no inner box.

    ``regions`` maps a box's title to its lines, e.g. ``{"artificial
    intelligence": [...], "machine learning": [...], ...}``: each box holds
    the next. Used by "How we got here" (``book/orientation/02_history.ipynb``)
    to draw AI > machine learning > deep learning > generative models with
    the book's chapters in place. Returns the axes.
    """
    from matplotlib.patches import FancyBboxPatch

    n_lines = sum(len(lines) + 1.6 for lines in regions.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.24 * n_lines + 0.6))
    colours = colours or ["#e8eef7", "#d2e0f2", "#b5cdec", "#f6d8b8"]
    margin, top = 0.025, 1.0  # each box is inset by margin in the next
    step = (1 - len(regions) * margin) / n_lines  # one line of text
    for depth, (title, lines) in enumerate(regions.items()):
        left = depth * margin
        box = FancyBboxPatch(
            (left, depth * margin), 1 - 2 * left, top - depth * margin,
            boxstyle="round,pad=0,rounding_size=0.02", linewidth=1,
            facecolor=colours[depth % len(colours)], edgecolor="0.35")
        ax.add_patch(box)
        ax.text(left + 0.015, top - 0.6 * step, title, fontsize=10,
                fontweight="bold", va="center")
        for i, line in enumerate(lines):
            ax.text(left + 0.03, top - (1.6 + i) * step, line, fontsize=10,
                    va="center")
        top -= (len(lines) + 1.6) * step
    ax.set_xlim(-0.005, 1.005)
    ax.set_ylim(-0.005, 1.005)
    ax.axis("off")
    return ax


# --- the dependency tree of backpropagation (book/3b1b/04_backpropagation_calculus.ipynb) ---

__all__ += ["plot_dependency_tree"]


def plot_dependency_tree(nodes, edges, ax=None):
    """Draw a computation's dependency tree: boxed quantities, arrows labelled with derivatives.

    ``nodes`` maps a name to ``(x, y, text, grad_text)``: where the box sits,
    what it shows (a symbol and its value, on two lines) and, in red below,
    the derivative of the cost with respect to it (empty: none). ``edges``
    is a list of ``(from_name, to_name, label)``: an arrow from a quantity
    to the one it feeds (to its right, or straight below or above it),
    labelled with the local derivative of the second by the first. Video 4
    of 3Blue1Brown draws this tree for a chain of single neurons.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.6, 2.9))
        fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    half_w, half_h = 0.66, 0.5                    # a box's half width and height
    for src, dst, label in edges:
        (x0, y0, *_), (x1, y1, *_) = nodes[src], nodes[dst]
        down = np.sign(y0 - y1)
        if x0 == x1:  # one box above the other: bottom edge to top edge
            start = np.array([x0, y0 - half_h * down])
            end = np.array([x1, y1 + half_h * down])
        else:  # left to right: right edge to left edge
            start = np.array([x0 + half_w, y0 - 0.2 * down])
            end = np.array([x1 - half_w, y1 + 0.2 * down])
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.1))
        if label:
            xm, ym = (start + end) / 2
            beside = dict(ha="left", va="center") if x0 == x1 else dict(ha="center", va="bottom")
            ax.text(xm + (0.08 if x0 == x1 else 0), ym + (0 if x0 == x1 else 0.05), label,
                    fontsize=10, color="tab:blue",
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none"), zorder=5, **beside)
    for x, y, text, grad in nodes.values():
        ax.add_patch(mpatches.FancyBboxPatch((x - half_w, y - half_h), 2 * half_w, 2 * half_h,
                                             boxstyle="round,pad=0.02", fc="white", ec="black",
                                             lw=1.1, zorder=3))
        ax.text(x, y + (0.12 if grad else 0), text, ha="center", va="center", fontsize=10,
                linespacing=1.3, zorder=4)
        if grad:
            ax.text(x, y - 0.33, grad, ha="center", va="center", fontsize=10,
                    color="tab:red", zorder=4)
    xs = [spec[0] for spec in nodes.values()]
    ys = [spec[1] for spec in nodes.values()]
    ax.set_xlim(min(xs) - half_w - 0.05, max(xs) + half_w + 0.05)
    ax.set_ylim(min(ys) - half_h - 0.05, max(ys) + half_h + 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure
