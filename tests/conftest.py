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
