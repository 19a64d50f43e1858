"""Word vectors learned from co-occurrence counts, and search in the space they span.

Used in chapter "Tokens and embeddings" (``book/questions/02_tokens_and_embeddings.ipynb``).

A word is described by the words around it ("You shall know a word by the
company it keeps", Firth 1957). The recipe, in three numpy steps:

1. count how often each pair of words occurs within ``window`` words of each
   other in the text: a (V, V) matrix C;
2. turn counts into positive pointwise mutual information,
   PPMI(w, c) = max(0, log P(w, c) / (P(w) P(c))), with the context
   probabilities smoothed by the power 0.75 (Levy, Goldberg & Dagan 2015);
3. keep the top ``dim`` singular directions (found by randomised SVD): each word becomes a row of
   U sqrt(S), a ``dim``-long vector, normalised to length 1.

Levy & Goldberg (2014) showed that word2vec's skip-gram with negative sampling
implicitly factorises a shifted PMI matrix, so this is the same idea computed
in closed form rather than by gradient descent. Similar words end up with a
large cosine similarity; the mean vector of a passage's words gives a crude
"semantic search" that needs no chat model at all.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np


__all__ = ["WordVectors", "cooccurrence", "ppmi", "train_word_vectors", "words"]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters and inner apostrophes), in order."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _WORD.findall(text.lower())


def cooccurrence(ids: np.ndarray, vocab_size: int, window: int = 4) -> np.ndarray:
    """(V, V) counts of word i occurring within ``window`` positions of word j.

    ``ids`` (n,) are word ids, with -1 for words outside the vocabulary
    (they keep their place but are not counted). The matrix is symmetric.
    """
    ids = np.asarray(ids)
    C = np.zeros(vocab_size * vocab_size, dtype=np.float64)
    for shift in range(1, window + 1):
        a, b = ids[:-shift], ids[shift:]
        keep = (a >= 0) & (b >= 0)
        pair = a[keep] * vocab_size + b[keep]
        C += np.bincount(pair, minlength=vocab_size * vocab_size)
    C = C.reshape(vocab_size, vocab_size)
    return C + C.T


def ppmi(C: np.ndarray, alpha: float = 0.75) -> np.ndarray:
    """Positive PMI of a (V, V) count matrix, contexts smoothed by the power ``alpha``."""
    C = np.asarray(C, dtype=np.float64)
    total = C.sum()
    p_w = C.sum(axis=1) / total  # (V,)
    ctx = C.sum(axis=0) ** alpha
    p_c = ctx / ctx.sum()  # (V,)
    with np.errstate(divide="ignore"):
        pmi = np.log(C / total) - np.log(p_w)[:, None] - np.log(p_c)[None, :]
    return np.maximum(pmi, 0.0)


class WordVectors:
    """A vocabulary and one unit-length vector per word: ``vectors`` (V, dim)."""

    def __init__(self, vocab: list[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or len(vocab) != len(vectors):
            raise ValueError(f"need one vector per word: {len(vocab)} words, vectors {vectors.shape}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vocab, self.vectors = list(vocab), vectors / np.where(norms == 0, 1, norms)
        self.index = {w: i for i, w in enumerate(self.vocab)}

    def __contains__(self, word) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray:
        if word not in self.index:
            raise KeyError(f"{word!r} is not in the vocabulary of {len(self.vocab)} words")
        return self.vectors[self.index[word]]

    def nearest(self, word: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` words with the largest cosine similarity to ``word`` (itself excluded)."""
        sims = self.vectors @ self.vector(word)  # (V,)
        order = [i for i in np.argsort(-sims, kind="stable") if self.vocab[i] != word][:k]
        return [(self.vocab[i], float(sims[i])) for i in order]

    def embed_text(self, text: str) -> np.ndarray:
        """Mean of the vectors of the known words of ``text``, normalised (zeros if none is known)."""
        rows = [self.index[w] for w in words(text) if w in self.index]
        if not rows:
            return np.zeros(self.vectors.shape[1])
        v = self.vectors[rows].mean(axis=0)
        return v / (np.linalg.norm(v) or 1.0)


def train_word_vectors(text: str, *, dim: int = 64, window: int = 4, min_count: int = 5,
                       max_vocab: int = 4000, stop: int = 0) -> WordVectors:
    """Word vectors for the ``max_vocab`` most frequent words of ``text`` (PPMI + SVD).

    ``stop`` drops that many of the most frequent words ("the", "and", ...)
    from the vocabulary; they still keep their places in the text.
    """
    if min(dim, window, min_count, max_vocab) < 1:
        raise ValueError(f"dim, window, min_count and max_vocab must be at least 1, "
                         f"got {dim}, {window}, {min_count}, {max_vocab}")
    tokens = words(text)
    counts = Counter(tokens)
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    vocab = ranked[stop:stop + max_vocab]
    if len(vocab) <= dim:
        raise ValueError(f"only {len(vocab)} words occur {min_count}+ times; need more than dim={dim}")
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.array([index.get(w, -1) for w in tokens])  # (n_words,)
    M = ppmi(cooccurrence(ids, len(vocab), window))  # (V, V)
    U, S = _top_singular(M, dim)
    return WordVectors(vocab, U * np.sqrt(S))


def _top_singular(M: np.ndarray, k: int, n_iter: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` left singular vectors (V, k) and values (k,) of M, by randomised
    subspace iteration (Halko, Martinsson & Tropp 2011): a few (V, V) x (V, k+10)
    products instead of a full SVD. Seeded, so the result is repeatable."""
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(M @ rng.standard_normal((M.shape[1], k + 10)))[0]  # (V, k + 10)
    for _ in range(n_iter):
        Q = np.linalg.qr(M @ (M.T @ Q))[0]
    U_small, S, _ = np.linalg.svd(Q.T @ M, full_matrices=False)  # (k + 10, V)
    return (Q @ U_small)[:, :k], S[:k]
