"""Passages, TF-IDF search and the pipeline, on small texts written here."""

import json
import math

import numpy as np
import pytest

from textbook_utils.lessons import retrieval as R


def test_terms_drop_stop_words():
    assert R.terms("What is the GPT-3 context window?") == ["gpt", "3", "context", "window"]


def test_split_passages_respects_the_size():
    text = "\n\n".join(f"Paragraph number {i} has some words." for i in range(20))
    parts = R.split_passages(text, "x.md", max_chars=100)
    assert all(len(p.text) <= 100 for p in parts) and all(p.source == "x.md" for p in parts)
    assert " ".join(p.text for p in parts) == " ".join(text.split())
    with pytest.raises(ValueError):
        R.split_passages(text, "x.md", max_chars=10)


def test_book_passages_read_pages_and_notebook_markdown(tmp_path):
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "page.md").write_text("# Title\n\nSee {term}`epoch` here, {glue:text}`n_epochs` of "
                                              "them.\n\n```python\nx = 1\n```\n")
    nb = {"cells": [{"cell_type": "markdown", "source": ["Gradient descent ", "walks downhill in ",
                                                        '<span data-glue="n">12</span> steps (see ',
                                                        "[Data](../orientation/03_data.ipynb))."]},
                    {"cell_type": "code", "source": ["print('hidden')"]}]}
    (tmp_path / "part" / "chapter.ipynb").write_text(json.dumps(nb))
    passages = R.book_passages(tmp_path)
    assert [p.source for p in passages] == ["part/chapter.ipynb", "part/page.md"]
    # A number written from a glued record is kept; a link keeps its text, not its target.
    assert passages[0].text == "Gradient descent walks downhill in 12 steps (see [Data])."
    assert passages[1].text == "Title. See epoch here, … of them."  # heading a sentence; no code, no glue key


def test_tfidf_vectors_and_search():
    texts = ["the cat sat on the mat", "dogs chase cats", "stock prices fell sharply"]
    index = R.TfidfIndex(texts)
    assert np.allclose(np.linalg.norm(index.matrix, axis=1), 1)
    # idf by hand: "cat" occurs in 1 of 3 texts, "sat" too; "mat" too
    assert index.idf[index.vocab["cat"]] == pytest.approx(math.log(3) + 1)
    hits = index.search(index.embed("prices of stock"), k=2)
    assert hits[0][0] == 2 and hits[0][1] > hits[1][1]
    assert index.search(index.embed("cat on a mat"), k=1)[0][0] == 0
    assert np.array_equal(index.embed_terms(R.terms("Cats, dogs!")), index.embed("cats dogs"))
    with pytest.raises(TypeError):
        index.embed_terms("cats dogs")
    with pytest.raises(ValueError):
        index.search(np.zeros(3), k=1)


def test_pipeline_runs_steps_in_order_and_keeps_the_trace():
    pipe = R.Pipeline([("double", lambda x: 2 * x), ("increment", lambda x: x + 1)])
    assert pipe(5) == 11
    out, trace = pipe.run(5)
    assert out == 11 and trace == {"double": 10, "increment": 11}
    with pytest.raises(ValueError):
        R.Pipeline([("a", abs), ("a", abs)])
    with pytest.raises(TypeError):
        R.Pipeline([abs])


def test_keyword_search_counts_shared_terms():
    texts = ["the cat sat on the mat", "a cat and a dog", "stock prices fell", "dog dog dog"]
    kw = R.KeywordIndex(texts)
    # "cat dog": text 1 shares both; texts 0 and 3 one each (ties keep text order); repeats count once
    assert kw.search("Cat? Dog!", k=3) == [(1, 2), (0, 1), (3, 1)]
    assert kw.search("nothing here", k=1) == [(0, 0)]


def test_sentences():
    assert R.sentences("One. Two? Three! Four 4.5 stays.") == ["One.", "Two?", "Three!", "Four 4.5 stays."]
    assert R.sentences("As Hu et al. (2021) show, e.g. here. Next.") == ["As Hu et al. (2021) show, e.g. here.", "Next."]
    assert R.sentences("  ") == []
