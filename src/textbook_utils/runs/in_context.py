"""In-context learning in a tiny transformer: repeated random sequences and induction heads.

Chapter "Specialising a model" (``book/questions/04_specialising_a_model.ipynb``)
shows what few-shot prompting rests on. The book's GPT, shrunk to two layers,
is trained on sequences of random tokens that repeat with a random period.
The first period cannot be predicted at all; every later token can, but only
by looking back into the sequence itself: find the previous occurrence of the
current token and copy the token that followed it. Olsson et al. (2022,
arXiv:2209.11895) call the attention head that does this an *induction head*
(it works with a *previous-token head* in the layer below; Elhage et al. 2021).

- :func:`repeating_batch` draws the data;
- :func:`per_token_loss` and :func:`head_scores` measure the model: the loss
  on the first period and on the repeats, and for every head the attention
  it pays to the previous token and to the token after the previous
  occurrence of the current one;
- ``python -m textbook_utils.runs.in_context --out FILE`` trains it and writes the
  measurements along the way. The chapter reads the results of::

      python -m textbook_utils.runs.in_context --steps 2000 --out book/questions/in_context.json --overwrite

  (80 s of CPU time on one thread; 2.5 minutes of wall time on a shared
  2-core machine) and re-trains the first 200 steps live.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F

from textbook_utils.tools import cli
from textbook_utils.tools.checks import positive_int
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_loop import step_on_batch
from textbook_utils.tools.seeding import seed_everything, training_seed

__all__ = ["CONFIG", "head_scores", "main", "per_token_loss", "repeating_batch", "train"]

#: the task and the model: vocabulary, context, periods, and the GPT's shape
CONFIG = dict(vocab_size=32, block_size=32, min_period=4, max_period=10, n_layer=2, n_head=4, d_model=64,
              batch_size=32, lr=3e-3)


def repeating_batch(n: int, generator: torch.Generator, *, vocab_size: int = 32, block_size: int = 32,
                    min_period: int = 4, max_period: int = 10):
    """``n`` sequences of random tokens that repeat with a random period p.

    Returns inputs ``x`` and next-token targets ``y`` (n, T), the periods
    (n,), and a mask (n, T) that is True where copying can predict the
    target: at positions t >= p, whose token occurred p positions earlier.
    """
    p = torch.randint(min_period, max_period + 1, (n, 1), generator=generator)  # (n, 1)
    pattern = torch.randint(vocab_size, (n, max_period), generator=generator)
    seq = pattern.gather(1, torch.arange(block_size + 1)[None, :] % p)  # (n, T + 1)
    repeat = torch.arange(block_size)[None, :] >= p  # target t + 1 > p - 1
    return seq[:, :-1], seq[:, 1:], p[:, 0], repeat


def per_token_loss(model: GPT, x, y) -> torch.Tensor:
    """Cross-entropy of every prediction, (n, T)."""
    logits, _ = model(x)
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none")


@torch.no_grad()
def head_scores(model: GPT, x, periods) -> dict[str, torch.Tensor]:
    """How much attention each head pays, from the positions in a repeat, to
    the previous token (``previous``) and to the tokens that *followed* an
    earlier occurrence of the current token (``induction``, Olsson et al.'s
    prefix matching); (n_layer, n_head) each, from 0 to 1."""
    T = x.shape[1]
    prev, induction = 0, 0
    for seq, p in zip(x, periods.tolist()):
        A = model.attention_patterns(seq[None])  # (n_layer, n_head, T, T), row = query
        q = torch.arange(p, T)  # queries whose token occurred before
        follows = torch.zeros(T, T, dtype=torch.bool)  # [i, j]: token j - 1 is token i
        follows[:, 1:] = seq[None, :-1] == seq[:, None]
        follows = follows.tril()  # only the past (and the present)
        prev = prev + A[:, :, q, q - 1].mean(-1)
        induction = induction + (A[:, :, q, :] * follows[q]).sum(-1).mean(-1)
    return {"previous": prev / len(x), "induction": induction / len(x)}


def train(steps: int, *, eval_every: int = 50, seed: int = 0, log=None, **overrides):
    """Train a fresh tiny GPT on :func:`repeating_batch` for ``steps`` steps.

    Returns ``(model, history)``; the history holds, every ``eval_every``
    steps, the mean loss on the first period and on the repeats of 256 fixed
    validation sequences, and the largest previous-token and induction
    scores of any head in each layer. A loss that is NaN or infinite
    raises FloatingPointError.
    """
    cfg = {**CONFIG, **overrides}
    steps, eval_every = positive_int(steps, "steps"), positive_int(eval_every, "eval_every")
    data = {k: cfg[k] for k in ("vocab_size", "block_size", "min_period", "max_period")}
    x_val, y_val, p_val, repeat_val = repeating_batch(256, torch.Generator().manual_seed(12345), **data)
    seed_everything(seed)
    model = GPT(GPTConfig(vocab_size=cfg["vocab_size"], block_size=cfg["block_size"],
                          n_layer=cfg["n_layer"], n_head=cfg["n_head"], d_model=cfg["d_model"]))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.0)
    generator = torch.Generator().manual_seed(training_seed(seed))
    history = {"step": [], "first": [], "repeat": [], "previous": [], "induction": []}
    for step in range(1, steps + 1):
        x, y, _, _ = repeating_batch(cfg["batch_size"], generator, **data)
        loss = step_on_batch(model, opt, x, y, lr=cfg["lr"], grad_clip=0)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss {loss.item()} at step {step} (lr {cfg['lr']:g})")
        if step % eval_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                losses = per_token_loss(model, x_val, y_val)
            scores = head_scores(model, x_val[:32], p_val[:32])
            model.train()
            first = torch.arange(cfg["block_size"]) < p_val[:, None] - 1  # targets in period 1
            history["step"].append(step)
            history["first"].append(losses[first].mean().item())
            history["repeat"].append(losses[repeat_val].mean().item())
            history["previous"].append(scores["previous"].max(dim=1).values.tolist())
            history["induction"].append(scores["induction"].max(dim=1).values.tolist())
            if log:
                log(f"step {step:5d}  loss: first period {history['first'][-1]:.3f}, "
                    f"repeats {history['repeat'][-1]:.3f}")
    return model.eval(), history


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m textbook_utils.runs.in_context",
                                     description="Train a two-layer GPT on repeating random sequences; "
                                                 "write its losses, head scores and attention patterns as JSON.")
    cli.add_output(parser)
    parser.add_argument("--steps", type=cli.count, default=4000)
    parser.add_argument("--eval-every", type=cli.count, default=100)
    parser.add_argument("--seed", type=cli.seed, default=0)
    args = cli.parse(parser, argv)  # every value, and --out, checked before any work
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    try:
        model, history = train(args.steps, eval_every=args.eval_every, seed=args.seed, log=print)
    except FloatingPointError as e:
        sys.exit(f"training diverged: {e}; nothing written")
    x, _, p, _ = repeating_batch(1, torch.Generator().manual_seed(2024), **{
        k: CONFIG[k] for k in ("vocab_size", "block_size", "min_period", "max_period")})
    patterns = model.attention_patterns(x)  # (n_layer, n_head, T, T)
    results = {"config": CONFIG, "steps": args.steps, "seed": args.seed, "history": history,
               "example": {"tokens": x[0].tolist(), "period": int(p[0]),
                           "patterns": [[[[round(a, 4) for a in row] for row in head] for head in layer]
                                        for layer in patterns.tolist()]},
               "seconds": round(time.perf_counter() - t0, 1),
               "command": cli.command_line("textbook_utils.runs.in_context", argv)}
    args.out.save_result(results, indent=None)
    print(f"wrote {args.out.path}")
    return results


if __name__ == "__main__":
    main()
