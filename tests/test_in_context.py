"""The in-context-learning task, its measurements, and its command."""

import json

import numpy as np
import pytest
import torch

from textbook_utils.runs import in_context as I


def test_sequences_repeat_with_their_period():
    x, y, p, repeat = I.repeating_batch(50, torch.Generator().manual_seed(0))
    seq = torch.cat([x, y[:, -1:]], dim=1)  # (50, T + 1)
    assert x.shape == y.shape == repeat.shape == (50, 32)
    assert torch.equal(x[:, 1:], y[:, :-1])  # y is x shifted by one
    assert int(p.min()) >= 4 and int(p.max()) <= 10
    for s, period in zip(seq, p.tolist()):
        assert torch.equal(s[period:], s[:-period])  # periodic
    # copying can predict the target at t (token t + 1) once the token at t occurred before: t >= p
    for row, period in zip(repeat, p.tolist()):
        assert row.tolist() == [t >= period for t in range(32)]


class Patterns:
    """A stand-in model whose layer 1 attends to the previous token and layer 2 to the
    token after the previous occurrence (p - 1 back): a perfect induction circuit."""

    def __init__(self, p, T):
        prev, ind = torch.zeros(T, T), torch.zeros(T, T)
        for i in range(T):
            prev[i, max(i - 1, 0)] = 1
            ind[i, i - p + 1 if i >= p else 0] = 1
        self.A = torch.stack([prev[None], (ind / 2 + prev / 2)[None]])  # (2, 1, T, T): one head per layer

    def attention_patterns(self, seq):
        return self.A


def test_head_scores_of_a_known_circuit():
    for seed in range(100):  # a sequence with no token twice in a period
        x, _, p, _ = I.repeating_batch(1, torch.Generator().manual_seed(seed))
        period = int(p[0])
        if len(set(x[0, :period].tolist())) == period:
            break
    scores = I.head_scores(Patterns(period, 32), x, p)
    assert scores["previous"][0, 0] == pytest.approx(1.0)  # layer 1: all on the previous token
    assert scores["induction"][0, 0] == pytest.approx(0.0)
    assert scores["previous"][1, 0] == pytest.approx(0.5)  # layer 2: half and half
    assert scores["induction"][1, 0] == pytest.approx(0.5)


def test_training_measures_losses_and_heads():
    torch.set_num_threads(1)
    model, history = I.train(6, eval_every=3, n_head=2, d_model=16)
    assert history["step"] == [3, 6]
    assert all(len(s) == 2 for s in history["previous"] + history["induction"])  # one per layer
    assert all(0 <= v <= 1 for s in history["previous"] + history["induction"] for v in s)
    x, y, p, _ = I.repeating_batch(4, torch.Generator().manual_seed(1))
    assert I.per_token_loss(model, x, y).shape == (4, 32)
    scores = I.head_scores(model, x, p)
    assert scores["induction"].shape == (2, 2)


def test_the_command_writes_patterns_that_are_attention(tmp_path):
    out = tmp_path / "icl.json"
    I.main(["--steps", "4", "--eval-every", "2", "--out", str(out)])
    results = json.loads(out.read_text())
    A = np.array(results["example"]["patterns"])  # (layer, head, T, T)
    assert A.shape == (2, I.CONFIG["n_head"], 32, 32)
    assert np.allclose(A.sum(-1), 1, atol=1e-3)  # every query's weights sum to 1
    assert np.allclose(np.triu(A, k=1), 0)  # causal: nothing from the future
    assert results["history"]["step"] == [2, 4]
    with pytest.raises(SystemExit):
        I.main(["--out", str(tmp_path / "no" / "icl.json")])
