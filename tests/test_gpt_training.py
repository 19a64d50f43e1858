"""The GPT's data, recipe, training loop and its command line (python -m textbook_utils.commands.train_gpt)."""

import hashlib
import math
import os

import pytest
import torch
import torch.nn.functional as F

from textbook_utils.training import gpt_checkpoint, gpt_data
from textbook_utils.commands import train_gpt
from textbook_utils.training.gpt_data import estimate_loss, get_batch, shakespeare_data, windows
from textbook_utils.training.gpt_loop import (LIVE, LIVE_SHAPE, Recipe, lr_at, make_adamw, make_optimizer,
                                         step_on_batch, train)
from textbook_utils.lessons.optim.muon import Muon

TEXT = "to be or not to be, that is the question. " * 40
TINY = ["--block-size", "16", "--n-layer", "1", "--n-head", "2", "--d-model", "32", "--eval-blocks", "4"]


# --------------------------------------------------------------------------- data

def test_shakespeare_has_65_characters_and_nanogpts_split():
    tok, train_ids, val_ids = shakespeare_data()
    assert tok.vocab_size == 65
    # nanoGPT's data/shakespeare_char/prepare.py reports 1,003,854 and 111,540 tokens
    assert (len(train_ids), len(val_ids)) == (1_003_854, 111_540)
    assert tok.decode(train_ids[:14].tolist()) == "First Citizen:"


def test_batches_are_windows_and_their_next_characters():
    ids = torch.arange(100)
    x, y = get_batch(ids, 8, 5, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)  # each target is the next token
    assert torch.equal(x[:, 1:], x[:, :-1] + 1)  # contiguous windows
    with pytest.raises(ValueError, match="longer than block_size"):
        get_batch(torch.arange(8), 8, 2)


def test_estimate_loss_is_the_mean_over_non_overlapping_windows(small):
    ids = torch.tensor(small.tokenizer.encode(TEXT[:500]))  # 500 tokens: 31 windows of 16
    small.eval()
    per_window = []
    for s in range(0, 31 * 16, 16):  # a second implementation: one window at a time
        logits, _ = small(ids[None, s:s + 16])
        per_window.append(F.cross_entropy(logits[0], ids[s + 1:s + 17]).item())
    assert estimate_loss(small, ids) == pytest.approx(sum(per_window) / 31, rel=1e-5)
    assert estimate_loss(small, ids, max_blocks=2) == pytest.approx((per_window[0] + per_window[30]) / 2, rel=1e-5)


# --------------------------------------------------------------------------- recipe and loop

def test_learning_rate_schedule_cosine():
    r = Recipe(iters=101, lr=1e-3, min_lr=1e-4, warmup=10, schedule="cosine")
    assert lr_at(0, r) == pytest.approx(1e-4)  # warm-up starts at lr / warmup
    assert lr_at(9, r) == pytest.approx(1e-3)  # ... and reaches lr
    assert lr_at(10, r) == pytest.approx(1e-3)  # cosine starts at the top
    assert lr_at(55, r) == pytest.approx((1e-3 + 1e-4) / 2)  # cos(pi / 2) = 0 halfway
    assert lr_at(100, r) == pytest.approx(1e-4)  # the last step
    assert all(lr_at(i, r) >= lr_at(i + 1, r) for i in range(10, 100))


def test_learning_rate_schedule_trapezoid():
    r = Recipe(iters=100, lr=1e-3, min_lr=1e-5, warmup=10, cooldown=0.3)
    assert r.schedule == "trapezoid"  # the book's
    assert lr_at(0, r) == pytest.approx(1e-4) and lr_at(9, r) == pytest.approx(1e-3)
    assert all(lr_at(i, r) == pytest.approx(1e-3) for i in range(10, 70))  # held at the peak
    assert lr_at(84, r) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 15 / 30)  # halfway down the line
    assert lr_at(99, r) == pytest.approx(1e-5)  # the last step
    steps = [lr_at(i, r) for i in range(69, 100)]
    assert all(a > b for a, b in zip(steps, steps[1:]))  # falling, a straight line
    assert steps[0] - steps[1] == pytest.approx(steps[-2] - steps[-1])


def test_recipe_rejects_what_would_train_nan_or_nothing():
    for bad in (dict(iters=0), dict(batch_size=0), dict(lr=math.inf), dict(lr=math.nan), dict(lr=0),
                dict(min_lr=1.0), dict(beta2=1.0), dict(warmup=-1), dict(seed=-1), dict(eval_interval=0),
                dict(schedule="linear"), dict(cooldown=0), dict(cooldown=1.5), dict(embedding_lr_scale=0),
                dict(optimizer="sgd"), dict(muon_lr=0), dict(muon_lr=math.nan)):
        with pytest.raises(ValueError):
            Recipe(**bad)


def test_adamw_groups_matrices_embeddings_and_gains(small):
    groups = make_adamw(small, Recipe()).param_groups
    matrices, embeddings, gains = groups
    assert all(p.dim() == 2 for p in matrices["params"]) and matrices["weight_decay"] == 0.1
    assert [p.data_ptr() for p in embeddings["params"]] == [small.W_E.weight.data_ptr(),
                                                          small.W_P.weight.data_ptr()]
    assert embeddings["lr_scale"] == Recipe().embedding_lr_scale and embeddings["weight_decay"] == 0.1
    assert all(p.dim() == 1 for p in gains["params"]) and gains["weight_decay"] == 0.0
    assert sum(len(g["params"]) for g in groups) == len(list(small.parameters()))
    assert groups[0]["betas"] == (0.9, 0.99) and groups[0]["fused"]


def test_step_on_batch_sets_the_rate_and_descends(small):
    opt = make_adamw(small, Recipe(embedding_lr_scale=3.0))
    x, y = get_batch(torch.tensor(small.tokenizer.encode(TEXT)), 16, 4, torch.Generator().manual_seed(0))
    first = step_on_batch(small, opt, x, y, lr=3e-3)
    assert opt.param_groups[0]["lr"] == opt.param_groups[2]["lr"] == 3e-3
    assert opt.param_groups[1]["lr"] == pytest.approx(9e-3)  # the embeddings, 3x
    for _ in range(5):
        last = step_on_batch(small, opt, x, y, lr=3e-3)
    assert last < first


def test_muon_trains_the_hidden_matrices_and_adamw_the_rest(small):
    r = Recipe(optimizer="muon", lr=4e-3, muon_lr=0.02)
    opt = make_optimizer(small, r)
    adamw, muon = opt.optimizers
    assert isinstance(muon, Muon) and isinstance(adamw, torch.optim.AdamW)
    hidden = {id(p) for p in make_adamw(small, r).param_groups[0]["params"]}
    assert {id(p) for p in muon.param_groups[0]["params"]} == hidden
    rest = {id(p) for g in adamw.param_groups for p in g["params"]}
    assert not rest & hidden and len(rest | hidden) == len(list(small.parameters()))
    x, y = get_batch(torch.tensor(small.tokenizer.encode(TEXT)), 16, 4, torch.Generator().manual_seed(0))
    first = step_on_batch(small, opt, x, y, lr=2e-3)
    assert muon.param_groups[0]["lr"] == pytest.approx(0.01)  # muon_lr, scheduled as lr
    assert adamw.param_groups[0]["lr"] == pytest.approx(2e-3 * r.embedding_lr_scale)
    for _ in range(5):
        last = step_on_batch(small, opt, x, y, lr=2e-3)
    assert last < first
    assert make_optimizer(small, Recipe()).__class__ is torch.optim.AdamW  # the default


def test_the_live_recipe_is_muon_on_a_smaller_model_with_a_falling_rate():
    from textbook_utils.lessons.gpt import GPT, GPTConfig

    assert LIVE.optimizer == "muon" and LIVE.cooldown == 1.0
    rates = [lr_at(i, LIVE) for i in range(LIVE.iters)]
    top = rates.index(max(rates))
    assert top == LIVE.warmup - 1 and rates[-1] == pytest.approx(LIVE.min_lr)
    assert all(a > b for a, b in zip(rates[top:], rates[top + 1:]))  # falls from the top
    live = GPT(GPTConfig(vocab_size=65, **LIVE_SHAPE))
    book = GPT(GPTConfig(vocab_size=65))
    assert sum(p.numel() for p in live.parameters()) < sum(p.numel() for p in book.parameters()) / 4


def test_training_lowers_the_loss_and_records_history(small):
    ids = torch.tensor(small.tokenizer.encode(TEXT))
    before = estimate_loss(small, ids)
    lines = []
    r = Recipe(iters=60, batch_size=8, lr=3e-3, min_lr=3e-4, warmup=5, eval_interval=25, eval_blocks=20)
    history = train(small, ids, ids, r, log=lines.append)
    assert history["iter"] == [25, 50, 60]  # every eval_interval steps, and the last
    assert len(lines) == 3 and lines[-1].startswith("step    60")
    assert history["seconds"] == sorted(history["seconds"])
    assert estimate_loss(small, ids) < before - 1.0
    stopped = train(small, ids, ids, r, log=None, target_loss=10.0)  # reached at the first evaluation
    assert stopped["iter"] == [25]


def test_the_data_parallel_model_alone_trains_as_the_model_does(small):
    """One process: distributed.DataParallel is the model, step for step (its
    two ranks' equivalence is in test_distributed.py)."""
    import copy

    from textbook_utils.tools import distributed

    ids = torch.tensor(small.tokenizer.encode(TEXT))
    twin = copy.deepcopy(small)
    r = Recipe(iters=3, batch_size=8, eval_interval=3, eval_blocks=4)
    wrapped = distributed.DataParallel(twin)
    assert wrapped.cfg is twin.cfg and distributed.unwrap(wrapped) is twin
    h_plain = train(small, ids, ids, r, log=None)
    h_wrapped = train(wrapped, ids, ids, r, log=None)
    assert h_wrapped["train_loss"] == h_plain["train_loss"] and h_wrapped["val_loss"] == h_plain["val_loss"]
    for (name, a), b in zip(small.state_dict().items(), twin.state_dict().values()):
        assert torch.equal(a, b), name


# --------------------------------------------------------------------------- the command line

@pytest.fixture()
def no_data(monkeypatch):
    """Fail loudly if the command line reads the data: its checks must come first."""
    def refuse():
        raise AssertionError("the data was loaded before the arguments were checked")
    monkeypatch.setattr(gpt_data, "shakespeare_data", refuse)


@pytest.mark.parametrize("args, message", [
    (["--iters", "0"], "positive integer"),
    (["--iters", "0", "--out", "x.pt"], "positive integer"),
    (["--batch-size", "0"], "positive integer"),
    (["--lr", "inf"], "finite number"),
    (["--lr", "nan"], "finite number"),
    (["--lr", "1e-3", "--min-lr", "1e-2"], "exceeds lr"),
    (["--d-model", "30"], "multiple of --n-head"),
    (["--seed", "-1"], "2**32"),
    (["--device", "gpu"], "unknown device"),
    (["--threads", "100000"], "CPU cores"),
    (["--threads", "1000000000"], "CPU cores"),
    (["--n-layer", "1000000000"], "of memory"),
    (["--block-size", "1000000000"], "of memory"),
    (["--d-model", "1000000000"], "of memory"),
    (["--batch-size", "1000000000"], "of memory"),
])
def test_command_line_rejects_bad_numbers_before_any_work(args, message, no_data, capsys):
    with pytest.raises(SystemExit) as exit_:
        train_gpt.main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_command_line_checks_the_output_path_before_training(tmp_path, no_data, capsys):
    (tmp_path / "taken.pt").write_bytes(b"mine")
    cases = [(tmp_path / "missing" / "x.pt", "does not exist"), (tmp_path, "is a folder"),
             (tmp_path / "taken.pt", "--overwrite")]
    for out, message in cases:
        with pytest.raises(SystemExit) as exit_:
            train_gpt.main(["--out", str(out)])
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert (tmp_path / "taken.pt").read_bytes() == b"mine"  # nothing overwritten


def test_command_line_never_writes_into_the_package_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    package = gpt_checkpoint.CHECKPOINT.parent
    before = {p.name: p.stat().st_mtime_ns for p in package.iterdir()}
    history = train_gpt.main(["--iters", "2", "--batch-size", "4", *TINY])
    assert history["iter"] == [2]
    assert {p.name: p.stat().st_mtime_ns for p in package.iterdir()} == before
    assert list(tmp_path.iterdir()) == []


def test_command_line_saves_a_checkpoint_with_its_hash_and_reproduces_it(tmp_path):
    for name in ("a.pt", "b.pt"):
        torch.manual_seed(len(name) + ord(name[0]))  # whatever the state, --seed decides the weights
        train_gpt.main(["--iters", "3", "--batch-size", "4", *TINY, "--out", str(tmp_path / name)])
    sums = (tmp_path / "SHA256SUMS").read_text().split()
    for name in ("a.pt", "b.pt"):
        assert sums[sums.index(name) - 1] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    a, ckpt = gpt_checkpoint.load_checkpoint(tmp_path / "a.pt", device="cpu")
    b, _ = gpt_checkpoint.load_checkpoint(tmp_path / "b.pt", device="cpu")
    assert ckpt["state"]["iters"] == 3 and ckpt["state"]["recipe"]["batch_size"] == 4
    assert a.cfg.d_model == 32 and a.tokenizer.vocab_size == 65
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(SystemExit):  # and a second run does not silently replace the file
        train_gpt.main(["--iters", "1", *TINY, "--out", str(tmp_path / "a.pt")])


@pytest.mark.parametrize("lr", ["1e3", "1e6"])  # a huge loss, and NaN
def test_command_line_refuses_to_save_a_diverged_model(tmp_path, lr):
    with pytest.raises(SystemExit, match="diverged"):
        train_gpt.main(["--iters", "3", "--batch-size", "4", "--lr", lr, "--warmup", "0", *TINY,
                        "--out", str(tmp_path / "x.pt")])
    assert not os.listdir(tmp_path)


def test_committed_checkpoint_reaches_the_target():
    model, ckpt = gpt_checkpoint.load_checkpoint(device="cpu")
    assert (model.cfg.n_layer, model.cfg.n_head, model.cfg.d_model, model.cfg.block_size) == (4, 4, 128, 64)
    assert sum(p.numel() for p in model.parameters()) == 804_096
    _, _, val_ids = shakespeare_data()
    # measured now on every validation window, not just what the file says; in batches of
    # 32 windows, whose activations stay in the CPU's cache (a quarter faster than 256)
    assert estimate_loss(model, val_ids, batch_size=32) <= 1.88
    assert ckpt["state"]["val_loss"] <= 1.88
