"""Milestones of neural networks, each with one sentence and its citation.

Used by the chapter "How we got here: a short history"
(``book/orientation/02_history.ipynb``), which draws :data:`MILESTONES` as a
timeline with :func:`plot_timeline` and plots the parameter counts the papers
report with :func:`parameter_counts`.

Every entry cites the publication that introduced the idea (authors, year,
venue). Parameter counts are only given where the cited paper states them.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["KINDS", "MILESTONES", "Milestone", "milestones",
           "parameter_counts", "plot_timeline"]

KINDS = ("model", "method", "data", "finding")


@dataclass(frozen=True)
class Milestone:
    """One step in the history: when, what, why it mattered, and where.

    ``kind`` is one of :data:`KINDS`. ``params`` is the number of learned
    parameters the cited paper reports for its model, or ``None`` where it
    reports none (or the entry is not a model). ``citation`` names the
    publication that introduced the idea, with its year.
    """

    year: int
    name: str
    sentence: str
    citation: str
    kind: str
    params: float | None = None


MILESTONES: tuple[Milestone, ...] = (
    Milestone(
        1943, "McCulloch–Pitts neuron",
        "A neuron modelled as a threshold unit that fires when enough of its "
        "inputs are on; networks of them can compute logical functions.",
        "W. S. McCulloch and W. Pitts, A logical calculus of the ideas "
        "immanent in nervous activity, Bulletin of Mathematical Biophysics 5, "
        "115–133 (1943)",
        "model"),
    Milestone(
        1958, "Perceptron",
        "A threshold neuron whose weights are learned from labelled examples "
        "by a simple error-correcting rule.",
        "F. Rosenblatt, The perceptron: a probabilistic model for information "
        "storage and organization in the brain, Psychological Review 65(6), "
        "386–408 (1958)",
        "model"),
    Milestone(
        1969, "Limits of one layer",
        "A single layer of perceptrons cannot compute functions such as XOR "
        "(parity), which cooled interest in neural networks for over a "
        "decade.",
        "M. Minsky and S. Papert, Perceptrons, MIT Press (1969)",
        "finding"),
    Milestone(
        1986, "Backpropagation",
        "The chain rule, applied layer by layer from the output back, gives "
        "the gradient of the cost for every weight of a multi-layer network, "
        "so hidden layers can learn useful features.",
        "D. E. Rumelhart, G. E. Hinton and R. J. Williams, Learning "
        "representations by back-propagating errors, Nature 323, 533–536 "
        "(1986)",
        "method"),
    Milestone(
        1997, "LSTM",
        "A recurrent network with gated memory cells that carry information "
        "over long time spans, trained with backpropagation through time.",
        "S. Hochreiter and J. Schmidhuber, Long short-term memory, Neural "
        "Computation 9(8), 1735–1780 (1997)",
        "model"),
    Milestone(
        1998, "LeNet-5 and MNIST",
        "A convolutional network trained end to end by gradient descent reads "
        "handwritten digits, and the MNIST set of 70,000 digits becomes the "
        "field's standard benchmark.",
        "Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, Gradient-based "
        "learning applied to document recognition, Proceedings of the IEEE "
        "86(11), 2278–2324 (1998)",
        "model", params=60_000),
    Milestone(
        2009, "ImageNet",
        "Millions of photographs hand-labelled into thousands of categories "
        "give vision models enough data to learn from.",
        "J. Deng, W. Dong, R. Socher, L.-J. Li, K. Li and L. Fei-Fei, "
        "ImageNet: a large-scale hierarchical image database, CVPR (2009)",
        "data"),
    Milestone(
        2012, "AlexNet",
        "A deep convolutional network trained on two GPUs wins the ImageNet "
        "challenge by a wide margin, and deep learning takes over computer "
        "vision.",
        "A. Krizhevsky, I. Sutskever and G. E. Hinton, ImageNet "
        "classification with deep convolutional neural networks, NeurIPS 25 "
        "(2012)",
        "model", params=60_000_000),
    Milestone(
        2013, "word2vec",
        "A shallow network trained to predict a word from its neighbours "
        "gives every word a vector, and directions in that space carry "
        "meaning: king - man + woman lands nearest to queen.",
        "T. Mikolov, K. Chen, G. Corrado and J. Dean, Efficient estimation of "
        "word representations in vector space, arXiv:1301.3781 (2013)",
        "method"),
    Milestone(
        2014, "GANs",
        "A generator network learns to make samples that a second network, "
        "trained at the same time, cannot tell from real data.",
        "I. J. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. "
        "Warde-Farley, S. Ozair, A. Courville and Y. Bengio, Generative "
        "adversarial nets, NeurIPS 27 (2014), arXiv:1406.2661",
        "method"),
    Milestone(
        2014, "Sequence to sequence",
        "One LSTM reads a sentence into a single vector and a second LSTM "
        "writes its translation from that vector, trained end to end on pairs "
        "of sentences.",
        "I. Sutskever, O. Vinyals and Q. V. Le, Sequence to sequence learning "
        "with neural networks, NeurIPS 27 (2014), arXiv:1409.3215",
        "model", params=384_000_000),
    Milestone(
        2014, "Attention",
        "A translation network learns where in the source sentence to look "
        "for each output word, instead of squeezing the sentence into one "
        "vector.",
        "D. Bahdanau, K. Cho and Y. Bengio, Neural machine translation by "
        "jointly learning to align and translate, arXiv:1409.0473 (2014)",
        "method"),
    Milestone(
        2014, "Adam",
        "An optimiser that gives every weight its own step size from running "
        "averages of its gradient and of its square, and becomes the default "
        "for training networks.",
        "D. P. Kingma and J. Ba, Adam: a method for stochastic optimization, "
        "arXiv:1412.6980 (2014), ICLR 2015",
        "method"),
    Milestone(
        2015, "Batch normalisation",
        "Normalising each layer's inputs over the mini-batch lets deep "
        "networks train with larger learning rates and in far fewer steps.",
        "S. Ioffe and C. Szegedy, Batch normalization: accelerating deep "
        "network training by reducing internal covariate shift, ICML (2015), "
        "arXiv:1502.03167",
        "method"),
    Milestone(
        2015, "Diffusion model",
        "A network learns to undo a process that slowly turns data into "
        "noise, and so generates new samples by starting from pure noise.",
        "J. Sohl-Dickstein, E. A. Weiss, N. Maheswaranathan and S. Ganguli, "
        "Deep unsupervised learning using nonequilibrium thermodynamics, ICML "
        "(2015), arXiv:1503.03585",
        "model"),
    Milestone(
        2015, "ResNet",
        "Blocks that add a learned correction to their own input let networks "
        "of 152 layers train, and win the ImageNet challenge of 2015.",
        "K. He, X. Zhang, S. Ren and J. Sun, Deep residual learning for image "
        "recognition, arXiv:1512.03385 (2015), CVPR 2016",
        "model"),
    Milestone(
        2017, "Transformer",
        "A network built from attention and per-token MLPs alone, with no "
        "recurrence, trains in parallel over the whole sequence and becomes "
        "the architecture of language models.",
        "A. Vaswani et al., Attention is all you need, NeurIPS 30 (2017), "
        "arXiv:1706.03762",
        "model", params=213_000_000),
    Milestone(
        2019, "GPT-2",
        "A 1.5-billion-parameter transformer trained only to predict the next "
        "token on web text performs many language tasks without task-specific "
        "training.",
        "A. Radford et al., Language models are unsupervised multitask "
        "learners, OpenAI technical report (2019)",
        "model", params=1_542_000_000),
    Milestone(
        2020, "Scaling laws",
        "The test loss of language models falls as a smooth power law in "
        "model size, data and compute over many orders of magnitude.",
        "J. Kaplan et al., Scaling laws for neural language models, "
        "arXiv:2001.08361 (2020)",
        "finding"),
    Milestone(
        2020, "GPT-3",
        "A 175-billion-parameter transformer learns new tasks from a few "
        "examples given in its prompt (few-shot learning), without any change "
        "to its weights.",
        "T. B. Brown et al., Language models are few-shot learners, NeurIPS "
        "33 (2020), arXiv:2005.14165",
        "model", params=175_000_000_000),
    Milestone(
        2022, "Instruction tuning (ChatGPT)",
        "Fine-tuning GPT-3 on human demonstrations and human preference "
        "rankings makes it follow instructions; the same recipe underlies "
        "ChatGPT, released in November 2022.",
        "L. Ouyang et al., Training language models to follow instructions "
        "with human feedback, NeurIPS 35 (2022), arXiv:2203.02155",
        "method"),
)


def milestones(start: int | None = None, stop: int | None = None, *,
               kind: str | None = None) -> list[Milestone]:
    """The milestones with start <= year <= stop, oldest first.

    Either bound may be None. ``kind`` keeps only the entries of one kind
    (see :data:`KINDS`).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None, "
                         f"got {kind!r}")
    return [m for m in MILESTONES
            if (start is None or m.year >= start)
            and (stop is None or m.year <= stop)
            and (kind is None or m.kind == kind)]


def parameter_counts() -> list[tuple[int, str, float]]:
    """(year, name, params) for each milestone whose paper reports a count."""
    return [(m.year, m.name, m.params) for m in MILESTONES
            if m.params is not None]


_COLOURS = {"model": "tab:blue", "method": "tab:orange", "data": "tab:green",
            "finding": "tab:purple"}


def plot_timeline(entries=None, ax=None):
    """Draw milestones on a vertical time axis, oldest at the top.

    ``entries`` is a list of :class:`Milestone` (default: all). Each is a
    dot at its year, coloured by kind, joined by a thin line to its label
    ("year  name") in an evenly spaced column on the right, so that crowded
    recent years stay readable. Returns the axes.
    """
    entries = sorted(MILESTONES if entries is None else entries,
                     key=lambda m: m.year)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.32 * len(entries) + 1.2))
    first, last = entries[0].year, entries[-1].year
    # label rows, evenly spaced over the same range as the years
    rows = np.linspace(first, last, len(entries))
    ax.plot([0, 0], [first - 2, last + 2], color="black", lw=1)
    for m, row in zip(entries, rows):
        colour = _COLOURS[m.kind]
        ax.plot(0, m.year, "o", color=colour, ms=6, zorder=3)
        ax.plot([0.05, 0.6, 0.75], [m.year, m.year, row], color=colour,
                lw=0.7)
        ax.text(0.8, row, f"{m.year}  {m.name}", va="center", fontsize=10)
    for kind, colour in _COLOURS.items():
        if any(m.kind == kind for m in entries):
            ax.plot([], [], "o", color=colour, label=kind)
    ax.legend(loc="lower left", fontsize=10, frameon=False)
    ax.set_ylim(last + 3, first - 3)  # time runs downwards
    ax.set_xlim(-2.2, 4.0)
    ax.set_xticks([])
    ax.set_ylabel("year")
    for side in ("right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    return ax
