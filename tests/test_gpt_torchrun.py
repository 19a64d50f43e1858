"""The GPT under torchrun: 2 CPU processes (gloo) train exactly as one process does.

One worker, launched by ``torch.distributed.run`` as a subprocess with a hard
timeout, (1) runs the single-process loop ``gpt_loop.train`` on the model
wrapped in ``distributed.DataParallel`` and saves each rank's weights, and
(2) runs the command line ``train_gpt.main`` with ``--out``. The tests check
that each rank's model ran on half of every batch, that both ranks end with
identical weights, that these match one process trained on the same global
batches, that only rank 0 logs and saves, and that
the checkpoint loads in a single process.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_checkpoint import load_checkpoint
from textbook_utils.training.gpt_data import shakespeare_data
from textbook_utils.training.gpt_loop import Recipe, train

REPO = Path(__file__).resolve().parents[1]
LAUNCH_TIMEOUT_S = 240  # generous: the test machine may be shared; a hang still fails
SHAPE = dict(block_size=16, n_layer=1, n_head=2, d_model=32)
RECIPE = dict(iters=3, batch_size=8, eval_interval=3, eval_blocks=4, warmup=2)

WORKER = r'''
import json, sys
from pathlib import Path
import torch
from textbook_utils.tools import distributed
from textbook_utils.commands import train_gpt
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_data import shakespeare_data
from textbook_utils.training.gpt_loop import Recipe, train

out = Path(sys.argv[1])
shape, recipe = json.loads(sys.argv[2]), json.loads(sys.argv[3])
info = distributed.setup(timeout_s=120)
tok, train_ids, val_ids = shakespeare_data()
torch.manual_seed(5)
model = GPT(GPTConfig(vocab_size=tok.vocab_size, **shape), tok)
rows = []  # windows this rank's model computes, per training step
model.register_forward_pre_hook(lambda m, args: rows.append(len(args[0])) if m.training else None)
h = train(distributed.DataParallel(model), train_ids, val_ids[:2000], Recipe(**recipe),
          log=distributed.print0)
torch.save(model.state_dict(), out / f"rank{info.rank}.pt")
(out / f"rank{info.rank}.json").write_text(json.dumps({**h, "rows": rows}))
train_gpt.main(["--iters", "2", "--batch-size", "4", "--block-size", "16", "--n-layer", "1",
                "--n-head", "2", "--d-model", "32", "--eval-blocks", "4", "--out", str(out / "gpt.pt")])
print(f"rank {info.rank} done")
distributed.teardown()
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """Run WORKER on 2 processes; returns (output dir, completed process)."""
    import json

    out = tmp_path_factory.mktemp("gpt_ddp")
    script = out / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TEXTBOOK_DEVICE": "cpu", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", "--monitor_interval=0.5",
           str(script), str(out), json.dumps(SHAPE), json.dumps(RECIPE)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S, cwd=REPO)
    assert run.returncode == 0, f"torchrun failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    return out, run


def test_ranks_are_identical_and_match_one_process(two_ranks):
    import json

    out, run = two_ranks
    tok, train_ids, val_ids = shakespeare_data()
    torch.manual_seed(5)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, **SHAPE), tok)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    h = train(model, train_ids, val_ids[:2000], Recipe(**RECIPE), log=None)  # the whole batch, alone
    ranks = [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for name, value in model.state_dict().items():
        assert torch.equal(ranks[0][name], ranks[1][name]), f"ranks differ in {name}"
        assert not torch.equal(value, start[name]), f"training did not move {name}"
        # the all-reduce sums in another order than one process does; Adam's division by
        # sqrt(v) can magnify that last-bit difference in a weight whose gradient is near 0
        torch.testing.assert_close(ranks[0][name], value, rtol=1e-4, atol=1e-5)
    logged = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    # every rank evaluates the same full model: the validation loss is one process's
    assert logged[0]["val_loss"] == logged[1]["val_loss"]
    assert logged[0]["val_loss"] == pytest.approx(h["val_loss"], rel=1e-5)
    # each rank's model ran on its own half of every batch, and every rank computed the
    # loss of the whole batch from the gathered outputs: the single process's loss
    assert logged[0]["rows"] == logged[1]["rows"] == [RECIPE["batch_size"] // 2] * RECIPE["iters"]
    assert logged[0]["train_loss"] == logged[1]["train_loss"]
    assert logged[0]["train_loss"] == pytest.approx(h["train_loss"], rel=1e-5)
    assert run.stdout.count("step     3") == 1  # only rank 0 logs


def test_the_command_line_under_torchrun_saves_once_and_loads_alone(two_ranks):
    out, run = two_ranks
    model, ckpt = load_checkpoint(out / "gpt.pt", device="cpu")
    assert ckpt["state"]["world_size"] == 2 and model.cfg.d_model == 32
    assert run.stdout.count("saved ") == 1  # rank 0 only
    assert run.stdout.count("done") == 2
