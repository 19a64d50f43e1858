"""Train the book's character-level GPT from the command line, on one process or many.

Chapter "Scaling up" (``book/scaling/01_scaling_up.ipynb``). The same command
trains on a laptop CPU, one GPU or several GPUs on several machines, because
:func:`textbook_utils.gpt.train` joins the other processes when ``torchrun``
starts it (gloo on CPUs, NCCL on GPUs)::

    python -m textbook_utils.train_gpt --iters 200                             # 1 process
    torchrun --standalone --nproc_per_node=2 -m textbook_utils.train_gpt --iters 200   # 2 CPU processes
    torchrun --standalone --nproc_per_node=8 -m textbook_utils.train_gpt --device cuda \\
        --n-layer 6 --n-head 6 --d-model 384 --block-size 256 --batch-size 64 --compile  # 8 GPUs

``--batch-size`` is the *global* batch of windows, split evenly over the
processes. Only rank 0 logs and saves; the checkpoint is the same file
:func:`textbook_utils.gpt.save_checkpoint` writes, so
:func:`textbook_utils.gpt.load_checkpoint` reads it in a single process.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import distributed
from .gpt import GPT, GPTConfig, TrainConfig, save_checkpoint, shakespeare_data, train
from .seeding import seed_everything

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    d, g = TrainConfig(), GPTConfig(vocab_size=1)
    p = argparse.ArgumentParser(
        prog="python -m textbook_utils.train_gpt",
        description="Train the character-level GPT on tiny Shakespeare with textbook_utils.gpt.train. "
                    "Launch with torchrun (e.g. torchrun --standalone --nproc_per_node=2 -m "
                    "textbook_utils.train_gpt) to train data-parallel; --batch-size is the global batch.")
    p.add_argument("--iters", type=int, default=d.iters)
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"global batch of windows (default: {d.batch_size})")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--eval-interval", type=int, default=d.eval_interval)
    p.add_argument("--eval-blocks", type=int, default=d.eval_blocks, help="validation windows per evaluation")
    p.add_argument("--block-size", type=int, default=g.block_size, help="context length T")
    p.add_argument("--n-layer", type=int, default=g.n_layer)
    p.add_argument("--n-head", type=int, default=g.n_head)
    p.add_argument("--d-model", type=int, default=g.d_model)
    p.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA only)")
    p.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA (default: bfloat16 autocast)")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: PyTorch's default)")
    p.add_argument("--out", type=Path, default=None, help="save a checkpoint here (rank 0)")
    return p


def main(argv=None) -> dict:
    """Parse ``argv``, train, save (rank 0); return the history (every rank)."""
    import torch

    args = parser().parse_args(argv)
    with distributed.session(args.device) as info:
        if args.threads:
            torch.set_num_threads(args.threads)
        tok, train_ids, val_ids = shakespeare_data()
        seed_everything(args.seed)
        model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                              n_head=args.n_head, d_model=args.d_model), tok)
        cfg = TrainConfig(iters=args.iters, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                          eval_interval=max(1, min(args.eval_interval, args.iters)),
                          eval_blocks=args.eval_blocks, amp=not args.no_amp, compile=args.compile)
        distributed.print0(f"training a {sum(p.numel() for p in model.parameters()):,}-parameter GPT on "
                           f"{info.world_size} process(es), {info.device}, global batch {cfg.batch_size}")
        history = train(model, train_ids, val_ids, cfg, device=info.device, log=print)
        history.pop("optimizer")
        history["world_size"] = info.world_size
        if args.out is not None:  # every rank calls it; rank 0 writes
            save_checkpoint(args.out, model, state={"iters": history["iter"][-1], "val_loss": history["val_loss"][-1],
                                                    "seed": args.seed, "world_size": info.world_size})
            distributed.print0(f"saved {args.out}")
        return history


if __name__ == "__main__":
    main()
