"""Train an MLP on MNIST from the command line, on one process or many.

Chapter "Scaling up" (``book/scaling/01_scaling_up.ipynb``) runs it. The same
command trains on a laptop CPU, one GPU or several, because
:func:`textbook_utils.training.fit` joins the other processes when ``torchrun``
starts it (gloo on CPUs, NCCL on GPUs)::

    python -m textbook_utils.train_mnist --epochs 3                         # 1 process
    torchrun --standalone --nproc_per_node=2 -m textbook_utils.train_mnist  # 2 CPU processes
    torchrun --standalone --nproc_per_node=8 -m textbook_utils.train_mnist --device cuda  # 8 GPUs

``--batch-size`` is the *global* batch: with W processes each trains on
``batch_size / W`` examples per step, and the gradients are averaged, so the
result matches one process on the whole batch. Only rank 0 prints and saves.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import distributed
from .data import load_mnist
from .seeding import seed_everything
from .models import ACTIVATIONS, MLP
from .training import LOSSES, OPTIMIZERS, fit

__all__ = ["main", "parser"]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated layer widths such as 16,16, got {text!r}")
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m textbook_utils.train_mnist",
        description="Train a 784-...-10 MLP on MNIST with textbook_utils.training.fit. Launch with "
                    "torchrun (e.g. torchrun --standalone --nproc_per_node=2 -m textbook_utils.train_mnist) "
                    "to train data-parallel on several processes; --batch-size is the global batch.")
    p.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer widths (default: 16,16)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64, help="global mini-batch size (default: 64)")
    p.add_argument("--lr", type=float, default=3e-3, help="learning rate eta (default: 0.003)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--loss", choices=LOSSES, default="cross_entropy")
    p.add_argument("--schedule", choices=["none", "cosine"], default="none")
    p.add_argument("--target-accuracy", type=float, default=None, help="stop once test accuracy reaches it")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--train-examples", type=int, default=None, help="use only the first N training images")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads per process (default: PyTorch's)")
    p.add_argument("--out", type=Path, default=None, help="save the trained weights here (rank 0)")
    p.add_argument("--summary", type=Path, default=None, help="write the history as JSON here (rank 0)")
    return p


def main(argv=None) -> dict:
    """Parse ``argv``, train, save (rank 0); return the history (every rank)."""
    args = parser().parse_args(argv)
    with distributed.session(args.device) as info:
        seed_everything(args.seed)  # same initial weights everywhere (DDP also copies rank 0's)
        model = MLP([784, *args.hidden, 10], activation=args.activation)
        train, test = load_mnist("train"), load_mnist("test")
        if args.train_examples is not None:
            train = (train[0][:args.train_examples], train[1][:args.train_examples])
        distributed.print0(f"training {model.extra_repr()} on {info.world_size} process(es), "
                           f"{info.device}, global batch {args.batch_size}")
        history = fit(model, train, test, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      optimizer=args.optimizer, loss=args.loss, device=info.device, seed=args.seed,
                      schedule=None if args.schedule == "none" else args.schedule, progress=False,
                      eval_train=False, target_accuracy=args.target_accuracy, max_steps=args.max_steps,
                      cpu_threads=args.threads)
        for e, loss, acc, sec in zip(history["epoch"], history["loss"], history["test_accuracy"],
                                     history["seconds"]):
            distributed.print0(f"epoch {e + 1}: loss {loss:.4f}  test accuracy {acc:.4f}  {sec:.1f} s")
        history["world_size"] = info.world_size
        if args.out is not None:
            distributed.save_checkpoint(args.out, model, sizes=model.sizes, activation=model.activation)
            distributed.print0(f"saved {args.out}")
        if args.summary is not None and distributed.is_main():
            args.summary.parent.mkdir(parents=True, exist_ok=True)
            args.summary.write_text(json.dumps(history, indent=1))
        return history


if __name__ == "__main__":
    main()
