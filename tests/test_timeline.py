"""textbook_utils.figures.timeline: the timeline of the Orientation part holds the cited facts."""

import matplotlib

matplotlib.use("Agg")  # tests only: no window

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from textbook_utils.figures.timeline import MILESTONES, KINDS, milestones, parameter_counts, plot_timeline  # noqa: E402

# Years and venues (or arXiv identifiers) as the papers give them.
EXPECTED = {
    "Perceptron": (1958, "Psychological Review"),
    "Backpropagation": (1986, "Nature 323"),
    "LSTM": (1997, "Neural Computation 9(8)"),
    "LeNet-5 and MNIST": (1998, "Proceedings of the IEEE"),
    "AlexNet": (2012, "NeurIPS"),
    "word2vec": (2013, "arXiv:1301.3781"),
    "GANs": (2014, "arXiv:1406.2661"),
    "Sequence to sequence": (2014, "arXiv:1409.3215"),
    "Attention": (2014, "arXiv:1409.0473"),
    "Adam": (2014, "arXiv:1412.6980"),
    "Batch normalisation": (2015, "arXiv:1502.03167"),
    "Diffusion model": (2015, "arXiv:1503.03585"),
    "ResNet": (2015, "arXiv:1512.03385"),
    "Transformer": (2017, "arXiv:1706.03762"),
    "GPT-3": (2020, "arXiv:2005.14165"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_key_milestones_have_the_right_year_and_venue(name):
    (entry,) = [m for m in MILESTONES if m.name == name]
    year, venue = EXPECTED[name]
    assert entry.year == year
    assert venue in entry.citation


def test_timeline_is_in_order_and_every_entry_is_one_cited_sentence():
    years = [m.year for m in MILESTONES]
    assert years == sorted(years)
    for m in MILESTONES:
        assert m.sentence.endswith(".") and m.sentence.count(". ") == 0, m.name  # one sentence
        assert str(m.year) in m.citation


def test_reported_parameter_counts():
    counts = {name: params for _, name, params in parameter_counts()}
    assert counts["GPT-3"] == 175e9  # Brown et al. 2020, Table 2.1: 175.0B
    assert counts["AlexNet"] == 60e6  # Krizhevsky et al. 2012: "60 million parameters"
    assert counts["Sequence to sequence"] == 384e6  # Sutskever et al. 2014, section 3.4: "384M parameters"
    assert "Perceptron" not in counts  # no count claimed where the paper gives none
    assert all(a[0] <= b[0] for a, b in zip(parameter_counts(), parameter_counts()[1:]))


def test_filtering_by_years_and_kind():
    recent = milestones(2012, 2017)
    assert [m.name for m in recent] == [
        "AlexNet", "word2vec", "GANs", "Sequence to sequence", "Attention", "Adam",
        "Batch normalisation", "Diffusion model", "ResNet", "Transformer"]
    assert [m.name for m in milestones(kind="data")] == ["ImageNet"]  # the only one
    assert milestones(stop=1958)[-1].name == "Perceptron"
    assert len(milestones()) == len(MILESTONES)


def test_every_entry_is_well_formed():
    for m in MILESTONES:
        assert m.kind in KINDS, m.name
        assert m.name.strip() and m.citation.strip(), m
        assert m.params is None or m.params > 0, m.name
    assert len({m.name for m in MILESTONES}) == len(MILESTONES)  # no duplicates


def test_a_misspelt_kind_is_an_error_not_an_empty_list():
    with pytest.raises(ValueError, match="kind must be one of"):
        milestones(kind="paper")


def test_plot_timeline_draws_one_label_per_entry():
    entries = milestones(1986, 2012)
    ax = plot_timeline(entries)
    labels = [t.get_text() for t in ax.texts]
    assert labels == [f"{m.year}  {m.name}" for m in entries]
    lo, hi = sorted(ax.get_ylim())
    assert lo < 1986 and hi > 2012
    plt.close(ax.figure)


def test_the_years_2012_to_2017_are_not_empty():
    """Issue 15: the timeline jumped from AlexNet (2012) to the Transformer (2017)."""
    years = {m.year for m in MILESTONES}
    assert {2013, 2014, 2015} <= years


def test_taxonomy_figure_draws_one_box_per_region_with_its_lines():
    from textbook_utils.figures.plotting import plot_taxonomy

    regions = {"artificial intelligence": ["search"], "machine learning": ["trees", "SVMs"],
               "deep learning": ["ResNet"], "generative models": ["GPT", "diffusion"]}
    ax = plot_taxonomy(regions)
    assert len(ax.patches) == 4
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["artificial intelligence", "search", "machine learning", "trees", "SVMs",
                     "deep learning", "ResNet", "generative models", "GPT", "diffusion"]
    boxes = [p.get_bbox() for p in ax.patches]
    for outer, inner in zip(boxes, boxes[1:]):  # each box lies inside the one before
        assert outer.x0 < inner.x0 and inner.x1 < outer.x1
        assert outer.y0 < inner.y0 and inner.y1 < outer.y1
    plt.close(ax.figure)
