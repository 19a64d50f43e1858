"""Every rung of the build-up trained by one recipe, over several seeds.

Chapter "Building the transformer, piece by piece"
(``book/3b1b/05b_building_the_transformer.ipynb``) reads the results from
a file this command writes::

    python -m textbook_utils.runs.buildup_runs \\
        --out book/3b1b/results/05b_buildup.json

Each rung of :data:`textbook_utils.lessons.buildup.RUNGS` is trained by the
book's loop (:func:`textbook_utils.training.gpt_loop.train`): the book's recipe
(AdamW, the trapezoid schedule, clipping), shortened to :data:`RECIPE`'s
steps so that eight rungs times three seeds fit in about ten minutes on
a busy two-core CPU (one thread). The file records every run's
validation curve, the machine, the library versions, the date, the
seconds and the command.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import time
from dataclasses import asdict, replace

import torch

from textbook_utils.tools import cli
from textbook_utils.lessons.buildup import RUNGS, build
from textbook_utils.lessons.gpt import GPTConfig
from textbook_utils.training.gpt_data import shakespeare_data
from textbook_utils.training.gpt_doors import check_config
from textbook_utils.training.gpt_loop import Recipe, train
from textbook_utils.tools.seeding import seed_everything, training_seed

__all__ = ["RECIPE", "SEEDS", "main", "run_rung"]

#: the book's recipe, shortened: 300 steps of 12 windows of 64 characters
RECIPE = Recipe(iters=300, eval_interval=50, eval_blocks=150)
SEEDS = (0, 1, 2)
COMMAND = "python -m textbook_utils.runs.buildup_runs"


def run_rung(rung, seed, train_ids, val_ids, *, cfg=None, recipe=RECIPE,
             stop_after=None):
    """Train a fresh model of ``rung`` from ``seed``; return its history
    (steps, training and validation losses, seconds: as ``train``'s) and
    its number of weights. ``stop_after`` stops after the evaluation at
    that step (a multiple of recipe.eval_interval): the first steps of the
    same run, for a live check."""
    cfg = cfg or GPTConfig(vocab_size=65)
    seed_everything(seed)  # the start values (+ $TEXTBOOK_SEED_OFFSET)
    model = build(rung, cfg)
    recipe = replace(recipe, seed=seed)  # the order of the batches, too
    stop = None
    if stop_after is not None:
        if stop_after % recipe.eval_interval or stop_after > recipe.iters:
            raise ValueError(f"stop_after must be a multiple of "
                             f"{recipe.eval_interval} up to {recipe.iters}")
        # evaluations do not touch the batches: evaluating only at
        # stop_after, and stopping there, leaves the steps unchanged
        recipe, stop = replace(recipe, eval_interval=stop_after), math.inf
    history = train(model, train_ids, val_ids, recipe, log=None,
                    target_loss=stop)
    n_weights = sum(p.numel() for p in model.parameters())
    return history, n_weights


def main(argv=None) -> dict:
    """``python -m textbook_utils.runs.buildup_runs --out FILE``: the table."""
    p = argparse.ArgumentParser(
        prog=COMMAND, description="Train every rung of the transformer's "
        "build-up with one recipe and several seeds; write the validation "
        "curves as JSON.")
    cli.add_output(p)
    p.add_argument("--seeds", type=cli.seed, nargs="+", default=list(SEEDS))
    p.add_argument("--iters", type=cli.count, default=RECIPE.iters,
                   help=f"steps per run (default {RECIPE.iters})")
    p.add_argument("--eval-interval", type=cli.count,
                   default=RECIPE.eval_interval)
    p.add_argument("--eval-blocks", type=cli.count, default=RECIPE.eval_blocks,
                   help="held-out windows per evaluation")
    p.add_argument("--rungs", nargs="+", default=list(RUNGS),
                   choices=list(RUNGS), metavar="RUNG",
                   help=f"which rungs (default all: {', '.join(RUNGS)})")
    p.add_argument("--d-model", type=cli.count, default=128)
    p.add_argument("--n-layer", type=cli.count, default=4)
    p.add_argument("--threads", type=cli.threads, default=1,
                   help="CPU threads (default 1: on a busy two-core machine "
                   "two threads were ten times slower)")
    args = cli.parse(p, argv)  # --out checked before any work
    try:  # every other check before any training
        recipe = replace(RECIPE, iters=args.iters,
                         eval_interval=args.eval_interval,
                         eval_blocks=args.eval_blocks)
        cfg = check_config(GPTConfig(vocab_size=65, d_model=args.d_model,
                                     n_layer=args.n_layer))
    except (TypeError, ValueError) as error:
        p.error(str(error))
    torch.set_num_threads(args.threads)
    _, train_ids, val_ids = shakespeare_data()
    t0 = time.perf_counter()
    runs = {}
    for rung in args.rungs:
        runs[rung] = {"seeds": {}}
        for seed in args.seeds:
            try:
                history, n = run_rung(rung, seed, train_ids, val_ids,
                                      cfg=cfg, recipe=recipe)
            except FloatingPointError as error:
                raise SystemExit(f"{rung}, seed {seed} diverged: {error}; "
                                 "nothing written")
            runs[rung]["weights"] = n
            runs[rung]["seeds"][str(seed)] = history
            print(f"{rung:>13}  seed {seed}  val "
                  f"{history['val_loss'][-1]:.3f}  "
                  f"{history['seconds'][-1]:5.1f} s", flush=True)
    command = [*COMMAND.split(), "--out", args.out.path.as_posix()]
    for flag in ("seeds", "iters", "eval_interval", "eval_blocks", "rungs",
                 "d_model", "n_layer", "threads"):
        value = getattr(args, flag)
        if value != p.get_default(flag):
            command += [f"--{flag.replace('_', '-')}",
                        *map(str, value if isinstance(value, list)
                             else [value])]
    record = {
        "command": " ".join(command),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "threads": torch.get_num_threads(),
        "python": platform.python_version(), "torch": torch.__version__,
        "seconds": round(time.perf_counter() - t0, 1),
        "seed_offset": training_seed(0),
        "config": asdict(cfg),
        "recipe": {k: v for k, v in asdict(recipe).items() if k != "seed"},
        "runs": runs,
    }
    args.out.save_result(record)  # whole, or not at all (safe_write)
    return record


if __name__ == "__main__":
    main()
