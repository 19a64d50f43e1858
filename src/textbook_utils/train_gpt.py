"""Train the book's GPT from the command line, on one process or many.

The one command line of the GPT (chapters "GPT: what a transformer does" and
"Scaling up"). It runs :func:`textbook_utils.gpt_training.train`, the plain
single-process loop; when ``torchrun`` starts several processes, this module
wraps that loop from outside: each process joins the group (gloo on CPUs,
NCCL on GPUs), wraps the model in ``DistributedDataParallel`` (which averages
the gradients) and trains on its slice of every global batch; rank 0 logs
and saves::

    python -m textbook_utils.train_gpt                          # 1 process, no file
    python -m textbook_utils.train_gpt --out gpt.pt             # ... saved to gpt.pt
    torchrun --standalone --nproc_per_node=2 -m textbook_utils.train_gpt --out gpt.pt
    torchrun --standalone --nproc_per_node=8 -m textbook_utils.train_gpt --device cuda \\
        --n-layer 6 --n-head 6 --d-model 384 --block-size 256 --batch-size 64 --compile

The committed checkpoint (the book's recipe run for 2,000 steps) is remade by::

    python -m textbook_utils.train_gpt --iters 2000 --out src/textbook_utils/checkpoints/char_gpt.pt --overwrite

Everything a reader types is checked before training starts: sizes and
rates, and the output path (it must not be a folder, its folder must exist,
and an existing file is replaced only with ``--overwrite``). Nothing is
written unless ``--out`` is given; beside the file, its SHA-256 goes into
``SHA256SUMS``.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from . import checks

__all__ = ["BFloat16Forward", "data_parallel", "main", "parser"]


def _arg(check):
    """An argparse type that applies one of :mod:`textbook_utils.checks`' checks."""
    def parse(text):
        try:
            value = float(text) if check is checks.positive_number else int(text)
            return check(value, "the value")
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e).replace("the value ", "")) from None
    parse.__name__ = check.__name__.replace("_", " ")
    return parse


def parser() -> argparse.ArgumentParser:
    from .gpt import GPTConfig
    from .gpt_training import Recipe

    r, g = Recipe(), GPTConfig(vocab_size=1)
    count, rate = _arg(checks.positive_int), _arg(checks.positive_number)
    p = argparse.ArgumentParser(
        prog="python -m textbook_utils.train_gpt",
        description="Train the book's character-level GPT on tiny Shakespeare. Launch with torchrun "
                    "(e.g. torchrun --standalone --nproc_per_node=2 -m textbook_utils.train_gpt) to "
                    "train data-parallel; --batch-size is the global batch.")
    p.add_argument("--iters", type=count, default=r.iters, help=f"steps (default {r.iters})")
    p.add_argument("--batch-size", type=count, default=r.batch_size,
                   help=f"global batch of windows, split over the processes (default {r.batch_size})")
    p.add_argument("--lr", type=rate, default=r.lr, help=f"peak learning rate (default {r.lr})")
    p.add_argument("--min-lr", type=rate, default=None,
                   help=f"final learning rate (default lr / {r.lr / r.min_lr:g}, as in the recipe)")
    p.add_argument("--warmup", type=int, default=r.warmup, help=f"warm-up steps (default {r.warmup})")
    p.add_argument("--eval-interval", type=count, default=r.eval_interval)
    p.add_argument("--eval-blocks", type=count, default=r.eval_blocks, help="validation windows per evaluation")
    p.add_argument("--block-size", type=count, default=g.block_size, help="context length T")
    p.add_argument("--n-layer", type=count, default=g.n_layer)
    p.add_argument("--n-head", type=count, default=g.n_head)
    p.add_argument("--d-model", type=count, default=g.d_model)
    p.add_argument("--seed", type=int, default=r.seed)
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--threads", type=count, default=None, help="CPU threads per process")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    p.add_argument("--no-amp", action="store_true", help="float32 on CUDA (default: bfloat16 autocast)")
    p.add_argument("--out", type=Path, default=None, help="save the checkpoint here (default: nowhere)")
    p.add_argument("--overwrite", action="store_true", help="replace the file at --out if it exists")
    return p


class BFloat16Forward(torch.nn.Module):
    """``model`` whose forward pass (and loss) runs in bfloat16 autocast on CUDA; the
    backward pass then follows the same precision, the weights stay float32."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *args):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return self.model(*args)


def data_parallel(model, batch_size: int):
    """``(step_model, rows)`` for :func:`~textbook_utils.gpt_training.train` on this process.

    Under torchrun: the model wrapped in ``DistributedDataParallel`` (every
    backward pass then averages the gradients over the processes) and this
    process's rows of every global batch of ``batch_size``. Alone: the model
    itself and every row.
    """
    from . import distributed

    W = distributed.world_size()
    if batch_size % W:
        raise ValueError(f"the batch of {batch_size} windows must split evenly over {W} processes")
    return distributed.wrap(model), distributed.shard(torch.arange(batch_size))[0]


def main(argv=None) -> dict:
    """Parse ``argv``, check it, train, save on rank 0; return the history (every rank)."""
    p = parser()
    args = p.parse_args(argv)
    from . import distributed
    from .gpt import GPT, GPTConfig
    from .gpt_checkpoint import check_output_path, record_sha256, save_checkpoint
    from .gpt_data import estimate_loss, shakespeare_data
    from .gpt_training import Recipe, train
    from .seeding import seed_everything

    r = Recipe()
    try:  # every check before any data is read or any step is taken
        recipe = Recipe(iters=args.iters, batch_size=args.batch_size, lr=args.lr,
                        min_lr=args.lr * r.min_lr / r.lr if args.min_lr is None else args.min_lr,
                        warmup=args.warmup, eval_interval=args.eval_interval,
                        eval_blocks=args.eval_blocks, seed=args.seed)
        shape = dict(block_size=args.block_size, n_layer=args.n_layer, n_head=args.n_head, d_model=args.d_model)
        GPTConfig(vocab_size=1, **shape)
        if args.out is not None:
            check_output_path(args.out, overwrite=args.overwrite)
    except (ValueError, OSError) as e:
        p.error(str(e))

    with distributed.session(args.device) as info:
        if args.batch_size % info.world_size:
            p.error(f"--batch-size {args.batch_size} must be a multiple of the {info.world_size} processes")
        if args.threads:
            torch.set_num_threads(args.threads)
        tok, train_ids, val_ids = shakespeare_data()
        seed_everything(args.seed)  # the initial weights: the same command makes the same model
        model = GPT(GPTConfig(vocab_size=tok.vocab_size, **shape), tok).to(info.device)
        step_model, rows = data_parallel(model, args.batch_size)
        on_gpu = info.device.type == "cuda"
        if on_gpu and not args.no_amp:
            step_model = BFloat16Forward(step_model)
        if args.compile and on_gpu:
            step_model = torch.compile(step_model)
        distributed.print0(f"training a {sum(p.numel() for p in model.parameters()):,}-parameter GPT on "
                           f"{info.world_size} process(es), {info.device}, global batch {args.batch_size}")
        history = train(model, train_ids, val_ids, recipe, log=distributed.print0,
                        step_model=step_model, rows=rows)
        val = estimate_loss(model, val_ids)  # every held-out window, in float32
        distributed.print0(f"validation loss on all {len(val_ids):,} held-out characters: {val:.4f}")
        if not val < 2 * math.log(tok.vocab_size):  # NaN, or far worse than guessing uniformly
            sys.exit(f"training diverged (validation loss {val:.4g}); nothing saved. Try a smaller --lr.")
        history["full_val_loss"], history["world_size"] = val, info.world_size
        if args.out is not None and distributed.is_main():
            state = {"iters": history["iter"][-1], "val_loss": val, "seed": args.seed,
                     "world_size": info.world_size, "recipe": asdict(recipe)}
            save_checkpoint(args.out, model, **state)
            print(f"saved {args.out} (SHA-256 {record_sha256(args.out)})")
        return history


if __name__ == "__main__":
    main()
