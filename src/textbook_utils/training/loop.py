"""Training a PyTorch model by mini-batch gradient descent: :func:`fit`.

Chapter "Gradient descent" (``book/3b1b/02_gradient_descent.ipynb``) shows
the loop of :func:`fit`, :func:`train_loop`, whole, and trains the video's 784-16-16-10 network with it.
The loop is plain on purpose:

1. the training data lives on the model's device as two tensors,
   ``X (N, 784)`` and ``y (N,)``, moved there once;
2. every epoch draws a random order of the N examples and cuts it into
   mini-batches (:func:`minibatches`);
3. every mini-batch is one step (:func:`train_step`): forward pass, cost,
   backpropagation (``loss.backward()``), update of every parameter.

The loop knows nothing of several processes. Launched by ``torchrun``, the
command ``textbook_utils.commands.train_mnist`` hands :func:`fit` its model
wrapped in :class:`textbook_utils.tools.distributed.DataParallel`, which
gives each process its slice of every mini-batch and averages their
gradients (chapter "Scaling up"); the loop is the same either way.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np
import torch
import torch.nn.functional as F

from textbook_utils.tools.checks import (finite_array, positive_int,
                                         positive_number)
from textbook_utils.tools.seeding import training_seed

__all__ = ["LOSSES", "OPTIMIZERS", "SCHEDULES", "accuracy", "cosine", "examples", "fit",
           "loss_function", "make_optimizer", "minibatches", "train_loop",
           "train_step"]


def quadratic(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The video's cost, with Nielsen's 1/2: mean over the batch of 1/2 ||sigma(z) - y||^2."""
    a = torch.sigmoid(z)                                  # (B, 10) output activations
    target = F.one_hot(y, a.shape[1]).to(a.dtype)        # (B, 10) one-hot labels
    return 0.5 * (a - target).pow(2).sum(dim=1).mean()


def cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy, -ln softmax(z)_y, averaged over the batch.

    F.cross_entropy computes it from the weighted inputs z as
    logsumexp(z) - z_y, with max(z) taken off before exponentiating, so large
    z never overflow (chapter "Gradient descent" shows why).
    """
    return F.cross_entropy(z, y)


LOSSES = {"quadratic": quadratic, "cross_entropy": cross_entropy}
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = (None, "cosine")


def loss_function(name: str):
    """The cost ``C(z, y)`` called ``name``: ``"quadratic"`` or ``"cross_entropy"``."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {name!r}")
    return LOSSES[name]


def make_optimizer(name: str, params, lr: float, *, momentum: float = 0.0, weight_decay: float = 0.0):
    """``torch.optim.SGD`` (eta = ``lr``, optional momentum) or ``torch.optim.Adam``.

    One fused kernel updates every parameter at once (on CPUs and CUDA GPUs):
    the same update, without a Python loop over the parameters on every step.
    """
    lr = positive_number(lr, "lr (the learning rate eta)")
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    if not (isinstance(momentum, numbers.Real) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
    if not (isinstance(weight_decay, numbers.Real) and 0 <= weight_decay < math.inf):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    if name == "adam" and momentum:
        raise ValueError("momentum applies to optimizer='sgd'; Adam has its own (betas)")
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=fused)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)


def train_step(model, optimizer, loss_fn, xb, yb, *,
               grad_clip=None) -> torch.Tensor:
    """One step of gradient descent on the mini-batch; returns its cost.

    The book's one optimiser step: ``fit``, the GPT's loop and the
    commands all take it. ``grad_clip`` (the GPT's) first scales the
    gradient down to that norm if it is longer.
    """
    loss = loss_fn(model(xb), yb)          # forward pass and cost
    optimizer.zero_grad(set_to_none=True)
    loss.backward()                        # backpropagation: every dC/dw
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()                       # w <- w - eta dC/dw, or Adam's
    return loss.detach()


def minibatches(X, y, batch_size: int, generator: torch.Generator):
    """``(X, y)`` in a random order, ``batch_size`` examples at a time.

    Yields ``(xb, yb)`` of shapes ``(B, 784)`` and ``(B,)``; the last batch
    may be smaller. The order is drawn on the CPU by ``generator``, so it is
    the same on every device and in every process. (``index_select`` gathers
    the same rows as ``X[batch]``, about twice as fast on a CPU.) A batch of
    all N examples is ``(X, y)`` itself: its order changes nothing but the
    cost of copying it.
    """
    if batch_size >= len(X):
        yield X, y  # the full batch
        return
    order = torch.randperm(len(X), generator=generator).to(X.device)  # (N,)
    for k in range(0, len(X), batch_size):
        batch = order[k:k + batch_size]  # (B,)
        yield X.index_select(0, batch), y.index_select(0, batch)


def cosine(lr: float, t: int, T: int) -> float:
    """The learning rate at step t of T on a cosine schedule: from ``lr`` down to 0."""
    return lr * 0.5 * (1 + math.cos(math.pi * t / T))


@torch.no_grad()
def accuracy(model, X: torch.Tensor, y: torch.Tensor, *, batch_size: int = 10_000) -> float:
    """Fraction of ``(X, y)`` (tensors on the model's device) classified correctly (argmax of z^L)."""
    was_training = model.training
    model.eval()
    correct = sum(int((model(X[k:k + batch_size]).argmax(dim=1) == y[k:k + batch_size]).sum())
                  for k in range(0, len(X), batch_size))
    model.train(was_training)
    return correct / len(X)


def _as_tensor(v, name: str) -> torch.Tensor:
    if isinstance(v, torch.Tensor):
        return v
    v = np.asarray(v)
    if v.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got an array of dtype {v.dtype}")
    return torch.as_tensor(v)


def examples(data, name: str, model) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` checked and on the model's device: ``(N, n_in)`` floats, ``(N,)`` int64 labels.

    ``data`` is ``(X, y)`` as ``load_mnist`` returns it (NumPy arrays or
    tensors): X ``(N, 784)`` or ``(N, 28, 28)`` pixels in [0, 1] (raw bytes
    0..255 are scaled), y integer labels. Everything a reader can get wrong
    is refused here, with what was expected.
    """
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (X, y) as load_mnist returns, got {type(data).__name__}")
    X, y = (_as_tensor(v, f"{name} {part}") for v, part in zip(data, ("X", "y")))
    W = next(model.parameters())                             # its device and dtype
    sizes = getattr(model, "sizes", None)                    # an MLP knows its layers
    n_in, n_out = (sizes[0], sizes[-1]) if sizes else (None, None)
    if X.ndim == 3:
        X = X.flatten(1)                                     # (N, 28, 28) -> (N, 784)
    if X.ndim != 2 or not (X.is_floating_point() or X.dtype == torch.uint8) or len(X) == 0:
        raise ValueError(f"{name}: X must be a non-empty array of numbers of shape (N, features), "
                         f"got {X.dtype} {tuple(X.shape)}")
    if n_in is not None and X.shape[1] != n_in:
        raise ValueError(f"{name}: X has {X.shape[1]} features per example; the model expects {n_in}")
    if X.dtype == torch.uint8:
        X = X.float() / 255                                  # raw bytes -> [0, 1]
    finite_array(X.detach().cpu().numpy(), f"{name} images X")
    lo, hi = float(X.min()), float(X.max())
    if lo >= 0 and hi > 1 and torch.equal(X, X.round()):     # whole numbers up to 255
        raise ValueError(f"{name}: X holds whole numbers from {lo:g} to {hi:g}, raw 0-255 pixels as "
                         f"floats; divide by 255 (load_mnist's floats), or pass the uint8 bytes, "
                         f"which fit scales itself")
    if y.ndim != 1 or y.dtype not in (torch.int64, torch.int32, torch.uint8) or len(y) != len(X):
        raise ValueError(f"{name}: y must be {len(X)} integer labels of shape ({len(X)},), "
                         f"got {y.dtype} {tuple(y.shape)}")
    if int(y.min()) < 0 or (n_out is not None and int(y.max()) >= n_out):
        raise ValueError(f"{name}: labels must lie in 0..{(n_out or 0) - 1}, "
                         f"got {int(y.min())}..{int(y.max())}")
    return X.to(device=W.device, dtype=W.dtype), y.to(device=W.device, dtype=torch.int64)


def _check_settings(model, test, loss, optimizer, schedule, target_accuracy):
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    loss_function(loss)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if target_accuracy is not None:
        if test is None:
            raise ValueError("target_accuracy needs test data to measure accuracy on")
        if isinstance(target_accuracy, bool) or not 0 < target_accuracy <= 1:
            raise ValueError(f"target_accuracy must be a fraction in (0, 1], got {target_accuracy!r}")


def fit(model, train, test=None, *, epochs: int, batch_size: int, lr: float,
        optimizer: str = "sgd", loss: str = "cross_entropy",
        momentum: float = 0.0, weight_decay: float = 0.0,
        schedule: str | None = None, seed: int = 0,
        target_accuracy: float | None = None, max_steps: int | None = None,
        eval_train: bool = True) -> dict:
    """Train ``model`` in place by mini-batch gradient descent; return history.

    ``train`` and ``test`` are ``(X, y)`` as from ``load_mnist`` (see
    :func:`examples`); they go to the device the model is on. The model learns
    from ``train`` only; ``test`` is only measured, after every epoch.

    - ``optimizer``: ``"sgd"`` (w <- w - lr dC/dw, optional ``momentum``) or
      ``"adam"``; ``weight_decay`` adds ``weight_decay * w`` to every gradient;
    - ``loss``: ``"cross_entropy"`` (softmax) or ``"quadratic"`` (sigmoid
      outputs, 1/2 ||a - y||^2: the video's cost with Nielsen's 1/2);
    - ``schedule``: ``None`` keeps ``lr``; ``"cosine"`` lowers it along half a
      cosine from ``lr`` to 0 over all the steps (:func:`cosine`);
    - ``seed``: the order of the mini-batches (through ``seeding.training_seed``;
      seed the initial weights yourself, before building the model);
    - ``target_accuracy``: stop after the first epoch whose test accuracy
      reaches it; ``max_steps``: stop after that many steps.

    Under ``torchrun``, ``commands.train_mnist`` passes the model wrapped in
    :class:`textbook_utils.tools.distributed.DataParallel`; the loop is the same.

    ``fit`` is the door: it checks every argument and the data before any
    work, then :func:`train_loop` trains. Training that diverges (a mean
    cost that is not finite) stops with a ``FloatingPointError``.

    The history holds per-epoch lists ``"epoch"``, ``"loss"`` (mean cost of
    the epoch's steps), ``"steps"`` (so far), ``"seconds"`` (since the start),
    ``"train_accuracy"`` (if ``eval_train``) and ``"test_accuracy"`` (if
    ``test``; empty lists otherwise), and ``"device"``.
    """
    _check_settings(model, test, loss, optimizer, schedule, target_accuracy)
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    if max_steps is not None:
        max_steps = positive_int(max_steps, "max_steps")
    X, y = examples(train, "train", model)            # (N, 784), (N,)
    if test is not None:
        test = examples(test, "test", model)
    opt = make_optimizer(optimizer, model.parameters(), lr,
                         momentum=momentum, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(training_seed(seed))
    return train_loop(model, X, y, test, opt, loss_function(loss),
                      epochs=epochs, batch_size=batch_size, generator=generator,
                      schedule=schedule, max_steps=max_steps,
                      target_accuracy=target_accuracy, eval_train=eval_train)


def train_loop(model, X, y, test, opt, loss_fn, *, epochs, batch_size,
               generator, schedule=None, max_steps=None,
               target_accuracy=None, eval_train=True) -> dict:
    """The loop of :func:`fit`, on the data and settings it has checked.

    X (N, 784) and y (N,) are tensors on the model's device, test a pair
    like them or None; ``loss_fn(z, y)`` is the cost; ``generator`` orders
    the mini-batches.
    """
    lr = opt.param_groups[0]["lr"]                    # the starting rate
    T = epochs * math.ceil(len(X) / batch_size)       # steps, for the schedule
    T = min(T, max_steps or T)
    history = {"epoch": [], "loss": [], "steps": [], "seconds": [],
               "train_accuracy": [], "test_accuracy": [],
               "device": str(X.device)}
    t, start = 0, time.perf_counter()
    for epoch in range(epochs):
        loss_sum, n = 0.0, 0
        for xb, yb in minibatches(X, y, batch_size, generator):
            if schedule == "cosine":
                opt.param_groups[0]["lr"] = cosine(lr, t, T)
            loss_sum += train_step(model, opt, loss_fn, xb, yb)  # one step
            t, n = t + 1, n + 1
            if t == max_steps:
                break
        loss = float(loss_sum) / n           # the epoch's mean cost
        if not math.isfinite(loss):          # diverged: stop, and say so
            raise FloatingPointError(
                f"training diverged: mean cost {loss} in epoch {epoch} "
                f"(after step {t}) with lr = {lr:g}; try a smaller lr")
        history["epoch"].append(epoch)
        history["loss"].append(loss)
        history["steps"].append(t)
        if eval_train:
            history["train_accuracy"].append(accuracy(model, X, y))
        if test is not None:
            history["test_accuracy"].append(accuracy(model, *test))
        history["seconds"].append(time.perf_counter() - start)
        if t == max_steps or (target_accuracy is not None and
                              history["test_accuracy"][-1] >= target_accuracy):
            break
    return history
