"""Data parallelism with PyTorch's own engine, ``torch.distributed``.

Chapter "Scaling up" (``book/scaling/01_scaling_up.ipynb``) explains it; the
command lines ``textbook_utils.commands.train_mnist`` and
``textbook_utils.commands.train_gpt`` use it when a launcher such as
``torchrun`` started them. The idea in one line: every process (a *rank*)
holds a full copy of the model, takes its own slice of each global
mini-batch, and after the backward pass the ranks average their gradients
(an *all-reduce*), so every copy takes the same step.

It is applied once, where a program starts, and nowhere else: the command
wraps its model, ``model = DataParallel(model)``, and hands it to the same
single-process loop (``training.loop.fit``, ``training.gpt_loop.train``).
The loop still draws the whole global batch on every rank (the same seed,
the same batch, without talking); :class:`DataParallel` gives each rank its
slice of it (:func:`shard`), runs ``DistributedDataParallel`` on that
slice, and hands back the outputs of the whole batch, so the loop computes
the cost and takes the step exactly as one process would.

- :func:`setup` / :func:`teardown` / :func:`session` start and end the
  process group, reading ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
  ``MASTER_ADDR`` and ``MASTER_PORT`` set by ``torchrun``; the backend is
  ``nccl`` on CUDA and ``gloo`` otherwise;
- :func:`rank`, :func:`world_size`, :func:`is_main`, :func:`print0`;
- :func:`shard` (this rank's slice of a global batch), :func:`wrap` (DDP),
  :class:`DataParallel` (the two together: the one way to distribute);
- :func:`save_checkpoint` / :func:`load_state_dict`: written by rank 0 only,
  without DDP's ``module.`` prefix, so a checkpoint from a distributed run
  loads in a single process and vice versa (``torch.load(...,
  weights_only=True)``).

Without a launcher nothing changes: world size 1, rank 0, and
:class:`DataParallel` is the model itself.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import errno
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from textbook_utils.tools.device import pick_device
from textbook_utils.tools.safe_write import Output, check_output

__all__ = ["DataParallel", "DistInfo", "backend_for", "is_distributed", "is_main", "launched",
           "load_state_dict", "print0", "rank", "save_checkpoint", "session", "setup", "shard",
           "teardown", "unwrap", "world_size", "wrap"]

#: environment variables torchrun sets for every worker
LAUNCH_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistInfo:
    """Who this process is: ``rank`` of ``world_size``, ``local_rank`` on its machine, its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None  # None: a single process, no process group


def launched() -> bool:
    """True when a launcher (``torchrun``) set ``RANK`` and ``WORLD_SIZE`` for this process."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def is_distributed() -> bool:
    """True when a process group is running (after :func:`setup` under torchrun)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank, 0 .. world_size - 1 (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes training together (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


_current_rank, _current_world_size = rank, world_size  # for functions whose arguments share the names


def is_main() -> bool:
    """True on rank 0, the one process that prints, logs and saves."""
    return rank() == 0


def print0(*args, **kwargs) -> None:
    """``print`` on rank 0 only (every rank calling ``print`` would repeat each line W times)."""
    if is_main():
        print(*args, **kwargs)


def backend_for(device) -> str:
    """The collective-communication library for ``device``: ``"nccl"`` on CUDA, else ``"gloo"``."""
    device = torch.device(device) if isinstance(device, str) else device
    if not isinstance(device, torch.device):
        raise TypeError(f"device must be a torch.device or a string such as 'cpu', got {type(device).__name__}")
    return "nccl" if device.type == "cuda" else "gloo"


def _env_int(name: str) -> int:
    value = os.environ[name]
    if not value.isdigit():
        raise ValueError(f"${name} must be a non-negative integer (set by torchrun), got {value!r}")
    return int(value)


def setup(device=None, *, timeout_s: float = 300.0) -> DistInfo:
    """Join the process group if a launcher started us; otherwise describe the single process.

    Under torchrun each worker gets its own device: on a machine with GPUs,
    ``cuda:LOCAL_RANK`` (and NCCL); on a CPU, ``cpu`` (and gloo). ``device``
    overrides the choice as in :func:`textbook_utils.tools.device.pick_device`.
    ``timeout_s`` bounds how long a collective waits for a rank that stopped
    answering before raising, instead of hanging forever. Calling it twice is
    harmless.
    """
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    dev = pick_device(device)
    if not launched():
        return DistInfo(0, 1, 0, dev, None)
    r, w = _env_int("RANK"), _env_int("WORLD_SIZE")
    local = _env_int("LOCAL_RANK") if "LOCAL_RANK" in os.environ else r
    if not 0 <= r < w:
        raise ValueError(f"$RANK={r} must lie in 0..$WORLD_SIZE-1 = {w - 1}")
    if dev.type == "cuda":
        if local >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local} has no GPU: this machine has {torch.cuda.device_count()}; "
                               f"start at most that many processes per node (--nproc_per_node)")
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    backend = backend_for(dev)
    if not is_distributed():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s),
                                **({"device_id": dev} if dev.type == "cuda" else {}))
        atexit.register(teardown)  # a trainer that joined on its own still leaves cleanly
    return DistInfo(r, w, local, dev, backend)


def teardown() -> None:
    """Leave the process group (at the end of a run; nothing to do without one)."""
    if is_distributed():
        dist.destroy_process_group()


@contextlib.contextmanager
def session(device=None):
    """``with session(device) as info:`` — :func:`setup` now, :func:`teardown` at the end.

    The command-line trainers run inside one. If a caller had already joined the
    process group, the group is left for that caller to close.
    """
    joined_here = not is_distributed()
    info = setup(device)
    try:
        yield info
    finally:
        if joined_here:
            teardown()


def shard(batch: torch.Tensor, *, rank: int | None = None, world_size: int | None = None
          ) -> tuple[torch.Tensor, float]:
    """This rank's contiguous slice of a global batch, and the weight of its loss.

    ``batch`` (B, ...) — indices, examples or token windows — is cut into
    ``world_size`` slices whose sizes differ by at most one; rank r gets
    slice r. The weight ``b_r * W / B`` (exactly 1.0 when W divides B) makes
    DDP's plain average of the ranks' gradients equal the gradient of the
    mean loss over all B examples: multiply the local mean loss by it.
    (:class:`DataParallel` needs no weight: it computes the mean over all
    B.) Needs B >= W, so that no rank is left without data.
    """
    r = _current_rank() if rank is None else rank
    w = _current_world_size() if world_size is None else world_size
    if not isinstance(batch, torch.Tensor) or batch.ndim < 1:
        raise TypeError(f"batch must be a tensor with a batch dimension, got {type(batch).__name__}")
    for name, value in (("rank", r), ("world_size", w)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if not 0 <= r < w:
        raise ValueError(f"rank {r} must lie in 0..world_size-1 = {w - 1}")
    B = len(batch)
    if B < w:
        raise ValueError(f"a global batch of {B} cannot give each of {w} ranks at least one example")
    local = torch.tensor_split(batch, w)[r]
    return local, len(local) * w / B


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` under a process group; ``model`` itself otherwise.

    DDP copies rank 0's weights to every rank when it is built and averages
    the gradients during ``backward()``. Move the model to its device first.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not is_distributed():
        return model
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain model inside its wrappers: DDP, :class:`DataParallel`, ``torch.compile``,
    or any other that keeps it as ``.module``."""
    while hasattr(model, "module") or hasattr(model, "_orig_mod"):
        model = getattr(model, "module", None) or model._orig_mod
    return model


class DataParallel(torch.nn.Module):
    """``model`` trained by every rank on its own slice of each global batch.

    The book's one way to distribute (not ``torch.nn.DataParallel``, which
    splits a batch over the GPUs of one process). A command wraps its model
    once, ``model = DataParallel(model)``, and trains it with the loop it
    uses on one process. Every rank's loop draws the same global batch x
    (B, ...); in training mode the wrapper

    1. takes this rank's rows of x (:func:`shard`), b_r of them;
    2. runs them through ``DistributedDataParallel(model)`` (:func:`wrap`),
       which averages the ranks' gradients during ``backward()``;
    3. gathers every rank's outputs (an *all-gather*), so that each rank
       holds the outputs of the whole batch, in order.

    The loop then computes the cost of the whole batch, the same number on
    every rank and the one a single process computes. Its gradient reaches
    this rank's b_r outputs only; the cost is the same on all W ranks, so
    those outputs count W times (``backward`` of the gather), and DDP's
    average over the W ranks brings the sum back to the gradient of the
    mean cost over all B examples: every copy takes the step one process
    takes on the whole batch, also when W does not divide B.

    In evaluation mode (``model.eval()``), alone (world size 1), or with
    fewer rows than ranks, each rank runs the whole batch itself, with no
    communication. Its attributes are the model's (``cfg``, ``sizes`` ...),
    so a loop uses it as it uses the model; :func:`unwrap` and
    :func:`save_checkpoint` reach the plain model inside. ``model`` may
    itself wrap the model for speed (autocast, ``torch.compile``): training
    steps run through it, evaluation runs the plain model.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.module = wrap(model)  # DDP(model) under torchrun, else model

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)  # parameters, submodules
        except AttributeError:
            if name in ("module", "_orig_mod") or "module" not in self.__dict__.get("_modules", {}):
                raise  # (also while it is being built or copied)
            return getattr(unwrap(self.module), name)  # the model's own

    def forward(self, x: torch.Tensor, *args):
        B, W = len(x), world_size()
        if not self.training:  # evaluation: the plain model, on all of x
            return unwrap(self.module)(x, *args)
        if W == 1 or B < W:  # alone, or too few rows to share out
            ddp = isinstance(self.module, DistributedDataParallel)
            return (self.module.module if ddp else self.module)(x, *args)
        local, _ = shard(x)  # (b_r, ...): this rank's rows
        out = self.module(local, *args)  # DDP averages the gradients in backward()
        sizes = [B // W + (r < B % W) for r in range(W)]  # every b_r, as shard cuts
        if isinstance(out, tuple):  # e.g. the GPT's (logits, None)
            return tuple(None if o is None else _AllGather.apply(o, sizes) for o in out)
        return _AllGather.apply(out, sizes)


class _AllGather(torch.autograd.Function):
    """Every rank's outputs (b_r, ...) -> the whole batch's (B, ...), on every rank.

    ``backward`` returns this rank's rows of the gradient, times W: every
    rank computes the same cost from the gathered outputs, so the rows
    reach it through W identical copies (the sum over ranks that the
    all-gather's gradient is), and DDP divides the sum by W.
    """

    @staticmethod
    def forward(ctx, local: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        r, W = rank(), len(sizes)
        padded = local.new_zeros((max(sizes), *local.shape[1:]))  # equal sizes for all_gather
        padded[:len(local)] = local
        parts = [torch.empty_like(padded) for _ in range(W)]
        dist.all_gather(parts, padded)
        ctx.rows, ctx.W = slice(sum(sizes[:r]), sum(sizes[:r + 1])), W
        return torch.cat([part[:n] for part, n in zip(parts, sizes)])  # (B, ...)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad[ctx.rows] * ctx.W, None


def _plain_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in unwrap(model).state_dict().items()}


def save_checkpoint(out, model: torch.nn.Module, *, overwrite: bool = False, **extra) -> Path | None:
    """Rank 0 writes ``{"model": state_dict, **extra}`` to ``out``; all ranks then wait for it.

    The book's one way to save a model. ``out`` is a path, or better an
    :class:`~textbook_utils.tools.safe_write.Output` checked before training; an
    existing file is replaced only with ``overwrite`` (or the Output's
    ``--overwrite``). The file is written by
    :meth:`~textbook_utils.tools.safe_write.Output.write`: whole or not at all.
    The state dict is the plain model's (no ``module.`` prefix), on the CPU,
    so it loads anywhere; weights that are NaN or infinite are refused.
    ``extra`` must be tensors, numbers, strings, lists or dicts of them
    (what ``weights_only=True`` loading accepts). Returns the path on rank 0
    and ``None`` elsewhere.
    """
    written = None
    if is_main():
        state = _plain_state(model)
        bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise FloatingPointError(f"the weights {', '.join(bad[:3])} hold NaN or infinite values "
                                     f"(training diverged?); nothing was saved")
        if not isinstance(out, Output):
            out = check_output(out, overwrite=overwrite, flag="checkpoint")
        written = out.write(lambda f: _save(f, {"model": state, **extra}))
    if is_distributed():
        dist.barrier()
    return written


def _save(f, obj) -> None:
    try:
        torch.save(obj, f)
    except RuntimeError as e:  # torch's writer reports a full disk this way
        raise OSError(errno.EIO, f"torch.save failed: {str(e).splitlines()[-1].strip()}") from e


def load_state_dict(path, model: torch.nn.Module | None = None) -> dict:
    """Read a checkpoint with ``weights_only=True`` (no code in the file runs).

    Accepts files from :func:`save_checkpoint` and bare state dicts, with or
    without DDP's ``module.`` prefix. With ``model`` given, loads the weights
    into it (DDP-wrapped or not). Returns the checkpoint dict, its ``"model"``
    entry stripped of any prefix.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path} holds a {type(ckpt).__name__}, not a checkpoint dict")
    state = ckpt["model"] if "model" in ckpt and isinstance(ckpt["model"], dict) else ckpt
    state = {k.removeprefix("module."): v for k, v in state.items()}
    ckpt = {**ckpt, "model": state}
    if model is not None:
        unwrap(model).load_state_dict(state)
    return ckpt

