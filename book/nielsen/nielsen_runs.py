"""Nielsen's chapter-1 training runs at full length, as a JSON file.

The chapter ``book/nielsen/02_learning_to_recognise_digits.ipynb`` trains
fewer or shorter runs live; this script repeats Nielsen's experiments at
his full length, for a reader who wants his numbers. Every run uses
``textbook_utils.scratch.Network`` on Nielsen's split (the first 50,000 MNIST training images; accuracy on the 10,000 test images,
and on the last 10,000 training images as validation), mini-batches of 10:

- 784-30-10, eta = 3.0, 30 epochs, with Nielsen's N(0, 1) initial weights,
  for three seeds (he reports the best of three runs);
- 784-100-10, eta = 3.0, 30 epochs, with the package's N(0, 1/784) weights;
- 784-30-10 with eta = 0.001 and eta = 100, 30 epochs each.

Seed k fixes the initial weights and the mini-batch order (SGD's seed k).
The whole script is long work: the first 784-30-10 run alone took 3.5
minutes on a busy 2-core CPU (the 784-100-10 run takes about twice as
long per epoch), so allow about 25 minutes there:

    .venv/bin/python book/nielsen/nielsen_runs.py \\
        --out book/nielsen/nielsen_runs.json

``--epochs`` and ``--train-size`` shorten the runs (the test suite uses
them).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from textbook_utils.checks import positive_int
from textbook_utils.data import load_mnist
from textbook_utils.scratch import Network


def nielsen_network(sizes, seed):
    """Nielsen's chapter-1 start: every weight and bias from N(0, 1)."""
    net = Network(sizes, seed=seed)  # biases are already N(0, 1)
    rng = np.random.default_rng(seed)
    net.weights = [rng.standard_normal(W.shape) for W in net.weights]
    return net


def run(net, train, validation, test, epochs, eta, seed):
    """Train ``net`` with SGD; its test accuracy per epoch and at the end."""
    start = time.perf_counter()
    history = net.SGD(train, epochs, 10, eta, test_data=test, seed=seed)
    return {
        "sizes": net.sizes, "eta": eta, "seed": seed, "epochs": epochs,
        "test_correct": history["test_correct"],
        "validation_correct": net.evaluate(validation),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="the JSON file to write")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=50_000)
    args = parser.parse_args(argv)
    epochs = positive_int(args.epochs, "--epochs")
    n_train = positive_int(args.train_size, "--train-size")
    if n_train > 50_000:
        parser.error("--train-size is at most 50,000 (the last 10,000 "
                     "training images are the validation set)")
    if not args.out.parent.is_dir():
        parser.error(f"--out: the folder {args.out.parent} does not exist")

    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    train = (X[:n_train], y[:n_train])
    validation, test = (X[50_000:], y[50_000:]), (X_test, y_test)

    def report(name, **kwargs):
        runs[name] = run(train=train, validation=validation, test=test,
                         epochs=epochs, **kwargs)
        print(f"{name}: {runs[name]['test_correct']}", flush=True)

    runs = {}
    for seed in (0, 1, 2):
        report(f"hidden30_seed{seed}", seed=seed, eta=3.0,
               net=nielsen_network([784, 30, 10], seed))
    report("hidden100_seed0", seed=0, eta=3.0,
           net=Network([784, 100, 10], seed=0))
    for name, eta in (("eta0.001", 0.001), ("eta100", 100.0)):
        report(name, seed=1, eta=eta, net=nielsen_network([784, 30, 10], 1))

    made_by = f"python book/nielsen/nielsen_runs.py --out {args.out}"
    if epochs != 30:
        made_by += f" --epochs {epochs}"
    if n_train != 50_000:
        made_by += f" --train-size {n_train}"
    result = {
        "made_by": made_by,
        "machine": f"{platform.machine()}, numpy {np.__version__}",
        "train_size": n_train, "test_size": len(y_test),
        "validation_size": 10_000, "mini_batch_size": 10,
        "runs": runs,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
