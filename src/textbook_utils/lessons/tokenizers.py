"""Turning text into tokens and back: characters, and byte-pair encoding.

Used in chapter "GPT: what a transformer does" (``book/3b1b/05_gpt.ipynb``).

Both tokenizers follow one contract: ``train(text)`` learns a vocabulary,
``encode(s)`` gives a list of integer ids, ``decode(ids)`` gives text back,
and ``decode(encode(s)) == s``.

- :class:`CharTokenizer` gives each character of its training text its own id
  (ids ``0 .. vocab_size - 1``, in sorted order): tiny Shakespeare has 65. A
  character it has never seen cannot be encoded, and saying so is an error.
- :class:`BPETokenizer` starts from the 256 byte values and learns merges of
  the most frequent adjacent pair, as GPT-2's tokenizer does (Sennrich et al.
  2016, arXiv:1508.07909; Radford et al. 2019). Text is first split into
  words (a leading space stays with its word) and merges never cross words.
  Any string round-trips, even characters never seen in training: they are
  spelled as their UTF-8 bytes.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["BPETokenizer", "CharTokenizer"]


def _check_text(text, what="text"):
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")


def _check_ids(ids, vocab_size):
    if isinstance(ids, (str, bytes)):
        raise TypeError("ids must be a sequence of integers, not a string")
    out = []
    for i in ids:
        i = int(i) if hasattr(i, "__index__") else i
        if not isinstance(i, int):
            raise TypeError(f"token ids must be integers, got {i!r}")
        if not 0 <= i < vocab_size:
            raise ValueError(f"token id {i} is outside the vocabulary [0, {vocab_size})")
        out.append(i)
    return out


class CharTokenizer:
    """One token per distinct character of the training text, ids in sorted order."""

    def __init__(self, chars: str):
        _check_text(chars, "chars")
        if not chars:
            raise ValueError("a character tokenizer needs at least one character")
        self.chars = "".join(sorted(set(chars)))  # the vocabulary: token i is chars[i]
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def train(cls, text: str) -> "CharTokenizer":
        """The tokenizer whose vocabulary is every distinct character of ``text``."""
        return cls(text)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> list[int]:
        _check_text(s, "s")
        try:
            return [self.stoi[c] for c in s]
        except KeyError:
            i, c = next((i, c) for i, c in enumerate(s) if c not in self.stoi)
            raise ValueError(f"character {c!r} (position {i}) is not one of this tokenizer's "
                             f"{self.vocab_size} characters {self.chars!r}") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in _check_ids(ids, self.vocab_size))

    def token_strings(self, s: str) -> list[str]:
        """``s`` cut into the pieces its tokens stand for: here, its characters."""
        return [self.chars[i] for i in self.encode(s)]


# Words keep one leading space; digits, punctuation runs and other whitespace
# are words of their own. \w covers letters of every script.
_SPLIT = re.compile(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|_+|\s+(?!\S)|\s+")


class BPETokenizer:
    """Byte-level byte-pair encoding learned from a text.

    ``merges`` is the list of learned pairs in the order they were learned;
    merge ``k`` makes token ``256 + k``. ``vocab[i]`` is the bytes token ``i``
    stands for.
    """

    def __init__(self, merges=()):
        self.merges: list[tuple[int, int]] = [tuple(m) for m in merges]
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]
        for k, (a, b) in enumerate(self.merges):
            if not (0 <= a < 256 + k and 0 <= b < 256 + k):
                raise ValueError(f"merge {k} {(a, b)} refers to a token not yet defined")
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.ranks = {pair: k for k, pair in enumerate(self.merges)}
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, text: str, vocab_size: int = 512) -> "BPETokenizer":
        """Learn ``vocab_size - 256`` merges from ``text``.

        Counts how often each word occurs, then repeatedly merges the most
        frequent adjacent pair of tokens (ties go to the pair that entered the
        count first, so the same text always gives the same merges).
        """
        _check_text(text)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"vocab_size must be an integer >= 256, got {vocab_size!r}")
        words = Counter(_SPLIT.findall(text))
        seqs = [list(w.encode("utf-8")) for w in words]
        freqs = list(words.values())
        pairs: Counter = Counter()  # pair -> how often it occurs in the text
        where: dict[tuple[int, int], set[int]] = {}  # pair -> the words that hold it
        for w, (seq, f) in enumerate(zip(seqs, freqs)):
            for pair in zip(seq, seq[1:]):
                pairs[pair] += f
                where.setdefault(pair, set()).add(w)
        merges = []
        for k in range(vocab_size - 256):
            if not pairs:
                break  # every word is a single token already
            counts = list(pairs.values())  # the first of the most frequent:
            best = list(pairs)[counts.index(max(counts))]  # max(), in C
            merges.append(best)
            for w in sorted(where.pop(best, ())):
                old, f = seqs[w], freqs[w]
                for pair in zip(old, old[1:]):  # forget the word's old pairs ...
                    pairs[pair] -= f
                    if pairs[pair] <= 0:
                        del pairs[pair]
                seqs[w] = new = _merge(old, best, 256 + k)
                for pair in zip(new, new[1:]):  # ... and count its new ones
                    pairs[pair] += f
                    where.setdefault(pair, set()).add(w)
        return cls(merges)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _encode_word(self, word: str) -> list[int]:
        ids = self._cache.get(word)
        if ids is None:
            ids = list(word.encode("utf-8"))
            while len(ids) > 1:
                pair = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, float("inf")))
                if pair not in self.ranks:
                    break
                ids = _merge(ids, pair, 256 + self.ranks[pair])
            if len(self._cache) < 100_000:
                self._cache[word] = ids
        return list(ids)

    def encode(self, s: str) -> list[int]:
        _check_text(s, "s")
        ids = []
        for word in _SPLIT.findall(s):
            ids.extend(self._encode_word(word))
        return ids

    def decode(self, ids) -> str:
        ids = _check_ids(ids, self.vocab_size)
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def token_strings(self, s: str) -> list[str]:
        """``s`` cut into the pieces its tokens stand for (bytes that are not
        whole characters are shown as ``<0x..>``)."""
        out = []
        for i in self.encode(s):
            try:
                out.append(self.vocab[i].decode("utf-8"))
            except UnicodeDecodeError:
                out.append("".join(f"<0x{b:02X}>" for b in self.vocab[i]))
        return out


def _merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``ids`` by ``new``."""
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
