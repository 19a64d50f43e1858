"""Interactive figures that respond on the static website, with no kernel.

Most readers meet the book as a static web page, where ipywidgets cannot run
Python: a slider whose callback recomputes a figure is only a picture of a
slider there. So every explorer in the book is built the other way round:

1. when the notebook executes, :func:`explorer` draws the figure for every
   combination of the controls' values (a small grid: tens of frames);
2. an ipywidgets ``Stack`` holds the frames and shows one at a time;
3. each control is tied to the stacks by ``jslink`` — a link the *browser*
   maintains — so moving a slider switches the frame in JavaScript.

The widget state saved in the notebook holds everything, and the ipywidgets
HTML manager that the site serves itself (``scripts/offline_widgets.py``)
renders it, so the controls work offline on the published page, live in
Jupyter, and in the PDF ``scripts/widget_figures.py`` shows a few of the
frames side by side as small multiples. The controls only offer the values
that were drawn; to explore further, change the grid in the notebook.

Explorers: :func:`activation_explorer` (chapter "But what is a neural
network?"), :func:`step_size_explorer` (Strang, "Gradient descent"),
:func:`descent_explorer` (Strang, "Momentum, Newton and stochastic gradient
descent") and :func:`temperature_explorer` (chapter "GPT").
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import numbers

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg

from textbook_utils.figures.plotting import (plot_contours, plot_layers,
                                             plot_path,
                                             plot_token_probabilities,
                                             png_with_text_size,
                                             smallest_text_pt)
from textbook_utils.lessons.scratch import Network

__all__ = ["MAX_FRAMES", "activation_explorer", "descent_explorer", "descent_figure", "explorer",
           "step_size_explorer", "temperature_explorer"]

#: the most frames one explorer may draw (each is a PNG stored in the notebook)
MAX_FRAMES = 120


def _frame(fig, alt: str, dpi: int) -> widgets.HTML:
    """One view: the figure as a 2x PNG ``<img>`` with its alt text.

    The figure is rendered once, at twice ``dpi``, and shown at ``dpi``:
    as large as the book's static figures (``plotting.book_style``) and as
    sharp on high-density screens. It is cropped to what is drawn plus a
    margin of 0.1 inch (what ``savefig(bbox_inches="tight")`` gives, without
    the extra rendering that option costs: an explorer draws tens of frames).
    """
    fig.set_dpi(2 * dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    smallest_text = smallest_text_pt(fig)                     # points, or None
    rgba = np.asarray(canvas.buffer_rgba())                   # (H, W, 4) pixels
    pixels = rgba.view(np.uint32)[..., 0]                     # (H, W): each pixel's 4 bytes as one number
    ink = pixels != pixels[0, 0]                              # (H, W): not background
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    pad = round(0.2 * dpi)
    if len(rows):
        rgba = rgba[max(rows[0] - pad, 0):rows[-1] + pad + 1, max(cols[0] - pad, 0):cols[-1] + pad + 1]
    plt.close(fig)
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.ascontiguousarray(rgba)).save(buffer, format="png")
    png = png_with_text_size(buffer.getvalue(), smallest_text)
    encoded = base64.b64encode(png).decode("ascii")
    width = rgba.shape[1] / 2                                 # CSS px: 2 pixels each
    return widgets.HTML(f'<img alt="{html.escape(alt)}" width="{width:g}" '
                        f'src="data:image/png;base64,{encoded}"/>')


def _control(description: str, values, start: int) -> widgets.Widget:
    """A slider over numbers, a menu over names; its ``index`` is what the stacks follow."""
    labels = [f"{v:g}" if isinstance(v, numbers.Real) and not isinstance(v, bool) else str(v)
              for v in values]
    style = {"description_width": "initial"}
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return widgets.SelectionSlider(options=labels, index=start, description=description,
                                       continuous_update=True, style=style)
    return widgets.Dropdown(options=labels, index=start, description=description, style=style)


def explorer(draw, controls, *, start=None, dpi: int = 100) -> widgets.VBox:
    """Controls that switch between figures drawn in advance; they work with no kernel.

    ``controls`` is a list of ``(description, values)`` pairs, for example
    ``[("image", range(10)), ("weights seed", [0, 1, 2])]``: numbers get a
    slider, anything else a menu. ``draw(*values)`` is called once for every
    combination and returns ``(fig, alt)``: a Matplotlib figure and a sentence
    describing it for readers who cannot see it. ``start`` gives the index of
    each control's first value (default: all 0). The returned box holds the
    controls (``box.children[0]``), the stacks of frames (``box.children[1]``)
    and the links between them (``box.links``).
    """
    controls = [(str(name), list(values)) for name, values in controls]
    if not controls or any(not values for _, values in controls):
        raise ValueError("controls must be a non-empty list of (description, non-empty values) pairs")
    n_frames = int(np.prod([len(values) for _, values in controls]))
    if n_frames > MAX_FRAMES:
        raise ValueError(f"{n_frames} combinations of the controls' values; at most {MAX_FRAMES} "
                         f"frames are stored in a notebook. Offer fewer values.")
    start = [0] * len(controls) if start is None else list(start)
    if len(start) != len(controls) or any(not 0 <= i < len(v) for i, (_, v) in zip(start, controls)):
        raise ValueError(f"start must give one valid index per control, got {start}")

    frames = {}
    for combo in itertools.product(*(range(len(values)) for _, values in controls)):
        with plt.rc_context({"figure.dpi": dpi}):   # laid out at the dpi it is saved at
            fig, alt = draw(*(values[i] for i, (_, values) in zip(combo, controls)))
        if not alt or not alt.strip():
            raise ValueError("draw must return (fig, alt) with a non-empty alt text")
        frames[combo] = _frame(fig, alt, dpi)

    # A stack per level: the first control picks among stacks of the second, and so on.
    stacks_at = [[] for _ in controls]

    def build(level: int, prefix: tuple) -> widgets.Widget:
        if level == len(controls):
            return frames[prefix]
        children = [build(level + 1, prefix + (i,)) for i in range(len(controls[level][1]))]
        stack = widgets.Stack(children, selected_index=start[level])
        stacks_at[level].append(stack)
        return stack

    view = build(0, ())
    sliders = [_control(name, values, i) for (name, values), i in zip(controls, start)]
    links = [widgets.jslink((slider, "index"), (stack, "selected_index"))
             for slider, stacks in zip(sliders, stacks_at) for stack in stacks]
    box = widgets.VBox([widgets.HBox(sliders), view])
    box.links = tuple(links)  # the browser-side links, kept for inspection
    return box


# --------------------------------------------------------------------------- chapter 1

def activation_explorer(images, labels, *, sizes=(784, 16, 16, 10), n_images: int = 10,
                        seeds=(0, 1, 2)):
    """Pick a digit and a random-weights seed; see every layer's activations.

    Used in chapter "But what is a neural network?". ``images`` is
    ``(N, 784)`` with values in [0, 1] and ``labels`` is ``(N,)``, as returned
    by :func:`textbook_utils.tools.data.load_mnist`; the first ``n_images`` are
    offered. The networks are fresh, *untrained*
    :class:`~textbook_utils.lessons.scratch.Network`\\ s built from ``sizes`` and each
    seed: the point is to watch the numbers flow, not to get the right answer
    (that is what training, in the next chapter, is for).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != sizes[0]:
        raise ValueError(f"images must have shape (N, {sizes[0]}), got {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
    if not 1 <= n_images <= len(images):
        raise ValueError(f"n_images must be in [1, {len(images)}], got {n_images}")
    networks = {seed: Network(list(sizes), seed=seed) for seed in seeds}
    figure = [None]  # one figure: plot_layers lays it out once, then redraws it in place

    def draw(i, seed):
        _, activations = networks[seed].forward(images[i])
        fig = figure[0] = plot_layers([a[:, 0] for a in activations], label=int(labels[i]), fig=figure[0])
        alt = (f"Activations of an untrained {'-'.join(map(str, sizes))} network (weights seed {seed}) "
               f"for test image {i}, a {int(labels[i])}; its answer is {int(np.argmax(activations[-1]))}.")
        return fig, alt

    return explorer(draw, [("image", range(n_images)), ("weights seed", seeds)])


# --------------------------------------------------------------------------- Strang chapters

DESCENT_METHODS = ("fixed step", "exact line search", "momentum", "Nesterov", "Newton")


def _descent_run(method: str, b: float, s: float, n_steps: int):
    """Run one method on f = (x^2 + b y^2)/2 from (b, 1): (path, theory factor per step for f, label)."""
    from textbook_utils.lessons import optim

    q = optim.model_problem(b)
    x0 = optim.strang_start(b)
    lam = [min(b, 1.0), max(b, 1.0)]
    if method == "fixed step":
        path = optim.gradient_descent(q.grad, x0, s, n_steps)
        return path, optim.iteration_rate(lam, s) ** 2, f"s = {s:.3g}"
    if method == "exact line search":
        return optim.exact_line_search(q, x0, n_steps), optim.steepest_descent_rate(*lam) ** 2, "s_k chosen exactly"
    if method == "momentum":
        _, beta = optim.heavy_ball_parameters(*lam)
        path = optim.heavy_ball(q.grad, x0, s, beta, n_steps)
        return path, optim.iteration_rate(lam, s, beta) ** 2, f"s = {s:.3g}, best beta = {beta:.3g}"
    if method == "Nesterov":
        _, beta = optim.nesterov_parameters(*lam)
        path = optim.nesterov(q.grad, x0, s, beta, n_steps)
        return path, optim.nesterov_rate(*lam) ** 2, f"s = {s:.3g}, best beta = {beta:.3g}"
    return optim.newton(q.grad, q.hessian, x0, n_steps, t=s), (1 - s) ** 2, f"t = {s:.3g}"


def best_step(method: str, b: float) -> float:
    """The best fixed step for ``method`` on the model problem with this ``b`` (Newton: t = 1)."""
    from textbook_utils.lessons import optim

    lam = [min(b, 1.0), max(b, 1.0)]
    if method == "momentum":
        return optim.heavy_ball_parameters(*lam)[0]
    if method == "Nesterov":
        return optim.nesterov_parameters(*lam)[0]
    if method == "Newton":
        return 1.0
    return 2 / (lam[0] + lam[1])  # fixed step (exact line search ignores s)


def descent_figure(method: str, b: float, s: float, n_steps: int = 40):
    """The path over the contours (left) and f(x_k) on a log scale (right); returns ``(fig, alt)``.

    The dashed line is the theory's factor per step for f (the square of the
    factor for x), drawn from f_0. Used by the Strang chapters' explorers.
    """
    from textbook_utils.lessons.optim import model_problem

    if method not in DESCENT_METHODS:
        raise ValueError(f"method must be one of {DESCENT_METHODS}, got {method!r}")
    if method == "Newton" and not 0 < s <= 1:
        raise ValueError(f"Newton's damping t must be in (0, 1], got {s}")
    path, factor, label = _descent_run(method, b, s, n_steps)
    f = model_problem(b).f(path)
    fig, (ax_path, ax_err) = plt.subplots(1, 2, figsize=(6.7, 3.2), gridspec_kw={"width_ratios": [1, 1.3]})
    wx, wy = 1.25 * np.sqrt(b * b + b), 1.25 * np.sqrt(1 + b)
    plot_contours(model_problem(b).f, (-wx, wx), (-wy, wy), ax_path, levels=10, equal_scales=False)
    plot_path(path, ax_path, color="tab:orange")
    ax_path.set_title(f"{method}, b = {b:.3g}\n{label}", fontsize=11)
    k = np.arange(len(f))
    positive = f > 0
    ax_err.semilogy(k[positive], f[positive], "o-", ms=3, color="tab:orange", label="$f(x_k)$")
    if factor > 0:
        ax_err.semilogy(k, f[0] * factor**k, "k--", lw=1, label=f"theory: factor {factor:.3g} per step")
    if not positive[1:].all():  # f = 0 exactly (Newton): below every power of 10
        k0 = int(np.argmin(positive))
        floor = f[0] * 1e-16
        ax_err.set_ylim(floor / 3, f[0] * 30)
        ax_err.set_xlim(-0.5, max(k0 + 3.5, 5.5))
        ax_err.plot([k0 - 1, k0], [f[k0 - 1], floor], ":", color="tab:orange")
        ax_err.plot([k0], [floor], "v", ms=8, color="tab:orange")
        ax_err.annotate(f"f = 0 exactly at step {k0}\n(off a log scale)", (k0, floor),
                        xytext=(10, 12), textcoords="offset points", fontsize=10)
        ax_err.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax_err.set_xlabel("step $k$")
    ax_err.set_ylabel("$f(x_k) - f_{\\min}$")
    ax_err.legend(fontsize=10, loc="best")
    # fixed margins, wide enough for the labels (the frame is cropped to its ink
    # afterwards): tight_layout would measure every tick label, half a frame's cost
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.15, top=0.82, wspace=0.36)
    if not positive[1:].all():
        outcome = f"The method reaches the minimum exactly at step {int(np.argmin(positive))}."
    elif f[-1] > f[0]:
        outcome = f"The method diverges: f grows from {f[0]:.2g} to {f[-1]:.2g} in {n_steps} steps."
    else:
        outcome = f"f falls from {f[0]:.2g} to {f[-1]:.2g} in {n_steps} steps."
    alt = (f"Left: the path of {method} ({label}) on f = (x^2 + b y^2)/2 with b = {b:.3g}, from (b, 1), "
           f"over the elliptical contours. Right: f at each step on a log scale, with the theory's "
           f"rate as a dashed line. {outcome}")
    return fig, alt


def step_size_explorer(b: float = 0.1, steps=None, n_steps: int = 40):
    """Fixed-step gradient descent on Strang's model problem as the step size s changes.

    Used in chapter "Gradient descent" (Strang). The default steps run from
    timid (0.2) through the best fixed step 2/(1 + b) to just past 2, where
    the steep direction starts to diverge.
    """
    steps = np.round(np.linspace(0.2, 2.1, 20), 2) if steps is None else list(steps)
    return explorer(lambda s: descent_figure("fixed step", b, s, n_steps), [("step s", steps)],
                    start=[int(np.argmin(np.abs(np.asarray(steps) - 1.0)))])


def descent_explorer(method: str = "exact line search", b: float = 1.0, *, bs=(0.01, 0.03, 0.1, 0.3, 1.0),
                     methods=DESCENT_METHODS, n_steps: int = 40):
    """Choose the method and b; see the path and the error curve at the method's best step.

    Used in chapter "Momentum, Newton and stochastic gradient descent". The
    problem is Strang's f(x, y) = (x^2 + b y^2)/2 started at (b, 1); each
    method runs with its best step for that b (fixed step s = 2/(1 + b), the
    heavy ball and Nesterov with their best s and beta, Newton with t = 1).
    ``method`` and ``b`` choose the view shown first.
    """
    methods, bs = list(methods), list(bs)
    if method not in methods or b not in bs:
        raise ValueError(f"the first view must be one of the offered ones: method in {methods}, b in {bs}; "
                         f"got {method!r}, {b!r}")

    def draw(method, b):
        return descent_figure(method, b, best_step(method, b), n_steps)

    return explorer(draw, [("method", methods), ("b", bs)], start=[methods.index(method), bs.index(b)])


# --------------------------------------------------------------------------- chapter 5

def temperature_explorer(logits, tokens, *, temperatures=None, top: int = 12, prompt: str | None = None):
    """A temperature slider over a real next-token distribution.

    ``logits`` is ``(vocab,)`` — the model's raw scores for the next token —
    and ``tokens`` the ``vocab`` token strings. The bars show
    softmax(logits / T) for the ``top`` most likely tokens (the order does not
    depend on T: temperature never reorders tokens, it only sharpens or
    flattens). T = 0 means the argmax. The default grid runs from 0 to 3.
    """
    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 1 or len(logits) != len(tokens):
        raise ValueError(f"logits must be 1-D with one entry per token, got {logits.shape} "
                         f"and {len(tokens)} tokens")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(logits):
        raise ValueError(f"top must be an integer in [1, {len(logits)}], got {top!r}")
    temperatures = np.round(np.arange(0, 3.01, 0.1), 2) if temperatures is None else list(temperatures)
    order = np.argsort(-logits, kind="stable")[:top]
    shown = [tokens[i] for i in order]
    where = f" after {prompt!r}" if prompt else ""

    figure = []  # one figure, drawn once; each frame changes bars and title

    def draw(T):
        if T == 0:
            probs = np.zeros_like(logits)
            probs[int(np.argmax(logits))] = 1.0
        else:
            z = logits / T
            probs = np.exp(z - z.max())
            probs /= probs.sum()
        title = f"next token{where}, T = {T:.2f}"
        if not figure:
            figure.append(plot_token_probabilities(probs[order], shown, title=title))
        fig = figure[0]
        ax = fig.axes[0]
        for bar, p in zip(ax.patches, probs[order]):
            bar.set_width(p)
        ax.set_title(title, fontsize=12)
        alt = (f"Bar chart of the {top} most likely next tokens{where} at temperature {T:.2f}; "
               f"the top token {shown[0]!r} has probability {probs[order[0]]:.2f}.")
        return fig, alt

    one = int(np.argmin(np.abs(np.asarray(temperatures) - 1.0)))
    return explorer(draw, [("temperature T", temperatures)], start=[one])
