"""The learning curve of the chapter "Data", as a JSON file.

``book/orientation/03_data.ipynb`` trains one 784-100-10 ReLU network on the
first n images of a fixed shuffle of MNIST's 60,000 training images, for n
from 100 to 60,000, always with Adam (learning rate 0.001) for 1,500
mini-batches of 50 (a set too small for that is repeated; the full set gets
two epochs), and measures the accuracy on the 10,000 test images. The seven
runs take about 20 s on a quiet 2-core CPU, more than that chapter's share of
the book's time budget, so the chapter reads them from the file this script
writes and re-trains one size live, with the same function:

    .venv/bin/python book/orientation/learning_curve.py \\
        --out book/orientation/learning_curve.json

``--sizes`` and ``--steps`` shorten the runs (the test suite uses them).
An existing ``--out`` is replaced only with ``--overwrite`` (so remaking
the committed file needs it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np
import torch

from textbook_utils.tools import cli
from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.mlp import MLP
from textbook_utils.tools.seeding import seed_everything
from textbook_utils.training.loop import accuracy, fit

SIZES = (100, 300, 1_000, 3_000, 10_000, 30_000, 60_000)


def train_on_first(n, train, test, *, steps=1_500, batch_size=50, seed=0):
    """Test accuracy of the network trained on the first n training images.

    ``train`` and ``test`` are ``(X, y)`` as from ``load_mnist``; the first
    n images are those of one fixed shuffle, so a larger set contains the
    smaller ones. ``seed`` draws the initial weights and the batch order.
    """
    X, y = train
    idx = np.random.default_rng(0).permutation(len(X))[:n]  # (n,)
    seed_everything(seed)
    model = MLP([784, 100, 10], activation="relu")
    epochs = max(2, -(-steps * batch_size // n))  # `steps` steps, >= 2 epochs
    fit(model, (X[idx], y[idx]), epochs=epochs, batch_size=batch_size,
        lr=1e-3, optimizer="adam", eval_train=False, seed=seed,
        max_steps=steps if epochs > 2 else None)
    X_test, y_test = (torch.from_numpy(a) for a in test)
    return accuracy(model, X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_output(parser)
    parser.add_argument("--sizes", type=cli.count, nargs="+",
                        default=list(SIZES))
    parser.add_argument("--steps", type=cli.count, default=1_500)
    args = cli.parse(parser, argv)  # --out checked before any work
    steps, sizes = args.steps, args.sizes
    if max(sizes) > 60_000:
        parser.error("--sizes are at most 60,000 (the MNIST training set)")

    torch.set_num_threads(1)  # as the chapter: the same arithmetic each run
    train, test = load_mnist("train"), load_mnist("test")
    start, test_accuracy = time.perf_counter(), {}
    for n in sizes:
        try:
            test_accuracy[str(n)] = train_on_first(n, train, test, steps=steps)
        except FloatingPointError as e:
            sys.exit(f"training on {n:,} images diverged: {e}; nothing written")
        print(f"{n:>6,} training images: {test_accuracy[str(n)]:.1%}",
              flush=True)
    made_by = ("python book/orientation/learning_curve.py "
               f"--out {args.out.path}")
    if sizes != list(SIZES):
        made_by += " --sizes " + " ".join(map(str, sizes))
    if steps != 1_500:
        made_by += f" --steps {steps}"
    result = {
        "made_by": made_by,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, 1 thread",
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "seconds": round(time.perf_counter() - start),
        "steps": steps, "batch_size": 50,
        "test_accuracy": test_accuracy,
    }
    try:
        args.out.write_json(result)  # whole, or not at all
    except (OSError, ValueError) as e:
        sys.exit(str(e))
    print(f"wrote {args.out.path}")


if __name__ == "__main__":
    main()
