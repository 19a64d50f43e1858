"""Train the book's GPT from the command line, on one process or many.

The one command line of the GPT (chapters "GPT: what a transformer does" and
"Scaling up"). It runs :func:`textbook_utils.training.gpt_loop.train`, the plain
single-process loop; when ``torchrun`` starts several processes, each joins
the group (gloo on CPUs, NCCL on GPUs) and hands the loop its model wrapped in
:class:`textbook_utils.tools.distributed.DataParallel`, which trains on its
slice of every global batch and averages the gradients; rank 0 logs and
saves::

    python -m textbook_utils.commands.train_gpt                          # 1 process, no file
    python -m textbook_utils.commands.train_gpt --out gpt.pt             # ... saved to gpt.pt
    torchrun --standalone --nproc_per_node=2 -m textbook_utils.commands.train_gpt --out gpt.pt
    torchrun --standalone --nproc_per_node=8 -m textbook_utils.commands.train_gpt --device cuda \\
        --n-layer 6 --n-head 6 --d-model 384 --block-size 256 --batch-size 64 --compile

The committed checkpoint (the book's recipe run for 2,000 steps) is remade by::

    python -m textbook_utils.commands.train_gpt --iters 2000 --out src/textbook_utils/checkpoints/char_gpt.pt --overwrite

Everything a reader types is checked before training starts: sizes and
rates, threads (at most the machine's cores), the memory the model and
batch need (an estimate, against what the machine has), and the output
(:func:`textbook_utils.tools.safe_write.check_output`: writable, not a folder, an
existing file or a place that holds committed files only with
``--overwrite``). A loss that turns NaN stops the run with nothing saved.
Nothing is written unless ``--out`` is given; the checkpoint is written
whole or not at all, and beside it its SHA-256 goes into ``SHA256SUMS``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import asdict

import torch

from textbook_utils.tools import cli

__all__ = ["BFloat16Forward", "main", "parser"]

SHAKESPEARE_VOCAB = 65  # tiny Shakespeare's characters: the memory estimate's vocabulary


def parser() -> argparse.ArgumentParser:
    from textbook_utils.lessons.gpt import GPTConfig
    from textbook_utils.training.gpt_loop import Recipe

    r, g = Recipe(), GPTConfig(vocab_size=1)
    count, rate = cli.count, cli.rate
    p = argparse.ArgumentParser(
        prog="python -m textbook_utils.commands.train_gpt",
        description="Train the book's character-level GPT on tiny Shakespeare. Launch with torchrun "
                    "(e.g. torchrun --standalone --nproc_per_node=2 -m textbook_utils.commands.train_gpt) to "
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
    p.add_argument("--seed", type=cli.seed, default=r.seed)
    p.add_argument("--device", type=cli.device, default=None,
                   help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--threads", type=cli.threads, default=None,
                   help="CPU threads per process (at most the machine's cores)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    p.add_argument("--no-amp", action="store_true", help="float32 on CUDA (default: bfloat16 autocast)")
    cli.add_output(p, required=False, help="save the checkpoint here (default: nowhere)")
    return p


class BFloat16Forward(torch.nn.Module):
    """``module`` whose forward pass (and loss) runs in bfloat16 autocast on CUDA; the
    backward pass then follows the same precision, the weights stay float32.
    (Named ``module``, as in DDP, so that ``distributed.unwrap`` finds the model.)"""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return self.module(*args)


def _check(p: argparse.ArgumentParser, args) -> "Recipe":  # noqa: F821
    """Everything argparse cannot check alone, before any data is read: the
    recipe, the shape, the batch over the processes, the memory it needs,
    and the hash file beside ``--out``. Returns the recipe."""
    from textbook_utils.tools.data import DataError, read_sha256sums
    from textbook_utils.tools.device import pick_device
    from textbook_utils.training.gpt_loop import Recipe
    from textbook_utils.tools.safe_write import SUMS

    r = Recipe()
    try:
        recipe = Recipe(iters=args.iters, batch_size=args.batch_size, lr=args.lr,
                        min_lr=args.lr * r.min_lr / r.lr if args.min_lr is None else args.min_lr,
                        warmup=args.warmup, eval_interval=args.eval_interval,
                        eval_blocks=args.eval_blocks, seed=args.seed)
    except ValueError as e:
        p.error(str(e))
    if args.d_model % args.n_head:
        p.error(f"--d-model {args.d_model} must be a multiple of --n-head {args.n_head}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    device = pick_device(args.device)
    available = None  # the machine's memory, shared by the processes on it
    if device.type == "cuda":
        available, local = torch.cuda.get_device_properties(device.index or 0).total_memory, 1
    need = local * cli.gpt_training_bytes(
        vocab_size=SHAKESPEARE_VOCAB, block_size=args.block_size, n_layer=args.n_layer,
        n_head=args.n_head, d_model=args.d_model, batch_size=math.ceil(args.batch_size / world))
    try:
        cli.check_memory(need, f"a GPT with --n-layer {args.n_layer} --d-model {args.d_model} "
                               f"--block-size {args.block_size} --batch-size {args.batch_size}",
                         available=available)
    except ValueError as e:
        p.error(str(e))
    if args.out is not None:
        sums = args.out.path.parent / SUMS
        if sums.exists() or sums.is_symlink():  # read now, not after training
            try:
                read_sha256sums(sums)
            except DataError as e:
                p.error(f"--out {args.out.path}: the hash file beside it cannot be updated: {e}")
    return recipe


def main(argv=None) -> dict:
    """Parse ``argv``, check it, train, save on rank 0; return the history (every rank)."""
    p = parser()
    args = cli.parse(p, argv)
    recipe = _check(p, args)  # every check before any data is read or any step is taken
    from textbook_utils.tools import distributed
    from textbook_utils.lessons.gpt import GPT, GPTConfig
    from textbook_utils.training.gpt_checkpoint import gpt_fields, record_sha256
    from textbook_utils.training.gpt_data import estimate_loss, shakespeare_data
    from textbook_utils.training.gpt_loop import train
    from textbook_utils.tools.seeding import seed_everything

    shape = dict(block_size=args.block_size, n_layer=args.n_layer, n_head=args.n_head, d_model=args.d_model)
    with distributed.session(args.device) as info:
        if args.threads:
            torch.set_num_threads(args.threads)
        tok, train_ids, val_ids = shakespeare_data()
        if args.block_size >= len(val_ids):
            p.error(f"--block-size {args.block_size:,} does not fit the {len(val_ids):,} held-out "
                    f"characters; it must be smaller")
        seed_everything(args.seed)  # the initial weights: the same command makes the same model
        model = GPT(GPTConfig(vocab_size=tok.vocab_size, **shape), tok).to(info.device)
        net, on_gpu = model, info.device.type == "cuda"  # what the training steps run
        if on_gpu and not args.no_amp:
            net = BFloat16Forward(net)
        if args.compile and on_gpu:
            net = torch.compile(net)
        distributed.print0(f"training a {sum(p.numel() for p in model.parameters()):,}-parameter GPT on "
                           f"{info.world_size} process(es), {info.device}, global batch {args.batch_size}")
        try:
            history = train(distributed.DataParallel(net), train_ids, val_ids, recipe,
                            log=distributed.print0)
        except FloatingPointError as e:
            sys.exit(f"training diverged: {e}; nothing saved. Try a smaller --lr.")
        val = estimate_loss(model, val_ids)  # every held-out window, in float32
        distributed.print0(f"validation loss on all {len(val_ids):,} held-out characters: {val:.4f}")
        if not val < 2 * math.log(tok.vocab_size):  # NaN, or far worse than guessing uniformly
            sys.exit(f"training diverged (validation loss {val:.4g}); nothing saved. Try a smaller --lr.")
        history["full_val_loss"], history["world_size"] = val, info.world_size
        if args.out is not None:
            state = {"iters": history["iter"][-1], "val_loss": val, "seed": args.seed,
                     "world_size": info.world_size, "recipe": asdict(recipe)}
            try:
                path = distributed.save_checkpoint(args.out, model, **gpt_fields(model, **state))
                if path is not None:
                    print(f"saved {path} (SHA-256 {record_sha256(path)})")
            except OSError as e:
                sys.exit(f"nothing saved: {e}")
        return history


if __name__ == "__main__":
    main()
