"""BPE round-trips any text; the character tokenizer knows exactly its training text's characters."""

import random

import pytest

from textbook_utils.tools.data import load_text
from textbook_utils.lessons.tokenizers import BPETokenizer, CharTokenizer

SAMPLE = load_text()[:20_000]
LADLE = "Ladle Rat Rotten Hut: wants pawn term, dare worsted ladle gull hoe lift wetter murder"


@pytest.fixture(scope="module")
def tokenizers():
    return CharTokenizer.train(load_text()), BPETokenizer.train(SAMPLE, vocab_size=400)


def _random_unicode(rng, n):
    chars = []
    while len(chars) < n:
        cp = rng.randrange(0x110000)
        if not 0xD800 <= cp <= 0xDFFF:  # surrogates are not characters
            chars.append(chr(cp))
    return "".join(chars)


def test_bpe_round_trips_random_unicode(tokenizers):
    rng = random.Random(0)
    _, bpe = tokenizers
    for n in (0, 1, 5, 40):
        for _ in range(25):
            s = _random_unicode(rng, n)
            assert bpe.decode(bpe.encode(s)) == s
    mixed = "Hello  wörld\t\n\n 日本語 😀 __x__ 3.14  "
    assert bpe.decode(bpe.encode(mixed)) == mixed


def test_round_trip_on_shakespeare_and_ladle_rat(tokenizers):
    text = load_text()[500_000:520_000]
    for tok in tokenizers:
        assert tok.decode(tok.encode(text)) == text
        assert tok.decode(tok.encode(LADLE)) == LADLE


def test_char_tokenizer_vocabulary_is_the_texts_characters():
    tok = CharTokenizer.train("hello")
    assert tok.chars == "ehlo" and tok.vocab_size == 4
    assert tok.encode("hello") == [1, 0, 2, 2, 3]
    assert tok.decode([3, 2, 0]) == "ole"
    assert tok.token_strings("hole") == ["h", "o", "l", "e"]
    with pytest.raises(ValueError, match=r"'é' \(position 1\) is not one of"):
        tok.encode("hé")  # a character it never saw is an error, not a silent byte


def test_shakespeare_has_65_characters():
    text = load_text()
    tok = CharTokenizer.train(text)
    assert tok.vocab_size == len(set(text)) == 65
    assert tok.chars[:2] == "\n " and tok.chars[-1] == "z"


def test_bpe_learns_frequent_pairs_and_compresses(tokenizers):
    tok = BPETokenizer.train("aaab aaab aaab", vocab_size=258)
    assert tok.merges[0] == (ord("a"), ord("a"))
    assert tok.vocab[256] == b"aa"
    char, bpe = tokenizers
    assert bpe.vocab_size == 400
    assert len(bpe.encode(SAMPLE)) < 0.7 * len(char.encode(SAMPLE))
    assert "".join(bpe.token_strings(LADLE)) == LADLE


def test_ties_go_to_the_pair_counted_first():
    # every pair occurs once: the first pair of the text wins, whatever
    # the byte values (not the smallest, not the largest)
    assert BPETokenizer.train("cd ab", vocab_size=257).merges == [(99, 100)]
    assert BPETokenizer.train("ab cd", vocab_size=257).merges == [(97, 98)]


def test_training_is_deterministic():
    a, b = BPETokenizer.train(SAMPLE, 300), BPETokenizer.train(SAMPLE, 300)
    assert a.merges == b.merges


def test_bad_input_is_rejected(tokenizers):
    char, bpe = tokenizers
    with pytest.raises(TypeError):
        char.encode(b"bytes")
    with pytest.raises(ValueError, match="outside"):
        bpe.decode([bpe.vocab_size])
    with pytest.raises(ValueError, match="outside"):
        char.decode([-1])  # not silently the last character
    with pytest.raises(ValueError, match="outside"):
        char.decode([char.vocab_size])
    with pytest.raises(ValueError):
        BPETokenizer.train("abc", vocab_size=100)
    with pytest.raises(ValueError):
        CharTokenizer.train("")
    with pytest.raises(ValueError, match="not yet defined"):
        BPETokenizer([(300, 1)])
