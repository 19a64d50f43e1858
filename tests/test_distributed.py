"""textbook_utils.tools.distributed, the MNIST torchrun entry point and bench/gpu_check.py.

The distributed tests launch real ``torch.distributed.run`` jobs (2 CPU
processes, gloo, on 127.0.0.1) as subprocesses with a hard timeout, and check
that, with the model wrapped in ``distributed.DataParallel``, (a) after every
step both ranks hold identical parameters and (b) they match one process
trained on the same global batches; that checkpoints move
between distributed and single-process runs; and that a failing or killed rank
makes the launcher exit non-zero, naming the failure, instead of hanging.

The GPT under torchrun is checked in the same job (each launch starts three
processes that import PyTorch, so one job does all the equivalence checks):
``gpt_loop.train`` on the GPT wrapped in ``distributed.DataParallel`` runs
each rank's model on half of every batch, both ranks end with identical
weights that match one process trained on the same global batches, only rank
0 logs and saves, and the command line's checkpoint loads in a single process.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from textbook_utils.tools import distributed
from textbook_utils.commands import train_mnist
from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.lessons.mlp import MLP
from textbook_utils.training.gpt_checkpoint import load_checkpoint
from textbook_utils.training.gpt_data import shakespeare_data
from textbook_utils.training.gpt_loop import Recipe, train
from textbook_utils.tools.seeding import seed_everything
from textbook_utils.training.loop import (accuracy, fit, loss_function,
                                          make_optimizer, train_step)

REPO = Path(__file__).resolve().parents[1]
LAUNCH_TIMEOUT_S = 240  # generous: the test machine may be shared; a hang still fails
GPT_SHAPE = dict(block_size=16, n_layer=1, n_head=2, d_model=32)
GPT_RECIPE = dict(iters=3, batch_size=8, eval_interval=3, eval_blocks=4, warmup=2)


# --------------------------------------------------------------------------- single process

def test_single_process_is_rank_0_of_1(monkeypatch):
    for name in distributed.LAUNCH_ENV:
        monkeypatch.delenv(name, raising=False)
    info = distributed.setup("cpu")
    assert (info.rank, info.world_size, info.backend) == (0, 1, None)
    assert not distributed.is_distributed() and distributed.is_main()
    model = torch.nn.Linear(2, 1)
    assert distributed.wrap(model) is model
    wrapped = distributed.DataParallel(model)  # alone: the model, and its attributes
    assert wrapped.module is model and distributed.unwrap(wrapped) is model
    assert wrapped.in_features == 2 and list(wrapped.parameters()) == list(model.parameters())
    x = torch.randn(5, 2)
    assert torch.equal(wrapped(x), model(x)) and torch.equal(wrapped.eval()(x), model(x))
    with pytest.raises(AttributeError):
        wrapped.no_such_attribute


def test_backend_is_gloo_on_cpu_and_nccl_on_cuda():
    assert distributed.backend_for("cpu") == "gloo"
    assert distributed.backend_for(torch.device("cuda", 3)) == "nccl"
    with pytest.raises(TypeError, match="torch.device"):
        distributed.backend_for(0)
    with pytest.raises(ValueError, match="timeout_s"):
        distributed.setup("cpu", timeout_s=0)


def test_print0_prints_once(capsys):
    distributed.print0("hello", 3)
    assert capsys.readouterr().out == "hello 3\n"


def test_shards_cover_the_batch_and_weights_recover_the_global_mean():
    batch = torch.arange(10.0) ** 2  # 10 per-example losses
    for W in (1, 2, 3, 4, 10):
        pieces = [distributed.shard(batch, rank=r, world_size=W) for r in range(W)]
        assert torch.equal(torch.cat([p for p, _ in pieces]), batch)  # contiguous, in order, nothing lost
        sizes = [len(p) for p, _ in pieces]
        assert max(sizes) - min(sizes) <= 1
        # DDP averages over ranks: (1/W) sum_r weight_r * mean(local_r) must be the global mean
        averaged = sum(w * p.mean() for p, w in pieces) / W
        assert averaged.item() == pytest.approx(batch.mean().item(), rel=1e-12)
    assert distributed.shard(batch, rank=1, world_size=2)[1] == 1.0  # equal halves: weight exactly 1


def test_shard_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one example"):
        distributed.shard(torch.arange(3), rank=0, world_size=4)
    with pytest.raises(ValueError, match="must lie in"):
        distributed.shard(torch.arange(8), rank=2, world_size=2)
    with pytest.raises(TypeError, match="batch dimension"):
        distributed.shard([1, 2, 3], rank=0, world_size=1)
    with pytest.raises(ValueError, match="non-negative integer"):
        distributed.shard(torch.arange(8), rank=-1, world_size=2)


def test_data_parallelism_is_applied_where_a_program_starts_not_in_a_loop():
    """distributed imports no training code, and no loop takes a step or rows of
    its own: the commands wrap the model (DataParallel) and call the plain loops."""
    import ast
    import inspect

    from textbook_utils.commands import train_gpt
    from textbook_utils.training import gpt_loop, loop

    tree = ast.parse(Path(distributed.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not [m for m in imported if m.startswith("textbook_utils.training")], imported
    for f in (loop.fit, loop.train_loop, gpt_loop.train):
        assert not {"step", "take_step", "step_model", "rows"} & set(inspect.signature(f).parameters), f
    for command in (train_mnist, train_gpt):
        assert "distributed.DataParallel(" in inspect.getsource(command.main), command


def test_checkpoint_with_ddp_prefix_loads_into_a_plain_model(tmp_path):
    torch.manual_seed(0)
    source, target = MLP([6, 4, 3]), MLP([6, 4, 3])
    torch.save({f"module.{k}": v for k, v in source.state_dict().items()}, tmp_path / "ddp.pt")
    ckpt = distributed.load_state_dict(tmp_path / "ddp.pt", target)
    assert all(not k.startswith("module.") for k in ckpt["model"])
    for p, q in zip(source.parameters(), target.parameters()):
        assert torch.equal(p, q)
    assert distributed.save_checkpoint(tmp_path / "plain.pt", source, sizes=[6, 4, 3]) == tmp_path / "plain.pt"
    assert torch.load(tmp_path / "plain.pt", weights_only=True)["sizes"] == [6, 4, 3]
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        distributed.load_state_dict(tmp_path / "missing.pt")


def test_entry_point_has_help_that_names_torchrun(capsys):
    with pytest.raises(SystemExit) as exit_:
        train_mnist.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "torchrun" in out and "--batch-size" in out


def test_gpu_check_says_clearly_when_there_is_no_gpu(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: run bench/gpu_check.py itself")
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "bench" / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    assert gpu_check.main([]) == 0
    assert "no CUDA device" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        gpu_check.main(["--help"])
    assert exit_.value.code == 0


# --------------------------------------------------------------------------- torchrun, 2 processes

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(script: Path, *args, nproc: int = 2) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TEXTBOOK_DEVICE": "cpu", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", "--monitor_interval=0.5",
           str(script), *map(str, args)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S, cwd=REPO)


# One worker does every equivalence check, of the MNIST network and of the
# GPT, so that the (slow) start of two processes is paid once. It writes what
# it saw to files in OUT.
WORKER = r'''
import gc, json, sys
from pathlib import Path
import torch, torch.distributed as dist
from textbook_utils.tools import distributed
from textbook_utils.commands import train_gpt, train_mnist
from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.lessons.mlp import MLP
from textbook_utils.training.gpt_data import shakespeare_data
from textbook_utils.training.gpt_loop import Recipe, train
from textbook_utils.tools.seeding import seed_everything
from textbook_utils.training.loop import (fit, loss_function, make_optimizer,
                                          train_step)

out = Path(sys.argv[1])
info = distributed.setup(timeout_s=120)
r = info.rank
X, y = load_mnist("train", raw=True)  # the first 400 digits, as the test reads them
X, y = torch.tensor(X[:400].reshape(400, 784), dtype=torch.float64) / 255, torch.tensor(y[:400])

# 1. step by step: DataParallel + train_step on the global batches of 32 and 31 (uneven)
seed_everything(0)
model = MLP([784, 16, 16, 10]).double()
loaded = distributed.load_state_dict(out / "single_init.pt", model)  # a single-process checkpoint
dp = distributed.DataParallel(model)
opt = make_optimizer("sgd", dp.parameters(), 0.5, momentum=0.9)
loss = loss_function("cross_entropy")
snapshots, rows = [], []  # rows: examples this rank's model computes, per step
model.register_forward_pre_hook(lambda m, args: rows.append(len(args[0])))
for step, (lo, hi) in enumerate([(0, 32), (32, 63), (63, 95), (95, 126)]):
    train_step(dp, opt, loss, X[lo:hi], y[lo:hi])  # each rank runs its 16 (or 15) rows
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    every = [torch.empty_like(flat) for _ in range(info.world_size)]
    dist.all_gather(every, flat)
    snapshots.append(torch.stack(every))  # (world_size, n_params)
if r == 0:
    torch.save(torch.stack(snapshots), out / "steps.pt")  # (steps, world_size, n_params)
(out / f"rows{r}.json").write_text(json.dumps(rows))

# 2. training.fit on the DataParallel model: 2 epochs of N examples in batches of 63.
#    N = 200: last batch 11, shards of 6 and 5; N = 127: last batch 1, too few to share.
for n in (200, 127):
    seed_everything(1)
    model = MLP([784, 16, 10]).double()
    h = fit(distributed.DataParallel(model), (X[:n], y[:n]), (X[200:300], y[200:300]), epochs=2,
            batch_size=63, lr=0.3, momentum=0.5, eval_train=False, seed=3)
    torch.save(model.state_dict(), out / f"fit{n}_rank{r}.pt")
    if r == 0:
        (out / f"fit{n}.json").write_text(json.dumps({"loss": h["loss"], "steps": h["steps"],
                                                       "test_accuracy": h["test_accuracy"]}))

# 3. the entry point, with a checkpoint for a single process to load
train_mnist.main(["--max-steps", "5", "--train-examples", "640", "--epochs", "1",
                  "--out", str(out / "mnist.pt"), "--summary", str(out / "mnist.json")])

# 4. the GPT: gpt_loop.train on the DataParallel model, then its command line
shape, recipe = json.loads(sys.argv[2]), json.loads(sys.argv[3])
tok, train_ids, val_ids = shakespeare_data()
torch.manual_seed(5)
model = GPT(GPTConfig(vocab_size=tok.vocab_size, **shape), tok)
rows = []  # windows this rank's model computes, per training step
model.register_forward_pre_hook(lambda m, args: rows.append(len(args[0])) if m.training else None)
h = train(distributed.DataParallel(model), train_ids, val_ids[:2000], Recipe(**recipe),
          log=distributed.print0)
torch.save(model.state_dict(), out / f"gpt_rank{r}.pt")
(out / f"gpt_rank{r}.json").write_text(json.dumps({**h, "rows": rows}))
train_gpt.main(["--iters", "2", "--batch-size", "4", "--block-size", "16", "--n-layer", "1",
                "--n-head", "2", "--d-model", "32", "--eval-blocks", "4", "--out", str(out / "gpt.pt")])
print(f"rank {r} done")
distributed.teardown()
gc.freeze()  # the process ends here: its exit need not walk PyTorch's objects (about 1 s)
'''


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """Run WORKER on 2 processes; returns (output dir, completed process)."""
    out = tmp_path_factory.mktemp("ddp")
    seed_everything(0)
    distributed.save_checkpoint(out / "single_init.pt", MLP([784, 16, 16, 10]).double())
    script = out / "worker.py"
    script.write_text(WORKER)
    start = time.perf_counter()
    run = _torchrun(script, out, json.dumps(GPT_SHAPE), json.dumps(GPT_RECIPE))
    assert run.returncode == 0, f"torchrun failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    print(f"2-process worker took {time.perf_counter() - start:.1f} s")
    return out, run


@pytest.fixture(scope="module")
def mnist_400():
    """The first 400 training digits in float64 (only these: converting all
    60,000 would cost a second), as the worker reads them."""
    X, y = load_mnist("train", raw=True)
    return torch.tensor(X[:400].reshape(400, 784), dtype=torch.float64) / 255, torch.tensor(y[:400])


def test_ranks_agree_after_every_step_and_match_one_process(two_ranks, mnist_400):
    out, _ = two_ranks
    X, y = mnist_400
    steps = torch.load(out / "steps.pt", weights_only=True)  # (steps, 2, n_params)
    seed_everything(0)
    model = MLP([784, 16, 16, 10]).double()
    opt = make_optimizer("sgd", model.parameters(), 0.5, momentum=0.9)
    loss = loss_function("cross_entropy")
    start = torch.cat([p.detach().flatten() for p in model.parameters()])
    for step, (lo, hi) in enumerate([(0, 32), (32, 63), (63, 95), (95, 126)]):
        assert torch.equal(steps[step, 0], steps[step, 1]), f"ranks differ after step {step}"
        train_step(model, opt, loss, X[lo:hi], y[lo:hi])  # the whole global batch, one process
        single = torch.cat([p.detach().flatten() for p in model.parameters()])
        assert not torch.equal(single, start)  # training moved the weights
        torch.testing.assert_close(steps[step, 0], single, rtol=0, atol=1e-12)
    # each rank computed its own slice: 32 = 16 + 16, 31 = 16 + 15
    rows = [json.loads((out / f"rows{r}.json").read_text()) for r in (0, 1)]
    assert rows == [[16, 16, 16, 16], [16, 15, 16, 15]]


@pytest.mark.parametrize("n", [200, 127])
def test_fit_under_torchrun_matches_fit_in_one_process(two_ranks, mnist_400, n):
    out, _ = two_ranks
    X, y = mnist_400
    seed_everything(1)
    model = MLP([784, 16, 10]).double()
    h = fit(model, (X[:n], y[:n]), (X[200:300], y[200:300]), epochs=2, batch_size=63, lr=0.3,
            momentum=0.5, eval_train=False, seed=3)
    ranks = [torch.load(out / f"fit{n}_rank{r}.pt", weights_only=True) for r in (0, 1)]
    for name, value in model.state_dict().items():
        assert torch.equal(ranks[0][name], ranks[1][name])
        torch.testing.assert_close(ranks[0][name], value, rtol=0, atol=1e-12)
    logged = json.loads((out / f"fit{n}.json").read_text())
    # The global-batch cost, not a shard's: every rank computes it from the
    # gathered outputs, in float64 like the model.
    assert logged["loss"] == pytest.approx(h["loss"], rel=1e-12)
    assert logged["steps"] == h["steps"] == [n // 63 + 1, 2 * (n // 63 + 1)]  # no batch skipped
    assert logged["test_accuracy"] == h["test_accuracy"]


def test_checkpoints_from_torchrun_load_in_one_process(two_ranks):
    out, run = two_ranks
    ckpt = distributed.load_state_dict(out / "mnist.pt")
    model = MLP(ckpt["sizes"], activation=ckpt["activation"])
    model.load_state_dict(ckpt["model"])
    summary = json.loads((out / "mnist.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"][-1] == 5
    Xt, yt = load_mnist("test")
    acc = accuracy(model, torch.tensor(Xt), torch.tensor(yt))
    assert acc == summary["test_accuracy"][-1]  # the saved weights are the ones rank 0 evaluated
    assert run.stdout.count(f"saved {out / 'mnist.pt'}") == 1  # rank 0 only
    assert run.stdout.count("done") == 2


def test_gpt_ranks_are_identical_and_match_one_process(two_ranks):
    out, run = two_ranks
    tok, train_ids, val_ids = shakespeare_data()
    torch.manual_seed(5)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, **GPT_SHAPE), tok)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    h = train(model, train_ids, val_ids[:2000], Recipe(**GPT_RECIPE), log=None)  # the whole batch, alone
    ranks = [torch.load(out / f"gpt_rank{r}.pt", weights_only=True) for r in (0, 1)]
    for name, value in model.state_dict().items():
        assert torch.equal(ranks[0][name], ranks[1][name]), f"ranks differ in {name}"
        assert not torch.equal(value, start[name]), f"training did not move {name}"
        # the all-reduce sums in another order than one process does; Adam's division by
        # sqrt(v) can magnify that last-bit difference in a weight whose gradient is near 0
        torch.testing.assert_close(ranks[0][name], value, rtol=1e-4, atol=1e-5)
    logged = [json.loads((out / f"gpt_rank{r}.json").read_text()) for r in (0, 1)]
    # every rank evaluates the same full model: the validation loss is one process's
    assert logged[0]["val_loss"] == logged[1]["val_loss"]
    assert logged[0]["val_loss"] == pytest.approx(h["val_loss"], rel=1e-5)
    # each rank's model ran on its own half of every batch, and every rank computed the
    # loss of the whole batch from the gathered outputs: the single process's loss
    assert logged[0]["rows"] == logged[1]["rows"] == [GPT_RECIPE["batch_size"] // 2] * GPT_RECIPE["iters"]
    assert logged[0]["train_loss"] == logged[1]["train_loss"]
    assert logged[0]["train_loss"] == pytest.approx(h["train_loss"], rel=1e-5)
    assert run.stdout.count("step     3") == 1  # only rank 0 logs


def test_the_gpt_command_line_under_torchrun_saves_once_and_loads_alone(two_ranks):
    out, run = two_ranks
    model, ckpt = load_checkpoint(out / "gpt.pt", device="cpu")
    assert ckpt["state"]["world_size"] == 2 and model.cfg.d_model == 32
    assert run.stdout.count(f"saved {out / 'gpt.pt'}") == 1  # rank 0 only
    assert run.stdout.count("saved ") == 2  # the MNIST and the GPT checkpoint, nothing else
    assert run.stdout.count("done") == 2


FAILING = r'''
import gc, os, signal, sys, time
import torch
from textbook_utils.tools import distributed
from textbook_utils.lessons.mlp import MLP
from textbook_utils.training.loop import (loss_function, make_optimizer,
                                          train_step)

gc.freeze()  # rank 1's exit need not walk PyTorch's objects (about 1 s the launcher waits for)
info = distributed.setup(timeout_s=60)
model = MLP([8, 4, 2])
ddp = distributed.wrap(model)
opt = make_optimizer("sgd", ddp.parameters(), 0.1)
X, y = torch.randn(64, 8), torch.randint(0, 2, (64,))
for step in range(1000):
    if step == 3 and info.rank == 1:
        with open(sys.argv[2], "w") as f:  # when the failure happens
            f.write(str(time.time()))
        if sys.argv[1] == "raise":
            raise RuntimeError("rank 1 failed on purpose at step 3")
        os.kill(os.getpid(), signal.SIGKILL)
    train_step(ddp, opt, loss_function("cross_entropy"), X, y)  # rank 0 waits in the all-reduce
'''


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_stops_the_launcher_with_an_error(tmp_path, how):
    script = tmp_path / "failing.py"
    script.write_text(FAILING)
    failed_at = tmp_path / "failed_at"
    run = _torchrun(script, how, failed_at)  # raises TimeoutExpired if the job hangs
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "ChildFailedError" in output and "local_rank: 1" in output
    if how == "raise":
        assert "rank 1 failed on purpose at step 3" in output
    else:
        assert "Signal 9 (SIGKILL)" in output
    # Rank 0 is stopped by the launcher soon after rank 1 fails, long before
    # its own 60-s collective timeout could have ended the job.
    assert time.time() - float(failed_at.read_text()) < 30
