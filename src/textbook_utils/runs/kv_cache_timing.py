"""How much faster is generation with a key-value cache? A timing command (chapter 5, "GPT").

For each context window ``n`` it builds a GPT of the book's width and depth
(4 blocks, 4 heads, 128 wide) with an ``n``-token window, and times
``GPT.generate`` against :func:`textbook_utils.lessons.kv_cache.generate_cached`
generating ``n - 1`` tokens greedily from a one-token prompt (the window
exactly full at the last step), checking that both give the same tokens.
The weights are random: only the time of the arithmetic matters here, and
the chapter checks the same tokens on the trained model. Beside each time it
records the ratio of FLOPs that :func:`kv_cache.flops_per_token` predicts.

    python -m textbook_utils.runs.kv_cache_timing --out book/3b1b/results/05_kv_cache.json

takes about two minutes on two cores (three repeats; the median is kept);
run it on a machine nothing else is using.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from textbook_utils.tools import cli
from textbook_utils.tools.device import cpu_name
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.lessons.kv_cache import flops_per_token, generate_cached

__all__ = ["main", "time_window"]


def time_window(n: int, repeats: int = 3, seed: int = 0) -> dict:
    """Median seconds to generate ``n - 1`` tokens with and without the cache,
    for a random GPT with an ``n``-token window; the FLOP ratio; same tokens?"""
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=65, block_size=n)
    model = GPT(cfg).eval()
    prompt = torch.zeros(1, 1, dtype=torch.long)         # (1, 1)
    new = n - 1
    plain, cached, same = [], [], True
    for _ in range(repeats):
        start = time.perf_counter()
        a = model.generate(prompt, new, temperature=0)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        b = generate_cached(model, prompt, new, temperature=0)
        cached.append(time.perf_counter() - start)
        same = same and torch.equal(a, b)
    flops = [sum(flops_per_token(cfg, t, c) for t in range(1, new + 1))
             for c in (False, True)]
    t_plain, t_cached = statistics.median(plain), statistics.median(cached)
    return {"window": n, "new_tokens": new, "seconds_plain": t_plain,
            "seconds_cached": t_cached, "speedup": t_plain / t_cached,
            "flop_ratio": flops[0] / flops[1], "same_tokens": same}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m textbook_utils.runs.kv_cache_timing",
        description="Time GPT generation with and without a key-value cache "
                    "for several context windows; write the medians as JSON.")
    cli.add_output(parser)
    parser.add_argument("--windows", type=cli.count, nargs="+",
                        default=[64, 128, 256, 512, 1024],
                        help="context windows to time (tokens)")
    parser.add_argument("--repeats", type=cli.count, default=3,
                        help="timed runs per window; the median is kept")
    args = cli.parse(parser, argv)  # --out checked before any work
    windows, repeats = args.windows, args.repeats
    if min(windows) < 2:
        parser.error("every window must hold at least 2 tokens")
    t0 = time.perf_counter()
    rows = [time_window(n, repeats) for n in windows]
    results = {
        "command": "python -m textbook_utils.runs.kv_cache_timing "
                   + " ".join(argv if argv is not None else []),
        "rows": rows,
        "seconds_total": round(time.perf_counter() - t0, 1),
        "machine": {"cpu": cpu_name(), "cpu_count": os.cpu_count(),
                    "threads": torch.get_num_threads(),
                    "torch": torch.__version__,
                    "python": platform.python_version(),
                    "date": time.strftime("%Y-%m-%d"),
                    "load_average": round(os.getloadavg()[0], 2)},
    }
    args.out.save_result(results)           # whole, or not at all
    print(f"{results['seconds_total']:.0f} s; wrote {args.out.path}")
    return results


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
