"""How the book's GPT learns: the recipe and the training loop.

Chapter "GPT: what a transformer does" (``book/3b1b/05_gpt.ipynb``) runs
:func:`train` live and shows it. One step: draw B random windows, compute
the loss, backpropagate, clip the gradient's norm, take an AdamW step (or,
for the hidden matrices, a Muon step) at the learning rate the schedule
gives for this step. Every
``eval_interval`` steps the loss on held-out text is measured.

:func:`train` is a plain single-process loop. ``python -m
textbook_utils.commands.train_gpt`` runs the same loop on several processes
under ``torchrun``, with the model wrapped in
:class:`textbook_utils.tools.distributed.DataParallel` (chapter "Scaling up").
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from textbook_utils.lessons.optim.muon import Muon
from textbook_utils.tools.checks import positive_int, positive_number
from textbook_utils.training.gpt_data import estimate_loss, get_batch
from textbook_utils.training.loop import train_step
from textbook_utils.tools.seeding import training_seed

__all__ = ["LIVE", "LIVE_SHAPE", "OPTIMIZERS", "Recipe", "SCHEDULES", "lr_at", "make_adamw",
           "make_optimizer", "param_groups", "step_on_batch", "train"]

SCHEDULES = ("trapezoid", "cosine")  # the shapes of lr_at after the warm-up
OPTIMIZERS = ("adamw", "muon")  # what trains the hidden matrices


@dataclass(frozen=True)
class Recipe:
    """How to train: steps, batch, learning-rate schedule, AdamW, evals.

    The defaults are the book's recipe. nanoGPT's CPU recipe for the same
    model peaks at lr 1e-3 and decays along a cosine over 2,000 steps. The
    book's peaks 5x higher, holds the peak and cools down in a straight line
    over the last 30% of the steps (a "trapezoid"), and lets the embeddings
    learn 3x faster than the rest; it reaches nanoGPT's validation loss
    (1.88) in about half the steps (``bench/bench_gpt.py`` compares them).
    """

    iters: int = 1000  # optimisation steps
    batch_size: int = 12  # windows per step
    lr: float = 5e-3  # peak learning rate, reached after the warm-up
    min_lr: float = 5e-5  # where the decay ends, at the last step
    warmup: int = 50  # steps of linear warm-up
    schedule: str = "trapezoid"  # after the warm-up: "trapezoid" or "cosine"
    cooldown: float = 0.3  # trapezoid: the last fraction of steps, lr -> min_lr
    embedding_lr_scale: float = 3.0  # W_E and W_P learn at this multiple of lr
    weight_decay: float = 0.1  # AdamW's, on the matrices only
    beta2: float = 0.99  # AdamW's second-moment decay (beta1 is 0.9)
    grad_clip: float = 1.0  # largest gradient norm; 0 turns clipping off
    optimizer: str = "adamw"  # for the hidden matrices: "adamw" or "muon"
    muon_lr: float = 0.03  # Muon's peak rate (scheduled as lr is)
    eval_interval: int = 250  # steps between evaluations
    eval_blocks: int = 300  # held-out windows per evaluation
    seed: int = 1337  # orders the batches (+ $TEXTBOOK_SEED_OFFSET)

    def __post_init__(self):
        for name in ("iters", "batch_size", "eval_interval", "eval_blocks"):
            positive_int(getattr(self, name), name)
        positive_number(self.lr, "lr")
        positive_number(self.min_lr, "min_lr")
        positive_number(self.embedding_lr_scale, "embedding_lr_scale")
        positive_number(self.muon_lr, "muon_lr")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}: "
                             f"{self.optimizer!r}")
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr {self.min_lr} exceeds lr {self.lr}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}: "
                             f"{self.schedule!r}")
        training_seed(self.seed)  # an integer in [0, 2**32)
        for name, high in (("warmup", math.inf), ("weight_decay", math.inf),
                           ("beta2", 1), ("grad_clip", math.inf)):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and 0 <= value < high):
                raise ValueError(f"{name} must be in [0, {high}): {value!r}")
        c = self.cooldown
        if not (isinstance(c, numbers.Real) and 0 < c <= 1):
            raise ValueError(f"cooldown must be a fraction in (0, 1]: {c!r}")


# The live run of chapter "GPT: what a transformer does": a smaller model
# than the book's (3 layers, 64 wide; chapter "Scaling up" says why) and a
# recipe that take it below a validation loss of 2 in about 15 s of
# training on two CPU cores (bench/bench_gpt.py measures it). Muon trains
# the hidden matrices; the rate rises for 20 steps, then falls in a
# straight line to almost 0 at the last step (a trapezoid with no top).
LIVE_SHAPE = dict(block_size=64, n_layer=3, n_head=4, d_model=64)
LIVE = Recipe(iters=600, optimizer="muon", muon_lr=0.03, lr=5e-3,
              min_lr=1e-5, warmup=20, cooldown=1.0, eval_interval=150,
              eval_blocks=300)


def lr_at(it, recipe):
    """Learning rate at step it (from 0): a linear warm-up to lr, then

    - "trapezoid" (the book's): lr held, and over the last ``cooldown`` of
      the steps a straight line down to min_lr at the last step;
    - "cosine" (nanoGPT's): half a cosine from lr down to min_lr at the
      last step.
    """
    r = recipe
    if it < r.warmup:
        return r.lr * (it + 1) / r.warmup
    if r.schedule == "trapezoid":
        left = (r.iters - 1 - it) / max(1, r.cooldown * r.iters)  # 1 -> 0
        return r.min_lr + min(1, left) * (r.lr - r.min_lr)
    progress = min(1, (it - r.warmup) / max(1, r.iters - 1 - r.warmup))
    cosine = 0.5 * (1 + math.cos(math.pi * progress))  # 1 -> 0
    return r.min_lr + cosine * (r.lr - r.min_lr)


def param_groups(model, recipe):
    """The weights in three groups: the hidden matrices, decayed; the
    embeddings W_E and W_P, decayed, at embedding_lr_scale times the rate;
    gains and biases, not decayed."""
    params = list(model.parameters())
    embeddings = [model.W_E.weight, model.W_P.weight]
    return [
        {"params": [p for p in params if p.dim() >= 2
                    and all(p is not e for e in embeddings)],
         "weight_decay": recipe.weight_decay},
        {"params": embeddings, "weight_decay": recipe.weight_decay,
         "lr_scale": recipe.embedding_lr_scale},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]


def make_adamw(model, recipe, groups=None):
    """AdamW over :func:`param_groups` (or the groups given). On a CPU or
    CUDA GPU one fused kernel updates them all."""
    groups = param_groups(model, recipe) if groups is None else groups
    fused = all(p.device.type in ("cpu", "cuda")
                for g in groups for p in g["params"])
    return torch.optim.AdamW(groups, lr=recipe.lr, betas=(0.9, recipe.beta2),
                             fused=fused)


def next_token_loss(output, y):
    """The GPT's cost: cross-entropy of its logits (B, T, vocab) against
    the next tokens y (B, T)."""
    logits, _ = output
    return F.cross_entropy(logits.flatten(0, 1), y.flatten())


class _Together:
    """Several optimisers stepped as one (AdamW and Muon side by side)."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers
        self.param_groups = [g for o in optimizers for g in o.param_groups]

    def zero_grad(self, set_to_none=True):
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def step(self):
        for o in self.optimizers:
            o.step()


def make_optimizer(model, recipe):
    """recipe.optimizer "adamw": :func:`make_adamw`. "muon": Muon (chapter
    "Momentum, Newton and stochastic gradient descent") for the hidden
    matrices, at muon_lr / lr times the scheduled rate, and AdamW for the
    embeddings, gains and biases."""
    if recipe.optimizer == "adamw":
        return make_adamw(model, recipe)
    matrices, *rest = param_groups(model, recipe)
    muon = Muon(matrices["params"], lr=recipe.muon_lr)
    muon.param_groups[0]["lr_scale"] = recipe.muon_lr / recipe.lr
    return _Together(make_adamw(model, recipe, rest), muon)


def step_on_batch(model, optimizer, x, y, *, lr, grad_clip=1.0):
    """One step downhill on the batch (x, y) at rate lr (times a group's
    lr_scale, if it has one): the book's one training step,
    :func:`~textbook_utils.training.loop.train_step`; returns the loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1)
    return train_step(model, optimizer, next_token_loss, x, y,
                      grad_clip=grad_clip)


def train(model, train_ids, val_ids, recipe=None, *, log=print,
          target_loss=None):
    """Train model (on its device) by recipe; return the history.

    Every eval_interval steps and at the last, the history records the
    step, the mean training loss since the last record, the validation
    loss on eval_blocks windows of val_ids and the seconds spent training
    (evaluations excluded); log (print, a list's append, or None) gets a
    line. target_loss stops at the first validation loss at or below it;
    a loss that is NaN or infinite raises FloatingPointError.
    """
    recipe = recipe or Recipe()
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, not {type(recipe)}")
    device, T = model.W_E.weight.device, model.cfg.block_size
    optimizer = make_optimizer(model, recipe)
    batches = torch.Generator().manual_seed(training_seed(recipe.seed))
    history = {"iter": [], "train_loss": [], "val_loss": [], "seconds": []}
    losses, seconds, t0 = [], 0.0, time.perf_counter()
    model.train()
    for it in range(1, recipe.iters + 1):
        x, y = get_batch(train_ids, T, recipe.batch_size, batches)
        x, y = x.to(device), y.to(device)  # (B, T) each
        losses.append(step_on_batch(model, optimizer, x, y,
                                    lr=lr_at(it - 1, recipe),
                                    grad_clip=recipe.grad_clip))
        if it % recipe.eval_interval and it < recipe.iters:
            continue
        seconds += time.perf_counter() - t0
        val = estimate_loss(model, val_ids, max_blocks=recipe.eval_blocks)
        record = (it, torch.stack(losses).mean().item(), val, seconds)
        if not math.isfinite(record[1]):  # diverged: stop, nothing to save
            raise FloatingPointError(f"loss {record[1]} by step {it} "
                                     f"(lr {recipe.lr:g})")
        for key, value in zip(history, record):
            history[key].append(value)
        if log:
            log(f"step {it:5d}  train {record[1]:.3f}  val {val:.3f}  "
                f"{seconds:6.1f} s elapsed")
        if target_loss is not None and val <= target_loss:
            break
        losses, t0 = [], time.perf_counter()
    return history
