"""Shared fixtures for the unit tests of textbook_utils."""

import shutil
from pathlib import Path

import pytest

from textbook_utils import data

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_data_cache():
    """Forget MNIST arrays parsed earlier in this process, before and after the test."""
    data._mnist_uint8.cache_clear()
    yield
    data._mnist_uint8.cache_clear()


@pytest.fixture
def data_copy(tmp_path, monkeypatch, fresh_data_cache):
    """A private copy of data/ that a test may damage, selected with $TEXTBOOK_DATA_DIR."""
    copy = tmp_path / "data"
    shutil.copytree(REPO / "data", copy)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(copy))
    return copy


@pytest.fixture
def small():
    """A small GPT (2 layers, 2 heads, width 32, context 16) that reads the
    characters of one line of Hamlet, for the GPT tests; seeded, untrained."""
    import torch

    from textbook_utils.gpt import GPT, GPTConfig
    from textbook_utils.tokenizers import CharTokenizer

    torch.manual_seed(0)
    tok = CharTokenizer.train("to be or not to be, that is the question.")
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=16, n_layer=2,
                    n_head=2, d_model=32)
    return GPT(cfg, tok)
