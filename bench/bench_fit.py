"""Benchmark: training.fit vs a conventional DataLoader loop, and the time to 96%.

1. One epoch of the 784-16-16-10 sigmoid network on the 60,000 MNIST training
   images, by ``training.fit`` (data resident as two tensors, batches by index
   permutation) and by the textbook ``torch.utils.data.DataLoader`` loop over a
   ``TensorDataset`` of the same tensors (per-example indexing and collation),
   with the same model, optimiser, batch size, thread count and per-step
   function. Prints both times and their ratio.
2. The wall time for ``fit`` to bring the same network to 96% test accuracy,
   with the recipe chapter "Gradient descent" uses (issue 3 target: under 10 s
   on a 2-core CPU).

    .venv/bin/python bench/bench_fit.py [--batch-size 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from textbook_utils.data import load_mnist
from textbook_utils.device import pick_device, seed_everything
from textbook_utils.models import MLP
from textbook_utils.training import fit, loss_function, train_step

# The recipe of chapter "Gradient descent" for the video's network (keep in sync with the chapter).
RECIPE_96 = dict(epochs=30, batch_size=64, lr=1e-2, optimizer="adam", weight_decay=1e-4, schedule="cosine")


def dataloader_epoch(model, X, y, batch_size, lr, device):
    """The conventional loop: DataLoader(TensorDataset) with shuffle=True, same step function."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = loss_function("cross_entropy")
    model.to(device).train()
    for xb, yb in loader:
        train_step(model, opt, loss_fn, xb.to(device), yb.to(device))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for both loops")
    args = parser.parse_args()
    device = pick_device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    X, y = load_mnist("train")
    test = load_mnist("test")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, device {device}, "
          f"{torch.get_num_threads()} thread(s)")
    print(f"784-16-16-10 sigmoid, SGD lr 0.5, batch {args.batch_size}, one epoch of 60,000 images\n")

    seed_everything(0)
    model = MLP([784, 16, 16, 10])
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    start = time.perf_counter()
    dataloader_epoch(model, Xt, yt, args.batch_size, 0.5, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t_loader = time.perf_counter() - start
    print(f"DataLoader loop:  {t_loader:7.2f} s/epoch")

    seed_everything(0)
    model = MLP([784, 16, 16, 10])
    hist = fit(model, (X, y), epochs=1, batch_size=args.batch_size, lr=0.5, device=device,
               progress=False, eval_train=False)
    t_fit = hist["seconds"][0]
    print(f"training.fit:     {t_fit:7.2f} s/epoch   speed-up {t_loader / t_fit:5.1f}x\n")

    seed_everything(0)
    model = MLP([784, 16, 16, 10])
    hist = fit(model, (X, y), test, device=device, progress=False, eval_train=False,
               target_accuracy=0.96, cpu_threads=args.threads, **RECIPE_96)
    reached = hist["test_accuracy"][-1] >= 0.96
    print(f"784-16-16-10 to 96% test accuracy ({RECIPE_96}):")
    print(f"  {'reached' if reached else 'NOT reached'} {hist['test_accuracy'][-1]:.2%} after "
          f"{len(hist['epoch'])} epoch(s), {hist['seconds'][-1]:.1f} s (target: under 10 s)")


if __name__ == "__main__":
    main()
