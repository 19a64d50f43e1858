"""Shared fixtures for the unit tests of textbook_utils and the browser tests."""

import os
import shutil
from pathlib import Path

import pytest

from textbook_utils.tools import data

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

    from textbook_utils.lessons.gpt import GPT, GPTConfig
    from textbook_utils.lessons.tokenizers import CharTokenizer

    torch.manual_seed(0)
    tok = CharTokenizer.train("to be or not to be, that is the question.")
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=16, n_layer=2,
                    n_head=2, d_model=32)
    return GPT(cfg, tok)


#: Debian's Chromium (the test command installs it: scripts/system_packages.sh test)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers give /dev/shm only 64 MB
]
#: Nothing leaves 127.0.0.1, where the tests serve the site and JupyterLab:
#: no host name resolves, and every request but those to the loopback
#: address (which Chromium never proxies) goes to a proxy that is not there,
#: so an address such as https://1.2.3.4/ fails too. Blocking here rather
#: than in Playwright (``route``) keeps the browser's HTTP cache on.
OFFLINE_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, one per test process, shared by the site and JupyterLab tests."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests drive Debian's Chromium, which the "
            "README's test command installs (bash scripts/system_packages.sh test); or set $CHROMIUM "
            "to a Chromium binary."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + OFFLINE_ARGS,
                                            headless=True)
        yield chromium
        chromium.close()


def pytest_unconfigure(config):
    """The test process ends after this: freeze the collector (gc.freeze) so that the
    interpreter's exit does not walk every object PyTorch and the tests created
    (1-3 s of CPU per process on the 2-core machine, for each worker of the suite)."""
    import gc

    gc.freeze()
