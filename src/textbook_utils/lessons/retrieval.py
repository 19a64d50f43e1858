"""Retrieval over the book's own pages, and a pipeline built from plain functions.

Used in chapter "Specialising a model" (``book/questions/04_specialising_a_model.ipynb``):
the retrieval half of retrieval-augmented generation (RAG; Lewis et al. 2020,
arXiv:2005.11401), done with nothing but numpy.

- :func:`book_passages` reads the book's Markdown pages and the Markdown
  cells of its notebooks and cuts them into passages of a few sentences.
- :class:`TfidfIndex` turns each passage into a TF-IDF vector (term
  frequency times inverse document frequency; Spärck Jones 1972), normalised
  to length 1, so that a dot product is the cosine similarity. These are
  *sparse, counted* vectors, not learned embeddings: the learned kind
  (:mod:`textbook_utils.lessons.embeddings`) can be swapped in by the same interface.
- :class:`KeywordIndex` is the baseline it is measured against: rank the
  passages by how many of the question's words they contain.
- :func:`sentences` cuts a passage into sentences, so that an answer can be
  *extracted*: the one sentence that matches the question best.
- :class:`Pipeline` runs named steps one after another and keeps what each
  produced, which is all that "pipeline" means: tokenise, embed, retrieve,
  generate.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["KeywordIndex", "Passage", "Pipeline", "TfidfIndex", "book_passages", "sentences",
           "split_passages", "terms"]

_TERM = re.compile(r"[a-z0-9]+")
# Common English words that carry little meaning for search.
STOP_WORDS = frozenset("""a an and are as at be by for from has have in is it its of on or that the
this to was were will with what which who why how do does can i you we they he she not no but if
then than so into out up about also more most such only their there these those our your""".split())


def terms(text: str) -> list[str]:
    """Lower-case words and numbers of ``text``, stop words removed."""
    return [t for t in _TERM.findall(text.lower()) if t not in STOP_WORDS]


_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bal\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bcf\.)\s+")


def sentences(text: str) -> list[str]:
    """``text`` cut after every ``.``, ``!`` or ``?`` that a space follows, except
    in "et al.", "e.g.", "i.e." and "cf."."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


@dataclass(frozen=True)
class Passage:
    """A few sentences of a page: its ``source`` (path relative to the book) and ``text``."""

    source: str
    text: str


def _clean(markdown: str) -> str:
    """Markdown without code blocks, directive fences, roles, tags and link targets; a
    number written from a glued record is kept, a glue role becomes "…", and a heading a
    sentence of its own."""
    text = re.sub(r"```([^\n]*)\n(.*?)```",  # keep a directive's prose, drop code
                  lambda m: m.group(2) if m.group(1).startswith("{") and not m.group(1).startswith("{code")
                  else "", markdown, flags=re.S)
    text = re.sub(r"^:[a-z-]+:.*$", "", text, flags=re.M)  # directive options
    text = re.sub(r'<span data-glue="[^"]*">(.*?)</span>', r"\1", text)  # the number itself
    text = re.sub(r"\{glue(:[a-z]+)?\}`[^`]*`", "…", text)  # a glue role's key: not words
    text = re.sub(r"\{[a-z:]+\}`([^`<]*)(<[^>]*>)?`", r"\1", text)  # {term}`x`, {doc}`x`
    text = re.sub(r"\]\([^)]*\)", "]", text)  # [text](url) -> [text]
    text = re.sub(r"^#+\s*(.*?)[.:?!]?\s*$", r"\1.", text, flags=re.M)  # a heading: a sentence
    return re.sub(r"[ \t]+", " ", text)


def split_passages(text: str, source: str, max_chars: int = 600) -> list[Passage]:
    """Cut ``text`` at blank lines into passages of at most about ``max_chars`` characters."""
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50, got {max_chars!r}")
    passages, current = [], ""
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        if current and len(current) + len(para) > max_chars:
            passages.append(Passage(source, current))
            current = ""
        current = f"{current} {para}".strip()
    if current:
        passages.append(Passage(source, current))
    return passages


def book_passages(book_dir, max_chars: int = 600) -> list[Passage]:
    """Passages of every ``*.md`` page and every notebook's Markdown cells under ``book_dir``.

    Files are read in sorted order; ``source`` is the path relative to ``book_dir``.
    """
    book_dir = Path(book_dir)
    if not book_dir.is_dir():
        raise FileNotFoundError(f"{book_dir} is not a folder; pass the book's book/ folder")
    passages = []
    for path in sorted(book_dir.rglob("*")):
        if ".ipynb_checkpoints" in path.parts or path.suffix not in (".md", ".ipynb"):
            continue
        if path.suffix == ".md":
            markdown = path.read_text(encoding="utf-8")
        else:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            markdown = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        passages += split_passages(_clean(markdown), str(path.relative_to(book_dir)), max_chars)
    return passages


class TfidfIndex:
    """TF-IDF vectors of a list of texts, searchable by cosine similarity.

    idf(t) = ln(N / df(t)) + 1 over the N texts; a text's vector holds
    (1 + ln count) * idf for each of its terms, normalised to length 1.
    """

    def __init__(self, texts: list[str]):
        if isinstance(texts, str) or not texts:
            raise ValueError("texts must be a non-empty list of strings")
        docs = [Counter(terms(t)) for t in texts]
        df = Counter(term for doc in docs for term in doc)
        self.vocab = {t: i for i, t in enumerate(sorted(df))}
        self.idf = np.array([math.log(len(docs) / df[t]) + 1 for t in sorted(df)])  # (V,)
        self.matrix = np.stack([self._vector(doc) for doc in docs])  # (N, V), unit rows

    def _vector(self, counts: Counter) -> np.ndarray:
        v = np.zeros(len(self.vocab))
        for term, c in counts.items():
            if term in self.vocab:
                v[self.vocab[term]] = (1 + math.log(c)) * self.idf[self.vocab[term]]
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def embed(self, text: str) -> np.ndarray:
        """The unit TF-IDF vector (V,) of ``text``; words never seen in the index are ignored."""
        return self.embed_terms(terms(text))

    def embed_terms(self, tokens: list[str]) -> np.ndarray:
        """The unit TF-IDF vector (V,) of an already tokenised text (a list of terms)."""
        if isinstance(tokens, str):
            raise TypeError("tokens must be a list of terms; use embed() for raw text")
        return self._vector(Counter(tokens))

    def search(self, query_vector: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
        """The ``k`` rows most similar to ``query_vector``: (row, cosine), best first."""
        scores = self.matrix @ np.asarray(query_vector)  # (N, V) @ (V,) -> (N,)
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in best]


class KeywordIndex:
    """Keyword search, the baseline: a text scores the number of distinct query terms it contains."""

    def __init__(self, texts: list[str]):
        if isinstance(texts, str) or not texts:
            raise ValueError("texts must be a non-empty list of strings")
        self.term_sets = [set(terms(t)) for t in texts]

    def search(self, query: str, k: int = 3) -> list[tuple[int, int]]:
        """The ``k`` texts sharing most terms with ``query``: (row, shared terms), ties in text order."""
        q = set(terms(query))
        counts = np.array([len(q & s) for s in self.term_sets])  # (N,)
        best = np.argsort(-counts, kind="stable")[:k]
        return [(int(i), int(counts[i])) for i in best]


class Pipeline:
    """Named steps run in order, each fed the previous step's output.

    ``Pipeline([("tokenise", f), ("embed", g)])(x)`` returns ``g(f(x))``;
    ``run(x)`` also returns every intermediate result by step name.
    """

    def __init__(self, steps):
        steps = list(steps)
        if not steps:
            raise ValueError("a pipeline needs at least one step")
        for step in steps:
            if not (isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str) and callable(step[1])):
                raise TypeError(f"each step must be a (name, function) pair, got {step!r}")
        names = [name for name, _ in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique, got {names}")
        self.steps = steps

    def run(self, x) -> tuple[object, dict]:
        trace = {}
        for name, step in self.steps:
            x = trace[name] = step(x)
        return x, trace

    def __call__(self, x):
        return self.run(x)[0]
