"""The public functions a notebook reader calls say which argument was wrong, in words."""

import math

import numpy as np
import pytest
import torch

from textbook_utils.tools import data
from textbook_utils.lessons.optim import (SGD, Adam, Momentum, RMSProp, descend,
                                          nesterov_rate)


@pytest.mark.parametrize("prompt", ["", torch.zeros(1, 0, dtype=torch.long), torch.tensor([1, 2, 3]), [1, 2]])
def test_gpt_refuses_an_empty_or_one_dimensional_prompt(small, prompt):
    for call in (lambda: small.generate(prompt, 5), lambda: small.next_token_logits(prompt),
                 lambda: small.attention_patterns(prompt)):
        with pytest.raises(ValueError, match="prompt must be non-empty text or a \\(B, T\\) id tensor"):
            call()


@pytest.mark.parametrize("kwargs, name", [
    (dict(max_new_tokens=-5), "max_new_tokens"), (dict(max_new_tokens=2.5), "max_new_tokens"),
    (dict(max_new_tokens=3, top_k=0), "top_k"), (dict(max_new_tokens=3, top_k=-3), "top_k"),
    (dict(max_new_tokens=3, temperature=-1.0), "temperature"),
    (dict(max_new_tokens=3, temperature=math.inf), "temperature"),
    (dict(max_new_tokens=3, temperature=math.nan), "temperature"),
    (dict(max_new_tokens=3, temperature=1e-300), "temperature"),
    (dict(max_new_tokens=3, temperature=5e-324), "temperature"),
])
def test_generate_names_the_bad_argument(small, kwargs, name):
    with pytest.raises(ValueError, match=name):
        small.generate("to be", **kwargs)


def test_the_smallest_temperature_samples_the_argmax(small):
    greedy = small.generate("to be", 8, temperature=0)
    for t in (1e-30, 1e-6):
        assert small.generate("to be", 8, temperature=t, generator=torch.Generator().manual_seed(0)) == greedy


def test_top_k_and_ids_still_work(small):
    g = torch.Generator().manual_seed(0)
    text = small.generate("to be", 6, top_k=1, generator=g)
    assert text == small.generate("to be", 6, temperature=0)
    ids = torch.tensor([small.tokenizer.encode("to be")] * 2)
    assert small.generate(ids, 3, generator=g).shape == (2, 8)
    assert small.generate("to be", 0) == "to be"


def _run(rule):
    return descend(rule, lambda x: x, [1.0], n_steps=1)


@pytest.mark.parametrize("make, name", [
    # the update rules are checked where they are run, by descend
    (lambda: _run(SGD(eta=-1)), "eta"), (lambda: _run(SGD(eta=0)), "eta"),
    (lambda: _run(SGD(eta=math.nan)), "eta"),
    (lambda: _run(Momentum(0.1, beta=1)), "beta"), (lambda: _run(Momentum(0.1, beta=-0.1)), "beta"),
    (lambda: _run(RMSProp(0.1, rho=2)), "rho"), (lambda: _run(RMSProp(0.1, rho=1.0)), "rho"),
    (lambda: _run(RMSProp(0.1, eps=0)), "eps"), (lambda: _run(Adam(0.1, beta2=1.0)), "beta2"),
    (lambda: descend(SGD(0.1), lambda x: x, [1.0], n_steps=-1), "n_steps"),
])
def test_optimisers_name_the_bad_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_optimisers_still_descend():
    path = descend(Momentum(0.1, beta=0.5), lambda x: x, np.array([1.0]), n_steps=50)
    assert path.shape == (51, 1) and abs(path[-1, 0]) < 1e-3
    assert descend(SGD(0.1), lambda x: x, [1.0], n_steps=0).shape == (1, 1)
    assert nesterov_rate(1, 1) == pytest.approx(0.0)


def test_a_cache_dir_that_is_a_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "file"))
    with pytest.raises(data.DataError, match="TEXTBOOK_CACHE_DIR.*not a folder"):
        data._cache_dir()


@pytest.mark.parametrize("timeout", [math.nan, math.inf, 0, -1, "10"])
def test_download_deadline_must_be_a_real_deadline(tmp_path, timeout):
    with pytest.raises(ValueError, match="timeout_s"):
        data.download_verified(["file:///nothing"], tmp_path / "x", "0" * 64, timeout_s=timeout)
    assert list(tmp_path.iterdir()) == []


def test_sha256sums_forms(tmp_path):
    h = "ab" * 32
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"# comment\n\n{h}  a b.txt\n{h} *bin.gz\nSHA256 (tag (1).txt) = {h.upper()}\n"
                    f"\\{h}  new\\nline\n")
    assert data.read_sha256sums(sums) == {"a b.txt": h, "bin.gz": h, "tag (1).txt": h, "new\nline": h}
    sums.write_text(f"{h}  a\n{'cd' * 32}  a\n")
    with pytest.raises(data.DataError, match="two different hashes"):
        data.read_sha256sums(sums)
    sums.write_text(f"{h} a\n".replace(" a", "a"))
    with pytest.raises(data.DataError, match="line 1"):
        data.read_sha256sums(sums)
