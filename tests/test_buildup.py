"""The build-up's rungs (textbook_utils.lessons.buildup), their command
(textbook_utils.runs.buildup_runs) and the residual-stream recorder
(textbook_utils.lessons.residual_stream)."""

import json

import pytest
import torch
import torch.nn.functional as F

from command_checks import assert_refused_before_work
from textbook_utils.runs import buildup_runs
from textbook_utils.lessons.buildup import RUNGS, build
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_loop import Recipe
from textbook_utils.training.gpt_checkpoint import load_checkpoint
from textbook_utils.lessons.residual_stream import logit_lens, record_stream

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, d_model=16)


@pytest.mark.parametrize("rung", list(RUNGS))
def test_every_rung_predicts_every_position(rung):
    torch.manual_seed(0)
    model = build(rung, CFG)
    idx = torch.randint(11, (3, 8))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 8, 11)
    # the loss is the mean cross-entropy over all 3 * 8 positions
    by_hand = -torch.log_softmax(logits, -1).gather(-1, idx[..., None])
    assert loss.item() == pytest.approx(by_hand.mean().item(), rel=1e-5)


@pytest.mark.parametrize("rung", list(RUNGS))
def test_no_rung_sees_the_future(rung):
    torch.manual_seed(0)
    model = build(rung, CFG).eval()
    # untrained weights are small; scale them up so a leak would show
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(5)
    idx = torch.randint(11, (2, 8))
    changed = idx.clone()
    changed[:, 5] = (idx[:, 5] + 1) % 11  # a different token at position 5
    a, b = model(idx)[0], model(changed)[0]
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6)  # before: same
    assert not torch.allclose(a[:, 5], b[:, 5])  # at 5 it reads its token


def test_only_the_bigram_ignores_the_past():
    torch.manual_seed(0)
    idx = torch.randint(11, (1, 8))
    changed = idx.clone()
    changed[0, 0] = (idx[0, 0] + 1) % 11
    for rung in RUNGS:
        model = build(rung, CFG).eval()
        differ = not torch.allclose(model(idx)[0][0, 7],
                                    model(changed)[0][0, 7])
        assert differ == (rung != "bigram"), rung


def test_the_last_rung_is_the_books_gpt_weight_for_weight():
    torch.manual_seed(3)
    book = GPT(CFG)
    torch.manual_seed(3)
    rung = build("+ layer norm", CFG)
    a, b = book.state_dict(), rung.state_dict()
    assert list(a) == list(b)  # the same modules, names and order
    assert all(torch.equal(a[k], b[k]) for k in a)  # the same start
    # and the same function: the book's trained weights give its logits
    model, _ = load_checkpoint(device="cpu")
    rung = build("+ layer norm", model.cfg)
    rung.load_state_dict(model.state_dict())
    idx = torch.randint(65, (2, 64))
    assert torch.allclose(rung(idx)[0], model(idx)[0], atol=1e-5)


def test_rungs_add_one_piece_each():
    counts = {rung: sum(p.numel() for p in build(rung, CFG).parameters())
              for rung in RUNGS}
    d, V, T, L = 16, 11, 8, 2
    assert counts["bigram"] == V * V + T * V
    assert counts["average"] == V * d + T * d  # nothing in the blocks
    attention = 4 * d * d  # W_QKV (3d x d) and W_O (d x d): one block
    assert counts["one head"] == counts["four heads"] == counts["average"] \
        + attention  # heads split the same matrices; they add no weights
    mlp = 8 * d * d  # up (4d x d) and down (d x 4d)
    assert counts["+ MLP"] == counts["four heads"] + mlp
    assert counts["four blocks"] == counts["+ MLP"] + (L - 1) * (
        attention + mlp)
    assert counts["+ residual"] == counts["four blocks"]  # adding is free
    # two layer norms per block and one before W_E^T, a gain each
    assert counts["+ layer norm"] == counts["+ residual"] + (2 * L + 1) * d


def test_rungs_without_residuals_keep_the_scale_through_the_blocks():
    # with GPT's small start, blocks that replace x would shrink it to
    # nothing; the rungs without residuals start at 1/sqrt(fan_in)
    torch.manual_seed(0)
    model = build("+ MLP", GPTConfig(vocab_size=65))
    x = torch.randn(4, 64, 128)
    out = x
    for block in model.blocks:
        out = block(out)
    ratio = (out.std() / x.std()).item()
    assert 0.05 < ratio < 5, ratio


def test_a_bad_rung_is_refused():
    with pytest.raises(ValueError, match="rung must be one of"):
        build("two heads", CFG)


def test_the_stream_adds_up_and_the_lens_ends_at_the_logits():
    model, _ = load_checkpoint(device="cpu")
    idx = torch.randint(65, (2, 64))
    rec = record_stream(model, idx)
    L = model.cfg.n_layer
    assert rec["stream"].shape == (L + 1, 2, 64, 128)
    assert rec["attn"].shape == rec["mlp"].shape == (L, 2, 64, 128)
    assert torch.allclose(rec["stream"][0], model.embed(idx))
    # x_l = x_{l-1} + what attention added + what the MLP added
    step = rec["stream"][:-1] + rec["attn"] + rec["mlp"]
    assert torch.allclose(step, rec["stream"][1:], atol=1e-5)
    lens = logit_lens(model, rec["stream"])
    assert torch.allclose(lens[-1], model(idx)[0], atol=1e-5)
    assert not model.blocks[0]._forward_hooks  # the hooks are gone


# ---------------------------------------------------------------- the command

TINY = ["--iters", "4", "--eval-interval", "2", "--eval-blocks", "3",
        "--seeds", "0", "1", "--d-model", "16", "--n-layer", "1",
        "--rungs", "bigram", "+ layer norm"]


def test_the_command_writes_every_rung_and_seed(tmp_path):
    out = tmp_path / "buildup.json"
    record = buildup_runs.main(["--out", str(out), *TINY])
    on_disk = json.loads(out.read_text())
    assert on_disk == json.loads(json.dumps(record))
    assert set(on_disk["runs"]) == {"bigram", "+ layer norm"}
    for rung in on_disk["runs"].values():
        assert set(rung["seeds"]) == {"0", "1"}
        for history in rung["seeds"].values():
            assert history["iter"] == [2, 4]
            assert all(0 < v < 10 for v in history["val_loss"])
    for key in ("machine", "torch", "date", "seconds", "command"):
        assert key in on_disk
    assert on_disk["command"].startswith("python -m textbook_utils."
                                         "runs.buildup_runs --out ")
    assert "--iters 4" in on_disk["command"]
    assert on_disk["config"]["d_model"] == 16
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left


def test_a_live_piece_lands_on_the_same_run(tmp_path):
    _, train_ids, val_ids = buildup_runs.shakespeare_data()
    cfg = GPTConfig(vocab_size=65, d_model=16, n_layer=1)
    recipe = Recipe(iters=6, eval_interval=2, eval_blocks=3)
    full, _ = buildup_runs.run_rung("+ layer norm", 0, train_ids, val_ids,
                                    cfg=cfg, recipe=recipe)
    part, _ = buildup_runs.run_rung("+ layer norm", 0, train_ids, val_ids,
                                    cfg=cfg, recipe=recipe, stop_after=4)
    assert part["iter"] == [4]
    assert part["val_loss"][0] == pytest.approx(full["val_loss"][1],
                                                 abs=1e-4)
    with pytest.raises(ValueError, match="multiple of"):
        buildup_runs.run_rung("bigram", 0, train_ids, val_ids, cfg=cfg,
                              recipe=recipe, stop_after=3)


def test_the_command_refuses_an_existing_file_before_training(tmp_path,
                                                              capsys):
    out = tmp_path / "buildup.json"
    out.write_text("{}")
    with pytest.raises(SystemExit):
        buildup_runs.main(["--out", str(out), *TINY])
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_text() == "{}"
    missing = tmp_path / "nowhere" / "buildup.json"
    assert_refused_before_work(buildup_runs.main,
                               ["--out", str(missing), *TINY],
                               "does not exist", missing, capsys)
    assert_refused_before_work(buildup_runs.main,
                               ["--out", str(out.with_name("b.json")),
                                "--threads", "0"],
                               "--threads", out.with_name("b.json"), capsys)
