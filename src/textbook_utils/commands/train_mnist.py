"""Train an MLP on MNIST from the command line, on one process or many.

Chapter "Scaling up" (``book/scaling/01_scaling_up.ipynb``) runs it. The same
command trains on a laptop CPU, one GPU or several: started by ``torchrun``,
it joins the other processes (gloo on CPUs, NCCL on GPUs) and runs
:func:`textbook_utils.training.loop.fit` on its model wrapped in
:class:`textbook_utils.tools.distributed.DataParallel`::

    python -m textbook_utils.commands.train_mnist --epochs 3                         # 1 process
    torchrun --standalone --nproc_per_node=2 -m textbook_utils.commands.train_mnist  # 2 CPU processes
    torchrun --standalone --nproc_per_node=8 -m textbook_utils.commands.train_mnist --device cuda  # 8 GPUs

``--batch-size`` is the *global* batch: with W processes each trains on
``batch_size / W`` examples per step, and the gradients are averaged, so the
result matches one process on the whole batch. Only rank 0 prints and saves.
Every argument is checked before any data is loaded or any process joins:
threads (at most the machine's cores), sizes (against the data and an
estimate of the memory), and ``--out``/``--summary``
(:func:`textbook_utils.tools.safe_write.check_output`: an existing file is
replaced only with ``--overwrite``, and the two must differ). No folder is
created; a loss that turns NaN stops the run and nothing is saved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from textbook_utils.tools import checks, cli, distributed
from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.mlp import ACTIVATIONS, MLP
from textbook_utils.tools.seeding import seed_everything
from textbook_utils.training.loop import LOSSES, OPTIMIZERS, fit

__all__ = ["main", "parser"]

N_TRAIN = 60_000  # MNIST's training images


def _sizes(text: str) -> list[int]:
    try:
        return [checks.positive_int(int(s), "a layer width") for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes positive layer widths separated by commas, such as 16,16; got {text!r}"
        ) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1] such as 0.96, got {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    positive_int, positive_number = cli.count, cli.rate
    p = argparse.ArgumentParser(
        prog="python -m textbook_utils.commands.train_mnist",
        description="Train a 784-...-10 MLP on MNIST with textbook_utils.training.loop.fit. Launch with "
                    "torchrun (e.g. torchrun --standalone --nproc_per_node=2 -m textbook_utils.commands.train_mnist) "
                    "to train data-parallel on several processes; --batch-size is the global batch.")
    p.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer widths (default: 16,16)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid")
    p.add_argument("--epochs", type=positive_int, default=3)
    p.add_argument("--batch-size", type=positive_int, default=64, help="global mini-batch size (default: 64)")
    p.add_argument("--lr", type=positive_number, default=3e-3, help="learning rate eta (default: 0.003)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--loss", choices=list(LOSSES), default="cross_entropy")
    p.add_argument("--schedule", choices=["none", "cosine"], default="none")
    p.add_argument("--target-accuracy", type=_fraction, default=None, help="stop once test accuracy reaches it")
    p.add_argument("--max-steps", type=positive_int, default=None, help="stop after this many steps")
    p.add_argument("--train-examples", type=positive_int, default=None,
                   help=f"use only the first N training images (at most {N_TRAIN:,})")
    p.add_argument("--device", type=cli.device, default=None,
                   help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--seed", type=cli.seed, default=0)
    p.add_argument("--threads", type=cli.threads, default=None,
                   help="CPU threads per process, at most the machine's cores "
                        "(default: PyTorch's; 1 is fastest for small networks)")
    cli.add_output(p, required=False, help="save the trained weights here (rank 0)")
    p.add_argument("--summary", type=Path, default=None, help="write the history as JSON here (rank 0)")
    return p


def _parse(argv) -> argparse.Namespace:
    """The arguments, with the ones argparse cannot check alone checked here:
    sizes against the data and the memory, and both outputs (which must
    differ, and exist only with --overwrite)."""
    p = parser()
    args = cli.parse(p, argv, outputs=("out", "summary"))
    if args.train_examples is not None and args.train_examples > N_TRAIN:
        p.error(f"--train-examples: MNIST has {N_TRAIN:,} training images, got {args.train_examples:,}")
    if args.batch_size > (args.train_examples or N_TRAIN):
        p.error(f"--batch-size {args.batch_size:,} is larger than the training set "
                f"({args.train_examples or N_TRAIN:,} images)")
    widths = [784, *args.hidden, 10]
    try:
        cli.check_memory(cli.mlp_training_bytes(widths, args.batch_size) + 4 * 784 * N_TRAIN,
                         f"an MLP {'-'.join(map(str, widths))} with --batch-size {args.batch_size}")
    except ValueError as e:
        p.error(str(e))
    return args


def main(argv=None) -> dict:
    """Parse ``argv``, train, save (rank 0); return the history (every rank).

    A loss that turns NaN or infinite ends the run with a message and exit
    status 1, and nothing is saved."""
    args = _parse(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    with distributed.session(args.device) as info:
        seed_everything(args.seed)  # same initial weights everywhere (DDP also copies rank 0's)
        model = MLP([784, *args.hidden, 10], activation=args.activation).to(info.device)
        train, test = load_mnist("train"), load_mnist("test")
        if args.train_examples is not None:
            train = (train[0][:args.train_examples], train[1][:args.train_examples])
        distributed.print0(f"training {model.extra_repr()} on {info.world_size} process(es), "
                           f"{info.device}, global batch {args.batch_size}")
        try:
            history = fit(distributed.DataParallel(model), train, test, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          optimizer=args.optimizer, loss=args.loss, seed=args.seed,
                          schedule=None if args.schedule == "none" else args.schedule, eval_train=False,
                          target_accuracy=args.target_accuracy, max_steps=args.max_steps)
        except FloatingPointError as e:
            sys.exit(f"training diverged: {e}; nothing saved. Try a smaller --lr.")
        for e, loss, acc, sec in zip(history["epoch"], history["loss"], history["test_accuracy"],
                                     history["seconds"]):
            distributed.print0(f"epoch {e + 1}: loss {loss:.4f}  test accuracy {acc:.4f}  {sec:.1f} s")
        history["world_size"] = info.world_size
        try:
            if args.out is not None:
                distributed.save_checkpoint(args.out, model, sizes=model.sizes, activation=model.activation)
                distributed.print0(f"saved {args.out.path}")
            if args.summary is not None and distributed.is_main():
                args.summary.write_json(history)
        except (OSError, ValueError, FloatingPointError) as e:
            sys.exit(f"nothing saved: {e}")
        return history


if __name__ == "__main__":
    main()
