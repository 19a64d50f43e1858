"""Scaling laws on the book's GPT: loss against parameters, data and compute.

Chapter "Scaling up" (``book/scaling/01_scaling_up.ipynb``) reads the results
of one sweep and re-trains one small point live. The sweep trains the book's
character-level GPT on tiny Shakespeare with **one recipe** (the book's
AdamW recipe, with a constant learning rate after warm-up) and varies one
thing at a time:

- **size**: seven models from about 3 thousand to 0.8 million parameters
  (not counting the embeddings, as Kaplan et al. 2020 count them), each
  trained for at least 2,000 steps (the small ones longer, :data:`SIZE_ITERS`,
  so that they reach the compute of the large ones). With a constant
  learning rate the model after k steps *is* the model a k-step run would
  give, so every evaluation along a run is a point (N, D = tokens seen, loss);
- **data**: one model trained for 2,000 steps on the first D
  characters of the training text, for four values of D; small D are
  repeated many times over and the model overfits, so the best validation
  loss along the run is kept (early stopping, as Kaplan et al. do);
- **seeds**: the smallest model again with other seeds, to measure how far
  one run lands from another.

Run it (about 40 minutes of training in all: 21 minutes with ``--jobs 2`` on
a 2-core AMD EPYC that was also busy with other work; ``--jobs 12`` runs
twelve at a time on a larger machine)::

    python -m textbook_utils.runs.scaling_laws --jobs 2 --out book/scaling/scaling_laws.json --overwrite

(``--overwrite`` replaces the committed file; ``--out`` is checked before the
twenty minutes start, and written whole at the end.)

``--quick`` runs a few-second version of the same sweep (for the tests).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

from textbook_utils.tools import cli
from textbook_utils.tools.device import cpu_name
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_data import shakespeare_data
from textbook_utils.training.gpt_loop import Recipe, train
from textbook_utils.tools.seeding import seed_everything

__all__ = ["DATA_CHARS", "RECIPE", "SIZES", "fit_power_law", "non_embedding_params", "run_point",
           "sweep", "main"]

#: (n_layer, n_head, d_model): about 2.5 times more parameters from one to the next
SIZES = [(1, 1, 16), (2, 1, 20), (2, 2, 32), (3, 2, 40), (3, 4, 64), (4, 5, 80), (4, 8, 128)]
#: steps of the size sweep: the small models are cheap, so they train longer and their
#: curves reach the compute of the larger ones (a longer run only extends the curve)
SIZE_ITERS = {(1, 1, 16): 8000, (2, 1, 20): 8000, (2, 2, 32): 8000, (3, 2, 40): 4000}
#: training characters for the data sweep (the first D characters of the training text)
DATA_CHARS = [15_625, 62_500, 250_000, 1_000_000]
#: the model of the data sweep (n_layer, n_head, d_model)
DATA_MODEL = (3, 4, 64)

#: one recipe for every run: AdamW at a constant learning rate after warm-up, every
#: parameter at the same rate (a constant rate lets one run's curve stand for many lengths)
RECIPE = dict(iters=2000, batch_size=16, lr=2e-3, min_lr=2e-3, warmup=50, weight_decay=0.1,
              embedding_lr_scale=1.0, grad_clip=1.0, eval_interval=100, eval_blocks=200, seed=0)
BLOCK_SIZE = 64


def non_embedding_params(model: GPT) -> int:
    """Parameters outside the token and position embeddings (Kaplan et al.'s N)."""
    embedding = model.W_E.weight.numel() + model.W_P.weight.numel()
    return sum(p.numel() for p in model.parameters()) - embedding


def run_point(shape, train_ids, val_ids, vocab_size: int, **recipe) -> dict:
    """Train one GPT of ``shape`` = (n_layer, n_head, d_model) with ``RECIPE`` (overridden
    by ``recipe``); return its sizes and the validation loss at every evaluation."""
    cfg = Recipe(**{**RECIPE, **recipe})
    n_layer, n_head, d_model = shape
    seed_everything(cfg.seed)  # the initial weights
    model = GPT(GPTConfig(vocab_size=vocab_size, block_size=BLOCK_SIZE, n_layer=n_layer,
                          n_head=n_head, d_model=d_model))
    history = train(model, train_ids, val_ids, cfg, log=None)
    tokens_per_step = cfg.batch_size * BLOCK_SIZE
    return {"n_layer": n_layer, "n_head": n_head, "d_model": d_model, "iters": cfg.iters,
            "params": sum(p.numel() for p in model.parameters()),
            "non_embedding_params": non_embedding_params(model),
            "seed": cfg.seed, "train_chars": len(train_ids),
            "tokens": [it * tokens_per_step for it in history["iter"]],
            "val_loss": [round(v, 5) for v in history["val_loss"]],
            "seconds": round(history["seconds"][-1], 2), "threads": torch.get_num_threads(),
            "machine": f"{cpu_name()}, {os.cpu_count()} cores", "torch": torch.__version__}


def fit_power_law(x, y) -> tuple[float, float]:
    """Least squares in log-log: ``y ~ (x_c / x) ** alpha``; returns ``(alpha, x_c)``."""
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    alpha = -slope
    return float(alpha), float(np.exp(intercept / alpha))


@functools.cache
def _data():
    """Tiny Shakespeare, read and encoded once per worker process (the runs only slice it)."""
    return shakespeare_data()


def _run(job) -> tuple[str, dict]:
    """One run of the sweep, in a worker process: ``job`` = (kind, shape, train_chars, recipe, threads)."""
    kind, shape, train_chars, recipe, threads = job
    torch.set_num_threads(threads)
    tok, train_ids, val_ids = _data()
    return kind, run_point(shape, train_ids[:train_chars], val_ids, tok.vocab_size, **recipe)


def sweep(*, quick: bool = False, jobs: int = 1, threads: int = 1, log=print) -> dict:
    """Every run of the sweep (see the module docstring), ``jobs`` at a time on ``threads``
    threads each; ``quick`` shrinks it to seconds."""
    tok, train_ids, _ = shakespeare_data()
    recipe = dict(iters=20, warmup=5, eval_interval=10, eval_blocks=20) if quick else {}
    sizes = SIZES[:2] if quick else SIZES
    chars = [2_000, 8_000] if quick else DATA_CHARS
    data_model = SIZES[0] if quick else DATA_MODEL
    seeds = [1] if quick else [1, 2, 3]
    everything = len(train_ids)
    long = {} if quick else SIZE_ITERS
    work = ([("sizes", shape, everything, {**recipe, "iters": long.get(shape, recipe.get("iters", RECIPE["iters"]))}, threads)
             for shape in sizes]
            + [("data", data_model, n, recipe, threads) for n in chars]
            + [("seeds", sizes[0], everything, {**recipe, "seed": seed}, threads) for seed in seeds])
    work.sort(key=lambda job: -job[1][0] * job[1][2] ** 2 * job[3].get("iters", 2000))  # longest first
    out = {"recipe": {**RECIPE, **recipe, "block_size": BLOCK_SIZE}, "vocab_size": tok.vocab_size,
           "sizes": [], "data": [], "seeds": []}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for kind, result in pool.map(_run, work):
            out[kind].append(result)
            log(f"{kind:5s} N={result['non_embedding_params']:>7,}  D={result['train_chars']:>9,} chars  "
                f"seed {result['seed']}  best val {min(result['val_loss']):.3f}  "
                f"{result['seconds']:6.1f} s", flush=True)
    out["sizes"].sort(key=lambda r: r["non_embedding_params"])
    out["data"].sort(key=lambda r: r["train_chars"])
    out["seeds"].sort(key=lambda r: r["seed"])
    out["seconds_total"] = round(time.perf_counter() - t0, 1)
    out["jobs"], out["date"] = jobs, time.strftime("%Y-%m-%d")
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m textbook_utils.runs.scaling_laws",
                                     description="Train the book's GPT at several sizes and amounts of "
                                                 "data with one recipe; write the losses as JSON.")
    cli.add_output(parser)
    parser.add_argument("--quick", action="store_true", help="a few-second version (for tests)")
    parser.add_argument("--jobs", type=cli.threads, default=1,
                        help="runs at a time, in separate processes (at most the machine's cores)")
    parser.add_argument("--threads", type=cli.threads, default=1,
                        help="CPU threads per run (default: 1; at most the machine's cores)")
    args = cli.parse(parser, argv)  # every value, and --out, checked before any work
    try:
        results = sweep(quick=args.quick, jobs=args.jobs, threads=args.threads)
    except FloatingPointError as e:
        sys.exit(f"a run diverged: {e}; nothing written")
    results["command"] = cli.command_line("textbook_utils.runs.scaling_laws", argv)
    args.out.save_result(results)
    print(f"{results['seconds_total']:.0f} s in all; wrote {args.out.path}")
    return results


if __name__ == "__main__":
    main()
