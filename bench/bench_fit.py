"""Benchmark: the video's 784-16-16-10 network to 96% MNIST test accuracy, against a baseline.

Issue target: a median of at most 2 s over five seeds on a quiet 2-core CPU.
Everything is timed in this one process, baseline and candidate alternating
seed by seed, so that a machine shared with other jobs slows both alike and
the printed ratios mean the same on any machine:

1. **The loop.** One epoch of the same network, recipe and batch size, by the
   training loop the book used before (kept below as ``baseline_fit``: the
   epoch's data copied in a new order, a mixed-precision context, a
   distributed branch and a float32 cast on every step) and by today's
   :func:`textbook_utils.training.loop.fit`. Ratio = per-step overhead saved.
2. **Time to 96%.** For each seed: the baseline (the book's earlier recipe,
   ``OLD_RECIPE``, in ``baseline_fit``) and the chapter's recipe
   (:data:`textbook_utils.runs.video_net.BOOK_RECIPE` in ``fit``), each stopping
   after the first epoch whose test accuracy reaches 96%. The clock includes
   standardising the images and building the network. Prints both medians,
   the worst seeds and the ratio.

    .venv/bin/python bench/bench_fit.py [--seeds 0 1 2 3 4] [--threads 1] [--no-baseline]

Measured on an otherwise idle 2-core AMD EPYC (Zen 3) virtual machine, torch
2.13.0, 1 thread: the chapter's recipe reached 96% after 7 epochs for every
seed 0-4, median 3.37 s (worst 3.51 s); the baseline median 12.90 s; ratio
3.83x. This machine runs the baseline about twice as slowly as the quiet
2-core CPU on which the issue measured it (6.2 s); at the same ratio the
chapter's recipe takes about 1.6 s there, under the issue's 2 s. On this
machine itself it does not reach 2 s.

The thread count is set here, once, for every run (PyTorch's default is one
thread per core; networks this small often run as fast on one). Before
anything is timed, one optimiser is built: the first ``torch.optim`` object of
a process imports ``torch._dynamo`` (about a second, once per process).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from textbook_utils.tools.data import load_mnist
from textbook_utils.lessons.mlp import MLP
from textbook_utils.lessons.preprocessing import Standardizer
from textbook_utils.tools.seeding import seed_everything, training_seed
from textbook_utils.training.loop import fit, make_optimizer
from textbook_utils.runs.video_net import (BOOK_RECIPE, VIDEO_NET_SIZES,
                                           train_video_net)

TARGET = 0.96
# The chapter's recipe before this benchmark's target (issue 18): ReLU, standardised inputs,
# Adam with L2 weight decay and a cosine schedule over 16 epochs, in batches of 64.
OLD_RECIPE = dict(epochs=16, batch_size=64, lr=5e-3, weight_decay=1e-3)


def baseline_fit(model, train, test, *, epochs, batch_size, lr, weight_decay, seed=0, target=None):
    """The book's earlier training loop, reduced to what it ran on one CPU process (Adam, cosine).

    Per epoch it copies the whole data set in a new order; per step it checks
    for a distributed wrapper, enters an (empty) autocast context, casts the
    logits to float32 and sets the rate of every parameter group. Returns the
    per-epoch test accuracies and seconds.
    """
    X, y = (torch.as_tensor(np.asarray(v)) for v in train)
    X_test, y_test = (torch.as_tensor(np.asarray(v)) for v in test)
    ddp = model
    opt = make_optimizer("adam", model.parameters(), lr, weight_decay=weight_decay)
    base_lrs = [group["lr"] for group in opt.param_groups]
    generator = torch.Generator().manual_seed(training_seed(seed))
    total = epochs * math.ceil(len(X) / batch_size)
    accs, seconds, steps, start = [], [], 0, time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        X_epoch, y_epoch = X[order], y[order]
        loss_sum = torch.zeros(())
        for k in range(0, len(X), batch_size):
            xb, yb = X_epoch[k:k + batch_size], y_epoch[k:k + batch_size]
            step_loss = lambda z, t: F.cross_entropy(z.float(), t)  # noqa: E731 (as it was)
            if ddp is not model:
                continue
            for group, base in zip(opt.param_groups, base_lrs):
                group["lr"] = base * 0.5 * (1 + math.cos(math.pi * steps / total))
            opt.zero_grad(set_to_none=True)
            with contextlib.nullcontext():
                loss = step_loss(ddp(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
            steps += 1
        with torch.no_grad(), contextlib.nullcontext():
            model.eval()
            accs.append((model(X_test).argmax(dim=1) == y_test).sum().item() / len(X_test))
            model.train()
        seconds.append(time.perf_counter() - start)
        if target is not None and accs[-1] >= target:
            break
    return accs, seconds


def baseline_to_target(train, test, seed):
    """(seconds, epochs, accuracy) for the old recipe in the old loop, stopping at TARGET."""
    start = time.perf_counter()
    standardize = Standardizer(train[0])
    seed_everything(seed)
    model = MLP(VIDEO_NET_SIZES, activation="relu")
    accs, _ = baseline_fit(model, (standardize(train[0]), train[1]), (standardize(test[0]), test[1]),
                           seed=seed, target=TARGET, **OLD_RECIPE)
    return time.perf_counter() - start, len(accs), accs[-1]


def book_to_target(train, test, seed):
    """(seconds, epochs, accuracy) for the chapter's recipe in ``fit``, stopping at TARGET."""
    start = time.perf_counter()
    _, _, h = train_video_net(train, test, BOOK_RECIPE, seed=seed, target_accuracy=TARGET,
                              eval_train=False, device="cpu")
    return time.perf_counter() - start, len(h["epoch"]), h["test_accuracy"][-1]


def one_epoch(train, test, batch_size):
    """Seconds for one epoch of the old loop and of ``fit``: same network, data, batch and optimiser."""
    standardize = Standardizer(train[0])
    data = (standardize(train[0]), train[1]), (standardize(test[0]), test[1])
    seed_everything(0)
    _, seconds = baseline_fit(MLP(VIDEO_NET_SIZES, activation="relu"), *data, epochs=1,
                              batch_size=batch_size, lr=1e-3, weight_decay=0.0)
    seed_everything(0)
    h = fit(MLP(VIDEO_NET_SIZES, activation="relu"), *data, epochs=1, batch_size=batch_size, lr=1e-3,
            optimizer="adam", schedule="cosine", eval_train=False)
    return seconds[0], h["seconds"][0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="seeds for the time to 96%% (default: 0 1 2 3 4)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every run (default: 1)")
    parser.add_argument("--no-baseline", action="store_true", help="time the chapter's recipe only")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    train, test = load_mnist("train"), load_mnist("test")
    torch.optim.SGD(MLP([784, 10]).parameters(), lr=0.1)  # the one-off import of torch._dynamo, untimed
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); load average {os.getloadavg()[0]:.1f} at the start")

    if not args.no_baseline:
        print(f"\n1. one epoch, batch {OLD_RECIPE['batch_size']} and {BOOK_RECIPE.batch_size}: "
              "the old loop against fit")
        for batch_size in (OLD_RECIPE["batch_size"], BOOK_RECIPE.batch_size):
            old, new = one_epoch(train, test, batch_size)
            print(f"   batch {batch_size:4d}: old loop {old:6.2f} s, fit {new:6.2f} s, ratio {old / new:4.2f}x")

    print(f"\n2. time to {TARGET:.0%} test accuracy (standardising, building and training; "
          f"test accuracy after every epoch)")
    print(f"   chapter's recipe: {BOOK_RECIPE!r}")
    if not args.no_baseline:
        print(f"   baseline: the old recipe in the old loop, {OLD_RECIPE}")
    results = {"book": [], "baseline": []}
    for seed in args.seeds:
        runs = [("book", book_to_target)] + ([] if args.no_baseline else [("baseline", baseline_to_target)])
        for name, run in runs:
            seconds, epochs, acc = run(train, test, seed)
            reached = acc >= TARGET
            results[name].append(seconds if reached else math.inf)
            print(f"   seed {seed} {name:8s}: {'reached' if reached else 'NOT reached'} {acc:.2%} "
                  f"after {epochs:2d} epoch(s) in {seconds:6.2f} s", flush=True)
    book = results["book"]
    print(f"   chapter's recipe: median {statistics.median(book):.2f} s, worst {max(book):.2f} s "
          f"over {len(book)} seed(s)")
    if not args.no_baseline:
        base = results["baseline"]
        print(f"   baseline:         median {statistics.median(base):.2f} s, worst {max(base):.2f} s")
        ratio = statistics.median(base) / statistics.median(book)
        print(f"   ratio of the medians, baseline / chapter's recipe: {ratio:.2f}x "
              f"(the issue measured the baseline at 6.2 s on a quiet 2-core CPU: "
              f"{6.2 / ratio:.2f} s there at this ratio)")


if __name__ == "__main__":
    main()
