"""Word vectors from co-occurrence: the counts, the PPMI formula and the neighbours they give."""

import math

import numpy as np
import pytest

from textbook_utils.lessons import embeddings as E


def test_words():
    assert E.words("The King's men, 3 of them!") == ["the", "king's", "men", "of", "them"]
    with pytest.raises(TypeError):
        E.words(b"bytes")


def test_cooccurrence_counts_pairs_within_the_window_symmetrically():
    ids = np.array([0, 1, 2, -1, 0])
    C = E.cooccurrence(ids, 3, window=1)
    expected = np.zeros((3, 3))
    expected[0, 1] = expected[1, 0] = 1
    expected[1, 2] = expected[2, 1] = 1  # the -1 breaks 2..0
    assert np.array_equal(C, expected)
    C2 = E.cooccurrence(ids, 3, window=2)
    # 0 and 2 meet twice at distance 2 (positions 0-2 and 2-4); -1 is never counted
    assert C2[0, 2] == C2[2, 0] == 2 and C2[0, 0] == 0 and C2.sum() == 2 * (2 + 2)


def test_ppmi_by_hand():
    C = np.array([[0.0, 2.0], [2.0, 4.0]])
    total = 8.0
    p_w = np.array([2, 6]) / total
    ctx = np.array([2, 6]) ** 0.75
    p_c = ctx / ctx.sum()
    expected = max(0.0, math.log((2 / total) / (p_w[0] * p_c[1])))
    assert E.ppmi(C)[0, 1] == pytest.approx(expected)
    assert E.ppmi(C)[0, 0] == 0.0  # never co-occur: log 0 clipped to 0


def test_words_in_the_same_contexts_become_neighbours():
    # "cat" and "dog" share every context; "red" and "blue" share theirs.
    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(400):
        animal = rng.choice(["cat", "dog"])
        colour = rng.choice(["red", "blue"])
        sentences.append(f"the {animal} runs and eats . a {colour} paint dries on wall .")
    wv = E.train_word_vectors(" ".join(sentences), dim=3, window=2, min_count=1)
    assert wv.nearest("cat", 1)[0][0] == "dog"
    assert wv.nearest("red", 1)[0][0] == "blue"
    assert np.allclose(np.linalg.norm(wv.vectors, axis=1), 1)
    assert wv.embed_text("CAT!") == pytest.approx(wv.vector("cat"))
    assert not wv.embed_text("zebra").any()
    with pytest.raises(KeyError):
        wv.vector("zebra")
    with pytest.raises(ValueError):
        E.train_word_vectors("the cat sat", window=0)
    with pytest.raises(ValueError, match="need more than dim"):
        E.train_word_vectors("the cat sat", dim=3, min_count=1)


def test_randomised_svd_finds_the_top_singular_values():
    rng = np.random.default_rng(1)
    Q1, _ = np.linalg.qr(rng.standard_normal((60, 60)))
    Q2, _ = np.linalg.qr(rng.standard_normal((60, 60)))
    M = Q1 @ np.diag(0.8 ** np.arange(60)) @ Q2.T  # decaying spectrum, like a PPMI matrix's
    U, S = E._top_singular(M, 5)
    assert np.allclose(S, np.linalg.svd(M, compute_uv=False)[:5], rtol=1e-3)
    assert np.allclose(U.T @ U, np.eye(5), atol=1e-8)
