"""The scaling-law sweep: its parameter count, its power-law fit, and its command."""

import json

import numpy as np
import pytest
import torch

from textbook_utils.runs import scaling_laws as S
from textbook_utils.lessons.gpt import GPT, GPTConfig


def test_non_embedding_params_match_the_closed_form():
    # per block: two LayerNorm gains (2d), W_QKV (3d^2), W_O (d^2), up and down (8d^2); one final gain (d)
    for n_layer, d in ((1, 4), (3, 16)):
        model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=n_layer, n_head=2, d_model=d))
        assert S.non_embedding_params(model) == 12 * n_layer * d**2 + (2 * n_layer + 1) * d


def test_power_law_fit_recovers_a_known_law():
    x = np.array([1e3, 1e4, 1e5, 1e6])
    y = (8.8e13 / x) ** 0.076  # Kaplan et al.'s L(N)
    alpha, x_c = S.fit_power_law(x, y)
    assert alpha == pytest.approx(0.076) and x_c == pytest.approx(8.8e13, rel=1e-6)
    noisy = y * np.array([1.01, 0.99, 1.01, 0.99])
    assert S.fit_power_law(x, noisy)[0] == pytest.approx(0.076, abs=0.01)


def test_one_point_trains_and_reports_what_it_saw():
    torch.set_num_threads(1)
    text = torch.arange(4_000) % 5  # "0 1 2 3 4 0 1 2 ...": each letter fixes the next
    point = S.run_point((1, 1, 8), text, text[:1_000], vocab_size=5, iters=60, warmup=5,
                        eval_interval=20, eval_blocks=10)
    assert point["tokens"] == [20 * 16 * 64, 40 * 16 * 64, 60 * 16 * 64]
    assert point["train_chars"] == 4_000 and point["iters"] == 60
    # it learns: the loss falls, below that of guessing among 5 letters
    assert point["val_loss"][-1] < point["val_loss"][0] and point["val_loss"][-1] < np.log(5) - 0.5


def test_the_command_writes_a_sweep(tmp_path):
    out = tmp_path / "sweep.json"
    S.main(["--quick", "--out", str(out)])
    results = json.loads(out.read_text())
    assert [len(results[k]) for k in ("sizes", "data", "seeds")] == [2, 2, 1]
    sizes = [r["non_embedding_params"] for r in results["sizes"]]
    assert sizes == sorted(sizes) and sizes[0] < sizes[1]
    assert [r["train_chars"] for r in results["data"]] == [2_000, 8_000]
    assert all(r["iters"] == 20 for kind in ("sizes", "data", "seeds") for r in results[kind])
    assert results["command"].endswith(f"--quick --out {out}")
    with pytest.raises(SystemExit):
        S.main(["--quick", "--out", str(tmp_path / "missing" / "sweep.json")])
