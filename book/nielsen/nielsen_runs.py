"""Nielsen's chapter-1 training runs at full length, as a JSON file.

The chapter ``book/nielsen/02_learning_to_recognise_digits.ipynb`` trains
one epoch of each run live and reads the full runs from the file this
script writes (``nielsen_runs.json`` beside it). Every run uses
``textbook_utils.lessons.scratch.Network`` on Nielsen's split (the first 50,000
MNIST training images; accuracy on the 10,000 test images after every
epoch, and on the last 10,000 training images as validation at the end),
mini-batches of 10, 30 epochs (``RUNS``, in this order):

- 784-30-10, eta = 3.0, with Nielsen's N(0, 1) initial weights, seed 0
  (the chapter's run);
- 784-100-10, eta = 3.0, with the package's N(0, 1/784) weights, seed 0;
- 784-30-10 with eta = 0.001 and eta = 100, N(0, 1) weights, seed 1;
- 784-30-10, eta = 3.0, seeds 1 and 2 (Nielsen reports the best of three).

``--runs`` with the names of ``WIDTH_INIT_RUNS`` makes the other two
corners of width x initialisation (784-30-10 with N(0, 1/784), 784-100-10
with N(0, 1), the latter for seeds 0, 1 and 2), committed as
``nielsen_width_init.json``:

    .venv/bin/python book/nielsen/nielsen_runs.py \\
        --out book/nielsen/nielsen_width_init.json \\
        --runs hidden30_scaled_seed0 hidden100_normal_seed0 \\
        hidden100_normal_seed1 hidden100_normal_seed2

Seed k fixes the initial weights and the mini-batch order (SGD's seed k).
Each run also records how far each hidden neuron's weights moved. The
whole script is long work: one 784-30-10 run takes about 40 s on a quiet
CPU and over 3 minutes on a busy one, the 784-100-10 run about twice as
long. The file is rewritten after every run, with ``--runs`` in its
``made_by`` naming the runs done so far:

    .venv/bin/python book/nielsen/nielsen_runs.py \\
        --out book/nielsen/nielsen_runs.json

``--epochs``, ``--train-size`` and ``--runs`` shorten the work (the test
suite uses them). An existing ``--out`` is replaced only with
``--overwrite`` (so remaking the committed file needs it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np

from textbook_utils.tools import cli
from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.scratch import Network


# name: (hidden neurons, eta, seed, initial weights): "N(0, 1)" is
# Nielsen's chapter-1 start, "N(0, 1/n)" the package's (his chapter 3)
RUNS = {
    "hidden30_seed0": (30, 3.0, 0, "N(0, 1)"),
    "hidden100_seed0": (100, 3.0, 0, "N(0, 1/n)"),
    "eta0.001": (30, 0.001, 1, "N(0, 1)"),
    "eta100": (30, 100.0, 1, "N(0, 1)"),
    "hidden30_seed1": (30, 3.0, 1, "N(0, 1)"),
    "hidden30_seed2": (30, 3.0, 2, "N(0, 1)"),
}
# the other two corners of width x initialisation, written to their own
# file (nielsen_width_init.json) with --runs: with hidden30_seed0 and
# hidden100_seed0 they separate the effect of width from that of the start
WIDTH_INIT_RUNS = {
    "hidden30_scaled_seed0": (30, 3.0, 0, "N(0, 1/n)"),
    "hidden100_normal_seed0": (100, 3.0, 0, "N(0, 1)"),
    "hidden100_normal_seed1": (100, 3.0, 1, "N(0, 1)"),
    "hidden100_normal_seed2": (100, 3.0, 2, "N(0, 1)"),
}


def nielsen_network(sizes, seed):
    """Nielsen's chapter-1 start: every weight and bias from N(0, 1)."""
    net = Network(sizes, seed=seed)  # biases are already N(0, 1)
    rng = np.random.default_rng(seed)
    net.weights = [rng.standard_normal(W.shape) for W in net.weights]
    return net


def run(net, train, validation, test, epochs, eta, seed):
    """Train ``net`` with SGD; its test accuracy per epoch and at the end."""
    start = time.perf_counter()
    W1_start = net.weights[0].copy()
    history = net.SGD(train, epochs, 10, eta, test_data=test, seed=seed)
    # how far each hidden neuron's incoming weights moved: (n_hidden,)
    moved = np.linalg.norm(net.weights[0] - W1_start, axis=1)
    return {
        "sizes": net.sizes, "eta": eta, "seed": seed, "epochs": epochs,
        "test_correct": history["test_correct"],
        "validation_correct": net.evaluate(validation),
        "hidden_moved": [round(float(m), 3) for m in moved],
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_output(parser)
    parser.add_argument("--epochs", type=cli.count, default=30)
    parser.add_argument("--train-size", type=cli.count, default=50_000)
    parser.add_argument("--runs", nargs="+",
                        choices=list(RUNS) + list(WIDTH_INIT_RUNS),
                        default=list(RUNS), help="which runs (default: all)")
    args = cli.parse(parser, argv)  # --out checked before any work
    epochs, n_train = args.epochs, args.train_size
    if n_train > 50_000:
        parser.error("--train-size is at most 50,000 (the last 10,000 "
                     "training images are the validation set)")

    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    # float64 copies of the rows used only: the first n_train and the last 10,000
    train = (X[:n_train].astype(np.float64), y[:n_train])
    validation = (X[50_000:].astype(np.float64), y[50_000:])
    test = (X_test.astype(np.float64), y_test)

    runs, start = {}, time.perf_counter()
    for name in args.runs:
        size, eta, seed, init = {**RUNS, **WIDTH_INIT_RUNS}[name]
        net = (nielsen_network([784, size, 10], seed) if init == "N(0, 1)"
               else Network([784, size, 10], seed=seed))
        try:
            runs[name] = run(net, train, validation, test, epochs, eta, seed)
        except FloatingPointError as e:
            sys.exit(f"{name} diverged: {e}; not written")
        runs[name]["init"] = init
        print(f"{name}: {runs[name]['test_correct']}", flush=True)
        try:
            write(args, runs, start, epochs, n_train, len(y_test))
        except (OSError, ValueError) as e:
            sys.exit(str(e))
    print(f"wrote {args.out.path}")


def write(args, runs, start, epochs, n_train, n_test):
    """Write the runs done so far, with the command that makes them
    (whole, or not at all: :mod:`textbook_utils.tools.safe_write`)."""
    made_by = f"python book/nielsen/nielsen_runs.py --out {args.out.path}"
    if epochs != 30:
        made_by += f" --epochs {epochs}"
    if n_train != 50_000:
        made_by += f" --train-size {n_train}"
    if list(runs) != list(RUNS):
        made_by += " --runs " + " ".join(runs)
    result = {
        "made_by": made_by,
        "machine": (f"{platform.machine()}, {os.cpu_count()} CPUs, "
                    f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"),
        "python": platform.python_version(), "numpy": np.__version__,
        "date": datetime.date.today().isoformat(),
        "seconds": round(time.perf_counter() - start),
        "train_size": n_train, "test_size": n_test,
        "validation_size": 10_000, "mini_batch_size": 10,
        "runs": runs,
    }
    args.out.write_json(result)  # after the first run, replaces its own file


if __name__ == "__main__":
    main()
