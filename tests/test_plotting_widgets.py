"""textbook_utils.figures.plotting and .widgets: the figures and the explorer of chapter 1."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window. Notebooks keep the inline backend.

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from textbook_utils.tools.data import load_mnist  # noqa: E402
from textbook_utils.figures.plotting import plot_digit, plot_layers  # noqa: E402
from textbook_utils.lessons.scratch import Network  # noqa: E402
from textbook_utils.figures.widgets import activation_explorer  # noqa: E402


def test_plot_layers_draws_one_panel_per_layer_and_marks_the_answer():
    images, labels = load_mnist("test")
    _, acts = Network([784, 16, 16, 10]).forward(images[0])
    fig = plot_layers([a[:, 0] for a in acts], label=int(labels[0]))
    assert len(fig.axes) == 4
    answer = int(np.argmax(acts[-1]))
    assert fig.axes[-1].get_title().endswith(f"answer {answer}")
    assert "label 7" in fig.axes[0].get_title()
    plt.close(fig)


def _pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_plot_layers_redrawn_in_place_is_the_same_picture_as_drawn_afresh():
    """The explorer's frames reuse one figure: each must be what a fresh one shows."""
    images, labels = load_mnist("test")
    # an untrained network gives every image the same answer; its seed moves it
    nets = [Network([784, 16, 16, 10], seed=seed) for seed in (0, 1)]
    answers = [int(np.argmax(net.feedforward(images[k]))) for net, k in zip(nets, (0, 1))]
    assert answers[0] != answers[1]  # so the answer's box moves
    layers = [[a[:, 0] for a in net.forward(images[k])[1]] for net, k in zip(nets, (0, 1))]
    fig = plot_layers(layers[0], label=int(labels[0]))
    again = plot_layers(layers[1], label=int(labels[1]), fig=fig)
    assert again is fig and len(fig.axes) == 4
    assert fig.axes[-1].get_title().endswith(f"answer {answers[1]}")
    assert fig.axes[0].get_title().endswith(f"label {int(labels[1])}")
    fresh = plot_layers(layers[1], label=int(labels[1]))
    assert np.array_equal(_pixels(again), _pixels(fresh))
    # layers of other sizes: the figure is cleared and drawn afresh
    small = [a[:, 0] for a in Network([784, 30, 10]).forward(images[0])[1]]
    assert len(plot_layers(small, fig=fig).axes) == 3
    plt.close("all")


def test_plot_inputs_are_checked():
    with pytest.raises(ValueError, match=r"\(784,\) or \(28, 28\)"):
        plot_digit(np.zeros(100))
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        plot_layers([np.zeros(784), np.array([2.0, 0.5])])


def _frames(widget):
    """The frames (HTML widgets) under a stack, in order: first control outermost."""
    import ipywidgets as widgets

    if isinstance(widget, widgets.HTML):
        return [widget]
    return [frame for child in widget.children for frame in _frames(child)]


def test_explorer_draws_every_combination_and_links_each_control_to_its_stacks():
    import ipywidgets as widgets

    from textbook_utils.figures.widgets import explorer

    calls = []

    def draw(letter, number):
        calls.append((letter, number))
        fig, ax = plt.subplots()
        ax.set_title(f"{letter}{number}")
        return fig, f"frame {letter}{number}"

    box = explorer(draw, [("letter", ["a", "b"]), ("number", [1, 2, 3])], start=[1, 2])
    assert calls == [(c, n) for c in "ab" for n in (1, 2, 3)]
    menu, slider = box.children[0].children
    assert isinstance(menu, widgets.Dropdown) and isinstance(slider, widgets.SelectionSlider)
    assert (menu.index, slider.index) == (1, 2) and slider.options == ("1", "2", "3")
    outer = box.children[1]
    assert isinstance(outer, widgets.Stack) and outer.selected_index == 1
    assert all(isinstance(inner, widgets.Stack) and inner.selected_index == 2 for inner in outer.children)
    alts = [frame.value.split('"')[1] for frame in _frames(outer)]
    assert alts == [f"frame {c}{n}" for c in "ab" for n in (1, 2, 3)]
    assert all('src="data:image/png;base64,' in frame.value for frame in _frames(outer))
    links = box.links
    # one link from the menu to the outer stack, one from the slider to each inner stack
    assert sorted((l.source[0] is menu, l.target[0] is outer) for l in links) == [(False, False)] * 2 + [(True, True)]
    assert all(l.source[1] == "index" and l.target[1] == "selected_index" for l in links)
    plt.close("all")


def test_explorer_refuses_what_it_cannot_store_or_describe():
    from textbook_utils.figures.widgets import MAX_FRAMES, explorer

    def draw(*values):
        return plt.figure(), "a figure"

    with pytest.raises(ValueError, match=f"at most {MAX_FRAMES} frames"):
        explorer(draw, [("a", range(20)), ("b", range(20))])
    with pytest.raises(ValueError, match="non-empty values"):
        explorer(draw, [("a", [])])
    with pytest.raises(ValueError, match="start must give one valid index"):
        explorer(draw, [("a", [1, 2])], start=[2])
    with pytest.raises(ValueError, match="non-empty alt text"):
        explorer(lambda v: (plt.figure(), " "), [("a", [1])])
    plt.close("all")


def test_activation_explorer_offers_images_and_seeds_with_true_descriptions():
    images, labels = load_mnist("test")
    box = activation_explorer(images[:20], labels[:20], n_images=4, seeds=(0, 5))
    image_slider, seed_slider = box.children[0].children
    assert image_slider.options == ("0", "1", "2", "3") and seed_slider.options == ("0", "5")
    frames = _frames(box.children[1])
    assert len(frames) == 8
    assert "weights seed 0) for test image 0, a 7" in frames[0].value
    assert "weights seed 5) for test image 3, a 0" in frames[-1].value
    answer = int(np.argmax(Network([784, 16, 16, 10], seed=5).forward(images[3])[1][-1]))
    assert f"its answer is {answer}." in frames[-1].value
    plt.close("all")


def test_explorer_rejects_bad_data():
    images, labels = load_mnist("test")
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        activation_explorer(images[:5].reshape(5, 28, 28), labels[:5])
    with pytest.raises(ValueError, match="labels must have shape"):
        activation_explorer(images[:5], labels[:4])


def test_a_frame_is_the_figure_cropped_as_savefig_bbox_inches_tight_crops_it_at_2x():
    import base64
    import io
    import re

    from PIL import Image

    from textbook_utils.figures.widgets import explorer

    def draw(width):
        fig, ax = plt.subplots(figsize=(width, 2))
        ax.plot([0, 1], [0, 1])
        ax.set_title("a title")
        return fig, f"a {width}-inch figure"

    frame = _frames(explorer(draw, [("width", [3])], dpi=100).children[1])[0]
    png = base64.b64decode(frame.value.split("base64,")[1].split('"')[0])
    reference = io.BytesIO()                   # matplotlib's own tight crop, at 2 x 100 dpi
    fig, _ = draw(3)
    fig.savefig(reference, format="png", dpi=200, bbox_inches="tight")
    plt.close(fig)
    got, want = Image.open(io.BytesIO(png)).size, Image.open(reference).size
    # the ink, not the text boxes, is cropped to: a few pixels tighter at most
    assert all(0 <= w - g <= 40 for g, w in zip(got, want)), (got, want)
    assert got[0] < 3 * 200  # cropped: narrower than the 3-inch canvas
    # shown at 100 CSS px per inch: half its pixel width
    shown = float(re.search(r'width="([0-9.]+)"', frame.value).group(1))
    assert shown == got[0] / 2 and 200 < shown < 300


def test_book_style_lays_figures_out_at_100_dpi_so_the_column_holds_them_whole():
    from textbook_utils.figures.plotting import COLUMN_INCHES, book_style

    with plt.rc_context():
        plt.rcParams["figure.dpi"] = 72
        book_style()
        fig = plt.figure(figsize=(COLUMN_INCHES, 3))
        # the website's column is about 672 CSS px; the figure fits it
        assert 640 <= fig.get_dpi() * COLUMN_INCHES <= 672
        plt.close(fig)


def test_figure_html_is_a_2x_png_shown_at_the_figure_size():
    import base64
    import io
    import re

    from PIL import Image

    from textbook_utils.figures.plotting import figure_html

    fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
    ax.plot([0, 1], [0, 1])
    markup = figure_html(fig, "a line").data
    plt.close(fig)
    png = base64.b64decode(markup.split("base64,")[1].split('"')[0])
    shown = float(re.search(r'width="([0-9.]+)"', markup).group(1))
    assert Image.open(io.BytesIO(png)).width == 2 * shown
    assert 300 < shown <= 400 + 20           # about the 4-inch figure, tightly cropped


def test_every_kind_of_figure_records_its_smallest_text_for_the_reading_test():
    """Static figures, figure_html and explorer frames carry a PNG text chunk
    with the smallest text drawn, in points ("none" without text)."""
    import base64
    import io

    from PIL import Image

    from textbook_utils.figures.plotting import (TEXT_SIZE_KEY, _retina_png,
                                                 figure_html)
    from textbook_utils.figures.widgets import explorer

    def recorded(png):
        return Image.open(io.BytesIO(png)).text[TEXT_SIZE_KEY]

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    ax.set_title("small", fontsize=7)
    ax.legend(["large"], fontsize=12)
    png, size = _retina_png(fig)               # what a notebook shows
    assert recorded(png) == "7" and Image.open(io.BytesIO(png)).width // 2 == size["width"]
    markup = figure_html(fig, "a line").data
    assert recorded(base64.b64decode(markup.split("base64,")[1].split('"')[0])) == "7"
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(2, 2))     # a picture with no text at all
    ax.imshow(np.eye(3))
    ax.axis("off")
    assert recorded(_retina_png(fig)[0]) == "none"
    plt.close(fig)

    def draw(size):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x", fontsize=size)
        return fig, f"labels at {size} points"

    frames = _frames(explorer(draw, [("size", [9, 11])]).children[1])
    sizes = [recorded(base64.b64decode(f.value.split("base64,")[1].split('"')[0]))
             for f in frames]
    tick = plt.rcParams["xtick.labelsize"]
    tick_pt = matplotlib.font_manager.FontProperties(size=tick).get_size_in_points()
    assert sizes == [f"{min(9, tick_pt):g}", f"{min(11, tick_pt):g}"]


def test_temperature_frames_redrawn_on_one_figure_match_fresh_drawings():
    # temperature_explorer draws one figure and changes its bars and title
    # per frame; each frame must be what a figure drawn for that T alone is
    from textbook_utils.figures.widgets import temperature_explorer

    logits = np.array([3.0, 2.0, 0.5, 0.0, -1.0])
    tokens = ["a", "b", " ", "\n", "e"]
    temperatures = [0, 0.5, 2.0]
    frames = _frames(temperature_explorer(logits, tokens, top=4, temperatures=temperatures).children[1])
    alone = [_frames(temperature_explorer(logits, tokens, top=4, temperatures=[T]).children[1])[0]
             for T in temperatures]
    assert [f.value for f in frames] == [f.value for f in alone]
    assert len({f.value for f in frames}) == 3           # the frames differ
    p = np.exp(logits / 2.0) / np.exp(logits / 2.0).sum()  # softmax at T = 2
    assert f"probability {p[0]:.2f}" in frames[2].value and "probability 1.00" in frames[0].value
    plt.close("all")
