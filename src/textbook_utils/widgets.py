"""Interactive explorers the chapters embed (ipywidgets).

Each builder returns a widget to display as a cell's last expression. In
Jupyter every control is live; in the built book the page shows the view as it
was when the notebook was executed.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML

from .plotting import figure_html, plot_contours, plot_layers, plot_path, plot_token_probabilities
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


# --- Strang chapters: a gradient-descent explorer on the model problem ---------------------------

__all__ += ["descent_explorer"]

DESCENT_METHODS = ("fixed step", "exact line search", "momentum", "Newton")


def _descent_run(method: str, b: float, s: float, n_steps: int):
    """Run one method on f = (x^2 + b y^2)/2 from (b, 1): (path, theory factor per step for f or None, label)."""
    from . import optim

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
    if method == "Newton":
        return optim.newton(q.grad, q.hessian, x0, n_steps, t=s), (1 - s) ** 2, f"t = {s:.3g}"
    raise ValueError(f"method must be one of {DESCENT_METHODS}, got {method!r}")


def _best_step(method: str, b: float) -> float:
    from . import optim

    lam = [min(b, 1.0), max(b, 1.0)]
    if method == "momentum":
        return optim.heavy_ball_parameters(*lam)[0]
    if method == "Newton":
        return 1.0
    return 2 / (lam[0] + lam[1])  # fixed step (exact line search ignores s)


def descent_figure(method: str, b: float, s: float, n_steps: int = 40):
    """The explorer's figure: the path over the contours (left) and f(x_k) on a log scale (right).

    Returns ``(fig, alt)``. The dashed line is the theory's factor per step
    for f (the square of the factor for x), drawn from f_0. Used by
    :func:`descent_explorer` and by the chapter "Momentum, Newton and
    stochastic gradient descent".
    """
    from .optim import model_problem

    if method not in DESCENT_METHODS:
        raise ValueError(f"method must be one of {DESCENT_METHODS}, got {method!r}")
    if method == "Newton" and not 0 < s <= 1:
        raise ValueError(f"Newton's damping t must be in (0, 1], got {s}")
    path, factor, label = _descent_run(method, b, s, n_steps)
    q = model_problem(b)
    f = q.f(path)
    fig, (ax_path, ax_err) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
    wx, wy = 1.25 * np.sqrt(b * b + b), 1.25 * np.sqrt(1 + b)
    plot_contours(q.f, (-wx, wx), (-wy, wy), ax_path, levels=10, equal_scales=False)
    plot_path(path, ax_path, color="tab:orange")
    ax_path.set_title(f"{method}, b = {b:.3g}\n{label}", fontsize=10)
    k = np.arange(len(f))
    positive = f > 0
    ax_err.semilogy(k[positive], f[positive], "o-", ms=3, color="tab:orange", label="$f(x_k)$")
    if factor > 0:
        ax_err.semilogy(k, f[0] * factor**k, "k--", lw=1, label=f"theory: factor {factor:.3g} per step")
    ax_err.set_xlabel("step $k$")
    ax_err.set_ylabel("$f(x_k) - f_{\\min}$")
    ax_err.legend(fontsize=8, loc="best")
    fig.tight_layout()
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


def descent_explorer(b: float = 0.1, method: str = "exact line search", s: float = 1.0, n_steps: int = 40):
    """Choose b, the method and the step size; see the path and the error curve.

    Used in chapter "Momentum, Newton and stochastic gradient descent"
    (``book/strang/02_momentum_newton_sgd.ipynb``). The problem is Strang's
    f(x, y) = (x^2 + b y^2)/2 started at (b, 1). The step slider is s for
    fixed steps and momentum (which uses the best beta for b), and the
    damping t for Newton; exact line search chooses its own steps. "best s"
    sets the slider to the best value for the method and b.
    """
    if method not in DESCENT_METHODS:
        raise ValueError(f"method must be one of {DESCENT_METHODS}, got {method!r}")
    if not 1e-3 <= b <= 1:
        raise ValueError(f"b must be in [0.001, 1], got {b}")
    if not 0.01 <= s <= 4:
        raise ValueError(f"s must be in [0.01, 4], got {s}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= 200:
        raise ValueError(f"n_steps must be an integer in [1, 200], got {n_steps!r}")
    b_slider = widgets.FloatLogSlider(value=b, base=10, min=-3, max=0, step=0.25, description="b",
                                      continuous_update=False, readout_format=".3g")
    method_menu = widgets.Dropdown(options=DESCENT_METHODS, value=method, description="method")
    s_slider = widgets.FloatSlider(value=s, min=0.01, max=4.0, step=0.01, description="step s / t",
                                   continuous_update=False, style={"description_width": "initial"})
    best = widgets.Button(description="best s", tooltip="set the step to the best value for this method and b")
    out = widgets.Output()

    def redraw(change=None):
        s_slider.disabled = method_menu.value == "exact line search"
        out.outputs = ()
        try:
            fig, alt = descent_figure(method_menu.value, b_slider.value, s_slider.value, n_steps)
        except ValueError as err:  # e.g. Newton with t > 1
            out.append_display_data(HTML(f"<p>{html.escape(str(err))}</p>"))
            return
        out.append_display_data(figure_html(fig, alt))  # works with or without a kernel
        plt.close(fig)

    def set_best(_button=None):
        s_slider.value = round(_best_step(method_menu.value, b_slider.value), 2)

    for control in (b_slider, method_menu, s_slider):
        control.observe(redraw, names="value")
    best.on_click(set_best)
    redraw()
    return widgets.VBox([widgets.HBox([b_slider, method_menu]), widgets.HBox([s_slider, best]), out])


# --------------------------------------------------------------------------- temperature
# Chapter "GPT: what a transformer does" (book/3b1b/05_gpt.ipynb).

__all__ += ["temperature_explorer"]


def temperature_explorer(logits, tokens, *, temperature: float = 1.0, top: int = 15,
                         prompt: str | None = None):
    """A temperature slider over a real next-token distribution.

    ``logits`` is ``(vocab,)`` — the model's raw scores for the next token —
    and ``tokens`` the ``vocab`` token strings. The bars show
    softmax(logits / T) for the ``top`` most likely tokens (the order does not
    depend on T: temperature never reorders tokens, it only sharpens or
    flattens). The slider runs from 0 (argmax) to 3; 2 is where OpenAI's API
    stops, a cap, not a mathematical limit.
    """

    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 1 or len(logits) != len(tokens):
        raise ValueError(f"logits must be 1-D with one entry per token, got {logits.shape} "
                         f"and {len(tokens)} tokens")
    if not 0 <= temperature <= 3:
        raise ValueError(f"temperature must be in [0, 3], got {temperature}")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(logits):
        raise ValueError(f"top must be an integer in [1, {len(logits)}], got {top!r}")
    order = np.argsort(-logits, kind="stable")[:top]

    slider = widgets.FloatSlider(value=temperature, min=0.0, max=3.0, step=0.05, description="T",
                                 continuous_update=False, readout_format=".2f")
    out = widgets.Output()

    def redraw(change=None):
        T = slider.value
        if T == 0:
            probs = np.zeros_like(logits)
            probs[int(np.argmax(logits))] = 1.0
        else:
            z = logits / T
            probs = np.exp(z - z.max())
            probs /= probs.sum()
        shown = [tokens[i] for i in order]
        where = f" after {prompt!r}" if prompt else ""
        fig = plot_token_probabilities(probs[order], shown,
                                       title=f"next token{where}, T = {T:.2f}")
        alt = (f"Bar chart of the {top} most likely next tokens{where} at temperature {T:.2f}; "
               f"the top token {shown[0]!r} has probability {probs[order[0]]:.2f}.")
        out.outputs = ()
        out.append_display_data(figure_html(fig, alt))
        plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, out])
