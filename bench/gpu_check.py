"""GPU check: one short script for a CUDA machine (chapter "Scaling up").

On a machine with an NVIDIA GPU it

1. runs the device-dependent tests (device choice, ``fit``, the GPT, the
   distributed tests) with pytest;
2. times ``training.fit`` bringing the 784-16-16-10 network to 96% MNIST test
   accuracy with the recipe of chapter "Gradient descent"
   (:func:`textbook_utils.runs.video_net.train_video_net`);
3. measures GPT training throughput, tokens per second, for the book's CPU
   configuration (4 layers, 4 heads, 128 wide, block 64, batch 12) and for a
   6-layer / 6-head / 384-wide / block-256 configuration (batch 64), each in
   float32 and in bfloat16 autocast, with and without ``torch.compile``;

and prints every figure with the date and the GPU's name, ready to paste into
the chapter. On a machine without CUDA it says so and exits 0 (nothing to
measure; the CPU figures are in the chapter and in ``bench/bench_fit.py`` /
``bench/bench_gpt.py``).

    .venv/bin/python bench/gpu_check.py              # everything (a few minutes)
    .venv/bin/python bench/gpu_check.py --no-tests   # only the measurements
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DEVICE_TESTS = ["tests/test_device.py", "tests/test_models_training.py", "tests/test_gpt.py",
                "tests/test_gpt_training.py", "tests/test_distributed.py"]
GPT_CONFIGS = {  # name: (model shape, global batch)
    "book CPU config 4L/4H/128/block 64": (dict(n_layer=4, n_head=4, d_model=128, block_size=64), 12),
    "6L/6H/384/block 256": (dict(n_layer=6, n_head=6, d_model=384, block_size=256), 64),
}


def run_tests() -> int:
    """The device-dependent tests, in a subprocess; returns pytest's exit code."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *DEVICE_TESTS]
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO).returncode


def mnist_time_to_96(device) -> tuple[float, float, int]:
    """(seconds, final test accuracy, epochs) for the chapter's recipe to reach 96% (seed 0)."""
    from textbook_utils.tools.data import load_mnist
    from textbook_utils.runs.video_net import train_video_net

    _, _, h = train_video_net(load_mnist("train"), load_mnist("test"), device=device,
                              eval_train=False, target_accuracy=0.96)
    return h["seconds"][-1], h["test_accuracy"][-1], len(h["epoch"])


def gpt_tokens_per_second(device, shape: dict, batch: int, *, bf16: bool, compiled: bool,
                          iters: int = 30, warmup: int = 10) -> float:
    """Training tokens per second (median step time) of the GPT at ``shape``."""
    import contextlib

    from textbook_utils.lessons.gpt import GPT, GPTConfig
    from textbook_utils.training.gpt_data import get_batch, shakespeare_data
    from textbook_utils.training.gpt_loop import (Recipe, make_adamw,
                                                  step_on_batch)
    from textbook_utils.tools.seeding import seed_everything

    tok, train_ids, _ = shakespeare_data()
    seed_everything(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, **shape), tok).to(device)
    opt = make_adamw(model, Recipe())
    step_model = torch.compile(model) if compiled else model
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    generator = torch.Generator().manual_seed(0)
    times = []
    for i in range(warmup + iters):  # the first steps include compilation: not timed
        x, y = get_batch(train_ids, shape["block_size"], batch, generator)
        x, y = x.to(device), y.to(device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with amp:
            step_on_batch(step_model, opt, x, y, lr=1e-3)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return batch * shape["block_size"] / sorted(times)[len(times) // 2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="On a CUDA machine: the device tests, MNIST time to 96%, "
                                                 "GPT tokens/s (fp32 vs bf16, with and without torch.compile).")
    parser.add_argument("--no-tests", action="store_true", help="skip the pytest run")
    parser.add_argument("--iters", type=int, default=30, help="timed GPT steps per setting (default: 30)")
    parser.add_argument("--cpu", action="store_true",
                        help="run the measurements on the CPU anyway (slow; to check the script itself)")
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error("--iters must be positive")
    if not torch.cuda.is_available() and not args.cpu:
        print("no CUDA device present (torch.cuda.is_available() is False): nothing to measure here. "
              "Run this script on a machine with an NVIDIA GPU; the CPU figures are in chapter "
              "'Scaling up' and in bench/bench_fit.py and bench/bench_gpt.py.")
        return 0
    device = torch.device("cpu" if args.cpu else "cuda")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "CPU"
    print(f"{datetime.date.today().isoformat()}  device: {name}  torch {torch.__version__}", flush=True)
    failed = 0
    if not args.no_tests:
        failed = run_tests()
        print(f"device tests: {'passed' if failed == 0 else f'FAILED (pytest exit code {failed})'}", flush=True)

    seconds, acc, epochs = mnist_time_to_96(device)
    print(f"MNIST 784-16-16-10 to 96% test accuracy: {seconds:.1f} s "
          f"({epochs} epoch(s), final {acc:.4f}{'' if acc >= 0.96 else ', NOT reached'})", flush=True)

    for label, (shape, batch) in GPT_CONFIGS.items():
        for compiled in ((False, True) if device.type == "cuda" else (False,)):  # compile needs a C compiler on CPUs
            for bf16 in (False, True):
                if bf16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
                    continue
                tps = gpt_tokens_per_second(device, shape, batch, bf16=bf16, compiled=compiled,
                                            iters=args.iters)
                print(f"GPT {label}, batch {batch}: {'bf16' if bf16 else 'fp32'}"
                      f"{' + torch.compile' if compiled else ''}: {tps:,.0f} tokens/s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
