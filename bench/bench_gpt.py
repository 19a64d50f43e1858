"""The book's GPT recipes against each other and against nanoGPT's CPU recipe, in one process.

By default, the live table: what chapter 5's live run reaches in 15 seconds
of training (``--budget``). The live recipe (``gpt_training.LIVE``: Muon for
the hidden matrices, AdamW for embeddings and gains, a warm-up of 20 steps
then a straight line to ~0, on ``LIVE_SHAPE``, 3 layers / 4 heads / 64 wide)
and the book's recipe (``Recipe()`` on the book's model) each get the number
of steps that fits in the budget at the cost of a step timed over 30
interleaved steps, and train afresh with their schedules fitted to it, their
steps interleaved; then the validation loss on 300 held-out windows, for 3
seeds (``--seeds``), and whether the chapter's fixed 600 steps fit in the
budget on this machine (about 3 minutes on a quiet 2-core machine)::

    .venv/bin/python bench/bench_gpt.py --threads 2

How the live recipe was found (one thread on a heavily shared 2-core
machine, so by steps, not seconds; validation loss on 300 windows, seed 0):
on the book's model with the rate falling in a straight line from step 20,
AdamW at peak 5e-3 for 400 steps gave 2.194 (peak 1e-2: 2.480); Muon for
the hidden matrices, 1.968 (Muon lr 0.02) and 1.987 (0.05). But a Muon step
costs about 1.5-1.9x an AdamW step on this model (five Newton-Schulz steps per
matrix), so at equal time: 256 steps, 2.075; a batch of 24 for 175 steps,
2.081; three Newton-Schulz steps for 300 steps, 2.075. Smaller models with
Muon: 4 layers 96 wide, 500 steps, 1.909; 4 layers 64 wide, 900 steps,
1.823; 3 layers 64 wide, 1,000 steps, 1.816, and its steps are several
times cheaper (chapter "Scaling up" reads the smaller size off its
IsoFLOP profiles).

With ``--target``, the long comparison. The first two recipes train the book's model (4 layers, 4 heads, 128 wide, context 64,
the corpus's 65 characters: 804,096 parameters) on the book's data with the
body of :func:`textbook_utils.training.gpt_loop.train` (``get_batch``, ``lr_at``,
``step_on_batch``). Their steps are interleaved — one step of one, one of the
other, alternating which goes first — so that other work on a shared machine
slows both alike. Each is evaluated every ``--eval-interval`` steps on the
same 300 held-out windows ``train`` uses; evaluation time is not counted.

- baseline: nanoGPT's CPU recipe from its README (lr 1e-3, warm-up 100,
  cosine to 1e-4 at step 2,000, AdamW betas (0.9, 0.99), weight decay 0.1,
  gradient clipping at 1, batch 12, no dropout);
- book: ``gpt_training.Recipe()``, the book's recipe: peak lr 5e-3 after a
  warm-up of 50, held, then a straight line down to 5e-5 over the last 30%
  of 1,000 steps (a trapezoid); the embeddings W_E and W_P at 3x the rate;
  AdamW in one fused kernel; the rest as the baseline. The committed
  checkpoint is this recipe run for 2,000 steps.

How the recipe was found (seeds 1337 and 7, one thread, validation loss
after 1,000 steps on the 300 windows; the old recipe's cosine from 5e-3 to
5e-4 gave 1.913 and 1.958): decaying to 1e-5 instead, 1.928 (seed 1337 only); a peak of
1e-2, 1.913; beta2 0.95, 1.927; no weight decay, 1.933; batch 8 for the
same windows, 1.910 (and slower); zero-initialised output projections,
1.923; the embeddings at 3x the rate, 1.890 / 1.939 (6x and 12x: 1.911,
1.903); with that, the trapezoid, 1.877 / 1.904 (cooling over the last 50%:
1.882 / 1.901; at a peak of 7e-3: 1.884 / 1.903); a batch of 6 for the
first 300 steps, 1.951 / 1.978.

It prints, for each, the median milliseconds per step (over the steps all
runs took side by side: a run that stops early is not timed while the
machine was busier or quieter than for the others) and the step and
training time at which the validation loss first reaches 1.88; then the
ratios book / baseline: of the ms per step, and of the time to 1.88, both
as steps x ms per step side by side (the headline) and as clocked. When the
baseline never reaches 1.88 its ratios are upper bounds ("below")::

    .venv/bin/python bench/bench_gpt.py --target              # one comparison (minutes)
    .venv/bin/python bench/bench_gpt.py --target --repeats 3  # three, with other seeds
    .venv/bin/python bench/bench_gpt.py --steps-only          # ms per step only (seconds)
    .venv/bin/python bench/bench_gpt.py --target --json bench/gpt_recipes.json  # save curves

A third run joins them: the live recipe run for 1,000 steps on its smaller
model ("live model, Muon, 1,000 steps"), with its time to 1.88 against the
baseline's (``time_ratio_live``) and nanoGPT's code's.

With ``--nanogpt DIR`` (a checkout of https://github.com/karpathy/nanoGPT)
a third run joins them: nanoGPT's own model code (``DIR/model.py``,
imported as it is, never copied) with its own optimiser set-up
(``configure_optimizers``) and its CPU recipe. Its steps are the same
five lines as the others' (forward, backward, clip, AdamW step, zero the
gradients), so the ms-per-step ratio, book / nanoGPT, compares the two
models' code::

    .venv/bin/python bench/bench_gpt.py --target --nanogpt ~/src/nanoGPT

``bench/gpt_recipes.json``, made by the last command, holds one comparison's
validation curves, steps and times with the machine they came from.

Measured, before the live recipe joined, with ``--threads 1 --repeats 2 --nanogpt DIR`` (nanoGPT at commit
3adf61e) on a 2-core AMD EPYC (Zen 3) virtual machine, torch 2.13.0, with
other work on the second core now and then (``bench/gpt_recipes.json``):

- ms per step, the book's code / nanoGPT's code, same recipe: 0.97 and
  0.97 (the fused AdamW step: 1.6 ms against 4.4 for the default);
  the book's recipe / nanoGPT's on the book's model: 0.98 and 1.00.
- seed 1337: the book's recipe reached 1.876 at step 1,000 (94.7 s); neither
  nanoGPT's recipe on the book's model (1.883) nor nanoGPT's own code
  (1.889) reached 1.88 in their 2,000 steps. Time to 1.88, book / baseline:
  below 0.49 side by side (below 0.50 as clocked); book / nanoGPT's code:
  below 0.48 (0.49).
- seed 1338: no run reached 1.88. The book's 1,000 steps ended at 1.886,
  lower than nanoGPT's recipe after 2,000 (1.891, and 1.897 with its own
  code): the same loss in at most half the steps and half the time.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import io
import json
import os
import platform
import statistics
import time

import torch
from torch import nn

from textbook_utils.tools import cli
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_data import estimate_loss, get_batch, shakespeare_data
from textbook_utils.training.gpt_loop import (LIVE, LIVE_SHAPE, Recipe, lr_at,
                                         make_optimizer, step_on_batch)

TARGET = 1.88
NANOGPT_CPU = Recipe(iters=2000, batch_size=12, lr=1e-3, min_lr=1e-4, warmup=100, beta2=0.99,
                     weight_decay=0.1, grad_clip=1.0, schedule="cosine", embedding_lr_scale=1.0)


BUDGET = 15.0  # seconds of training for the live table


def interleave(runs, train_ids):
    """Step every run to its recipe's last step, one step of each in turn
    (who goes first alternates), so that a busy machine slows all alike."""
    k = 0
    while any(r.it < r.recipe.iters for r in runs):
        for r in runs[k % len(runs):] + runs[:k % len(runs)]:
            if r.it < r.recipe.iters:
                r.step(train_ids)
        k += 1


def live_table(tok, train_ids, val_ids, seeds, budget=BUDGET, calibrate=30):
    """The validation loss after ``budget`` seconds of training: the live
    recipe (``gpt_training.LIVE`` on ``LIVE_SHAPE``: Muon, linear decay) and
    the book's recipe (``Recipe()`` on the book's model), each with its
    schedule fitted to the budget. First ``calibrate`` steps of each,
    interleaved, time a step; each then trains afresh for as many steps as
    fit in the budget at that cost, interleaved again. One row per seed and
    recipe."""
    recipes = {"live (Muon)": (LIVE, LIVE_SHAPE), "book (Recipe())": (Recipe(), {})}
    rows = []
    for seed in seeds:
        trial = [Run(name, Recipe(**{**vars(r), "iters": calibrate}),
                     functools.partial(book_model, shape=shape), tok, seed)
                 for name, (r, shape) in recipes.items()]
        interleave(trial, train_ids)
        ms = [statistics.median(t.step_times[2:]) for t in trial]
        runs = [Run(name, Recipe(**{**vars(r), "iters": max(1, int(budget / m))}),
                    functools.partial(book_model, shape=shape), tok, seed)
                for (name, (r, shape)), m in zip(recipes.items(), ms)]
        interleave(runs, train_ids)
        for name, r in zip(recipes, runs):
            val = estimate_loss(r.model, val_ids, max_blocks=300)
            row = {"seed": seed, "recipe": name, "steps": r.it, "seconds": r.seconds,
                   "ms_per_step": 1000 * statistics.median(r.step_times[2:]), "val": val}
            rows.append(row)
            print(f"  seed {seed}  {name:16s} {r.it:5d} steps, {row['seconds']:5.1f} s of "
                  f"training ({row['ms_per_step']:5.1f} ms per step)   val {val:.3f}", flush=True)
    n = len(seeds)
    print(f"validation loss after {budget:g} s of training (median of {n} seed"
          + ("s):" if n > 1 else "):"))
    for name in recipes:
        mine = [r for r in rows if r["recipe"] == name]
        print(f"  {name:16s} {statistics.median(r['val'] for r in mine):.3f}   (seeds: "
              + ", ".join(f"{r['val']:.3f}" for r in mine)
              + f"; {statistics.median(r['steps'] for r in mine):.0f} steps)")
    ms = statistics.median(r["ms_per_step"] for r in rows if r["recipe"] == "live (Muon)")
    seconds = LIVE.iters * ms / 1000
    print(f"  the chapter's live run, {LIVE.iters} steps at the median {ms:.1f} ms per step: "
          f"{seconds:.1f} s, " + ("within" if seconds <= budget else "NOT within")
          + f" {budget:g} s on this machine")
    return rows


def book_model(tok, shape=None):
    """The book's GPT (or one of ``shape``) and its optimiser (``make_optimizer``:
    AdamW, or Muon and AdamW)."""
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, **(shape or {})), tok)
    return model, lambda recipe: make_optimizer(model, recipe)


def live_model(tok):
    """The live run's smaller GPT (``LIVE_SHAPE``)."""
    return book_model(tok, LIVE_SHAPE)


# the live recipe, run longer: 1,000 steps on the live run's model
LIVE_LONG = Recipe(**{**vars(LIVE), "iters": 1000})


class NanoGPT(nn.Module):
    """nanoGPT's own model, from its model.py, at the book's size; it answers
    the two attributes ``estimate_loss`` reads (cfg.block_size, W_E)."""

    def __init__(self, model_py, vocab_size):
        super().__init__()
        spec = importlib.util.spec_from_file_location("nanogpt_model", model_py)
        nano = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(nano)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its size
            self.inner = nano.GPT(nano.GPTConfig(block_size=64, vocab_size=vocab_size, n_layer=4,
                                                 n_head=4, n_embd=128, dropout=0.0, bias=False))
        self.cfg = GPTConfig(vocab_size=vocab_size)
        self.W_E = self.inner.transformer.wte

    def forward(self, idx, targets=None):
        # its loss views the targets, so they must be contiguous (nanoGPT's
        # own get_batch stacks them); the book's windows are slices
        if targets is None:
            # Without targets nanoGPT returns the last position's logits
            # only; the training step (train_step's loss of model(x)) needs
            # all of them, which it returns when given targets: any will do
            # (the extra cross-entropy on (B*T, 65) is ~0.1% of a step).
            logits, _ = self.inner(idx, idx.contiguous())
            return logits, None
        return self.inner(idx, targets.contiguous())

    def optimizer(self, recipe):
        """nanoGPT's configure_optimizers: decay on the matrices, not on gains."""
        with contextlib.redirect_stdout(io.StringIO()):
            return self.inner.configure_optimizers(recipe.weight_decay, recipe.lr,
                                                   (0.9, recipe.beta2), "cpu")


def nanogpt_model(model_py):
    def build(tok):
        model = NanoGPT(model_py, tok.vocab_size)
        return model, model.optimizer
    return build


class Run:
    """One recipe training one model, a step at a time, timing only its steps."""

    def __init__(self, name, recipe, build, tok, seed):
        self.name, self.recipe = name, recipe
        torch.manual_seed(seed)
        self.model, make_optimizer = build(tok)
        self.optimizer = make_optimizer(recipe)
        self.batches = torch.Generator().manual_seed(seed)
        self.it, self.seconds, self.step_times = 0, 0.0, []
        self.reached = None  # (step, seconds, val) at the first val <= TARGET
        self.val = []

    @property
    def done(self):
        return self.reached is not None or self.it >= self.recipe.iters

    def step(self, train_ids):
        t0 = time.perf_counter()
        x, y = get_batch(train_ids, self.model.cfg.block_size, self.recipe.batch_size,
                         self.batches)
        step_on_batch(self.model, self.optimizer, x, y, lr=lr_at(self.it, self.recipe),
                      grad_clip=self.recipe.grad_clip)
        dt = time.perf_counter() - t0
        self.it += 1
        self.seconds += dt
        self.step_times.append(dt)

    def evaluate(self, val_ids, every):
        if self.it % every and self.it < self.recipe.iters:
            return
        val = estimate_loss(self.model, val_ids, max_blocks=300)
        self.val.append((self.it, val))
        if val <= TARGET and self.reached is None:
            self.reached = (self.it, self.seconds, val)


def time_ratio(run, base, ms):
    """Training time to TARGET, run / base, two ways: as clocked, and as
    steps x the cost of a step measured side by side (ms). Returns (clocked,
    side_by_side, bound): bound is True when base never got there and both
    ratios are only upper bounds; None if run never got there."""
    if not run.reached:
        return None
    base_steps, base_seconds = base.reached[:2] if base.reached else (base.it, base.seconds)
    clocked = run.reached[1] / base_seconds
    side_by_side = run.reached[0] * ms[run.name] / (base_steps * ms[base.name])
    return clocked, side_by_side, base.reached is None


def compare(tok, train_ids, val_ids, seed, every, steps_only, nanogpt=None):
    runs = [Run("baseline (nanoGPT's CPU recipe)", NANOGPT_CPU, book_model, tok, seed),
            Run("book (Recipe())", Recipe(), book_model, tok, seed),
            Run("live model, Muon, 1,000 steps", LIVE_LONG, live_model, tok, seed)]
    if nanogpt:
        runs.append(Run("nanoGPT's code, its CPU recipe", NANOGPT_CPU, nanogpt_model(nanogpt),
                        tok, seed))
    n = 0
    while not all(r.done for r in runs):
        order = runs[n % len(runs):] + runs[:n % len(runs)]  # who goes first rotates
        for r in order:
            if not r.done:
                r.step(train_ids)
                if not steps_only:
                    r.evaluate(val_ids, every)
        n += 1
        if steps_only and n == 60:
            break
    # the cost of a step, over the steps every run took side by side (a run that
    # stops early must not be timed while the machine was busier or quieter)
    common = min(len(r.step_times) for r in runs)
    ms = {r.name: 1000 * statistics.median(r.step_times[5:common]) for r in runs}
    print(f"seed {seed}: ms per step over the first {common} steps of each run, side by side")
    for r in runs:
        line = f"  {r.name:32s} batch {r.recipe.batch_size:3d}  {ms[r.name]:6.1f} ms per step"
        if not steps_only:
            if r.reached:
                it, sec, val = r.reached
                line += f"; val {val:.3f} <= {TARGET} at step {it:5d} after {sec:6.1f} s of training"
            else:
                line += f"; did NOT reach {TARGET} in {r.it} steps (last val {r.val[-1][1]:.3f})"
        print(line)
    base, book, live = runs[:3]
    result = {"seed": seed, "ms_ratio": ms[book.name] / ms[base.name],
              "runs": {r.name: {"recipe": vars(r.recipe), "ms_per_step": ms[r.name], "val": r.val,
                                "reached": r.reached} for r in runs}}
    print(f"  ms per step, book / baseline: {result['ms_ratio']:.2f}")
    pairs = [("time_ratio", book, base), ("time_ratio_live", live, base)]
    if nanogpt:
        nano = runs[3]
        result["ms_ratio_nanogpt_code"] = ms[base.name] / ms[nano.name]
        print(f"  ms per step, the book's code / nanoGPT's code (same recipe): "
              f"{result['ms_ratio_nanogpt_code']:.2f}")
        pairs += [("time_ratio_nanogpt", book, nano), ("time_ratio_live_nanogpt", live, nano)]
    for key, run, against in pairs if not steps_only else []:
        ratio = time_ratio(run, against, ms)
        if ratio is None:
            print(f"  {run.name} did not reach {TARGET}")
            continue
        clocked, side_by_side, bound = ratio
        below = "below " if bound else ""
        result[key + ("_below" if bound else "")] = side_by_side
        result[key + "_clocked" + ("_below" if bound else "")] = clocked
        steps = run.reached[0] / (against.reached[0] if against.reached else against.it)
        print(f"  time to val <= {TARGET}, {run.name} / {against.name}: {below}{side_by_side:.2f} "
              f"(steps {below}{steps:.2f} x ms per step side by side); as clocked {below}{clocked:.2f}"
              + (f" ({against.name} did not reach it in {against.it} steps)" if bound else ""))
    return result


def machine_info():
    return {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "load_average_at_end": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="store_true",
                        help=f"the long comparison: time to val {TARGET} against nanoGPT's recipe")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help="live table: seconds of training per run")
    parser.add_argument("--seeds", type=cli.count, default=3, help="live table: how many seeds (0, 1, ...)")
    parser.add_argument("--repeats", type=int, default=1, help="comparisons, each with its own seed")
    parser.add_argument("--eval-interval", type=int, default=100, help="steps between evaluations")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    parser.add_argument("--steps-only", action="store_true", help="only ms per step (60 steps each)")
    parser.add_argument("--json", default=None, help="write the results (curves included) to this file")
    parser.add_argument("--nanogpt", default=None, metavar="DIR",
                        help="a nanoGPT checkout: also run its own model.py with its CPU recipe")
    args = parser.parse_args(argv)
    nanogpt = None
    if args.nanogpt:
        nanogpt = os.path.join(os.path.expanduser(args.nanogpt), "model.py")
        if not os.path.isfile(nanogpt):
            parser.error(f"--nanogpt: no model.py in {args.nanogpt!r}; give the folder of a "
                         "nanoGPT checkout (git clone https://github.com/karpathy/nanoGPT)")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} thread"
          f"{'s' if torch.get_num_threads() > 1 else ''}); "
          f"load average at start {os.getloadavg()[0]:.1f}")
    tok, train_ids, val_ids = shakespeare_data()
    if not (args.target or args.steps_only):
        print(f"live recipe: {LIVE_SHAPE}, {LIVE}")
        rows = live_table(tok, train_ids, val_ids, range(args.seeds), args.budget)
        print(f"load average at end {os.getloadavg()[0]:.1f}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": machine_info(), "budget_s": args.budget, "rows": rows}, f,
                          indent=1)
        return rows
    print(f"book recipe: {Recipe()}")
    results = [compare(tok, train_ids, val_ids, 1337 + k, args.eval_interval, args.steps_only,
                       nanogpt)
               for k in range(args.repeats)]
    keys = [k + suffix for k in ("time_ratio", "time_ratio_nanogpt", "time_ratio_live",
                                 "time_ratio_live_nanogpt")
            for suffix in ("", "_below", "_clocked", "_clocked_below")]
    for key in ["ms_ratio", "ms_ratio_nanogpt_code"] + keys:
        values = [r[key] for r in results if key in r]
        if values:
            print(f"{key}: " + ", ".join(f"{v:.2f}" for v in values) +
                  (f"  (median {statistics.median(values):.2f})" if len(values) > 1 else ""))
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(), "target": TARGET, "comparisons": results}, f,
                      indent=1)
    return results


if __name__ == "__main__":
    main()
