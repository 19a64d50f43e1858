"""Speed and memory of the book's GPT: written-out attention vs the fused kernel.

The 4-layer / 4-head / 128-wide / block-64 / batch-12 setting of chapter
"GPT: what a transformer does". Both attention paths are timed in this one
process, interleaved, on the same batches; the script prints the ratio.

    .venv/bin/python bench/bench_gpt.py                 # ms/iteration, tokens/s, memory
    .venv/bin/python bench/bench_gpt.py --to-target     # also: wall time to val loss 1.88

Reference to compare with (measured on the book's 2-core machine): a well-known
public implementation, nanoGPT, takes about 30 ms per iteration and 66 s to
reach validation loss 1.886 in 2,000 iterations at this setting.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import torch

from textbook_utils.device import pick_device
from textbook_utils.seeding import seed_everything
from textbook_utils.gpt import (GPT, GPTConfig, TrainConfig, get_batch, lr_at, make_optimizer,
                                shakespeare_data, train, train_step)


def step_memory(model, optimizer, x, y) -> dict:
    """Bytes held during one training step: parameters, gradients, AdamW's two
    moments, and every tensor autograd saves for the backward pass (the
    activations), counted as they are saved."""
    saved = {}

    def pack(t):
        saved[(t.data_ptr(), t.dtype, tuple(t.shape))] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _, loss = model(x, y)
    loss.backward()
    optimizer.step()
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    return {"parameters": param_bytes, "gradients": param_bytes, "adam_moments": 2 * param_bytes,
            "activations": sum(saved.values())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=60, help="timed iterations per path")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--to-target", action="store_true", help="also time training to val loss 1.88")
    args = parser.parse_args()
    device = pick_device(args.device)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), device {device}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")

    tok, train_ids, val_ids = shakespeare_data()
    cfg = TrainConfig()
    models, optims = {}, {}
    for fused in (False, True):
        seed_everything(0)
        models[fused] = GPT(GPTConfig(vocab_size=tok.vocab_size, fused=fused), tok).to(device)
        optims[fused] = make_optimizer(models[fused], cfg)
    n_params = sum(p.numel() for p in models[True].parameters())
    print(f"parameters: {n_params:,}; tokens per iteration: {cfg.batch_size * 64}")

    generator = torch.Generator().manual_seed(0)
    times = {False: [], True: []}
    for i in range(args.iters + 5):
        x, y = get_batch(train_ids, 64, cfg.batch_size, generator)
        x, y = x.to(device), y.to(device)
        for fused in ((False, True) if i % 2 else (True, False)):  # interleave, alternate order
            t0 = time.perf_counter()
            train_step(models[fused], optims[fused], x, y, lr=lr_at(i, cfg))
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= 5:  # warm-up excluded
                times[fused].append(time.perf_counter() - t0)
    ms = {}
    for fused, name in ((False, "written-out attention"), (True, "fused SDPA")):
        ms[fused] = 1000 * sorted(times[fused])[len(times[fused]) // 2]  # median
        print(f"{name:>22}: {ms[fused]:6.1f} ms/iteration (median of {len(times[fused])}), "
              f"{cfg.batch_size * 64 / ms[fused] * 1000:,.0f} tokens/s")
    print(f"ratio written-out / fused: {ms[False] / ms[True]:.2f}x")

    x, y = get_batch(train_ids, 64, cfg.batch_size, generator)
    for fused, name in ((False, "written-out attention"), (True, "fused SDPA")):
        mem = step_memory(models[fused], optims[fused], x.to(device), y.to(device))
        total = sum(mem.values())
        print(f"{name:>22}: training-step memory {total / 2**20:.2f} MiB = "
              + ", ".join(f"{k} {v / 2**20:.2f}" for k, v in mem.items()))
    print(f"peak resident memory of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    if args.to_target:
        seed_everything(TrainConfig.seed)
        model = GPT(GPTConfig(vocab_size=tok.vocab_size), tok)
        history = train(model, train_ids, val_ids, TrainConfig(eval_interval=100), device=device,
                        target_loss=1.88)
        reached = history["val_loss"][-1] <= 1.88
        print(f"to val loss 1.88: {'reached' if reached else 'NOT reached'} at iteration "
              f"{history['iter'][-1]}, val {history['val_loss'][-1]:.4f}, "
              f"{history['seconds'][-1]:.1f} s of training (evaluations excluded)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
