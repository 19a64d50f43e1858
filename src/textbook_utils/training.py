"""Training a PyTorch model on data that lives on the device: :func:`fit`.

Chapter "Gradient descent" (``book/3b1b/02_gradient_descent.ipynb``) trains
3Blue1Brown's 784-16-16-10 network with it. The loop is deliberately plain:

1. the whole data set is moved to the device **once**, as two tensors
   ``X (N, 784)`` and ``y (N,)``;
2. each epoch draws a random permutation of ``0..N-1``, reorders the data
   by it once (one indexing operation on the device) and cuts the result into
   mini-batches: a batch is a slice, no per-example Python work and no
   ``DataLoader``;
3. each mini-batch is one call of :func:`train_step` (forward, loss,
   backward, optimiser step), on CUDA under automatic mixed precision; the
   optimiser updates all parameters in one fused kernel.

The same call runs on ``cpu``, ``cuda`` or ``mps`` unchanged
(:func:`textbook_utils.device.pick_device`). Launched by ``torchrun`` with
several processes, :func:`fit` joins them (:mod:`textbook_utils.distributed`):
the model is wrapped in ``DistributedDataParallel`` and each rank trains on its
own slice of every global mini-batch (chapter "Scaling up"). Alone, it runs
exactly the single-device loop described above.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import distributed
from .device import pick_device
from .seeding import training_seed
from .checks import positive_int

__all__ = ["LOSSES", "OPTIMIZERS", "SCHEDULES", "accuracy", "fit", "loss_function", "make_optimizer", "train_step"]

LOSSES = ("cross_entropy", "quadratic")
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = (None, "cosine")


def _quadratic(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The video's cost on sigmoid outputs: mean over the batch of 1/2 ||sigma(z) - onehot(y)||^2."""
    a = torch.sigmoid(z.float())  # (B, 10) output activations
    target = F.one_hot(y, a.shape[1]).to(a.dtype)  # (B, 10)
    return 0.5 * (a - target).pow(2).sum(dim=1).mean()


def _cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy, -ln(softmax(z)_y), averaged over the batch."""
    return F.cross_entropy(z.float(), y)


def loss_function(name: str):
    """The loss ``f(z, y)`` called ``name``: ``"quadratic"`` or ``"cross_entropy"``."""
    if name == "quadratic":
        return _quadratic
    if name == "cross_entropy":
        return _cross_entropy
    raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")


def make_optimizer(name: str, params, lr: float, *, momentum: float = 0.0, weight_decay: float = 0.0):
    """``torch.optim.SGD`` (eta = ``lr``, optional momentum) or ``torch.optim.Adam``."""
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ValueError(f"lr (the learning rate eta) must be a positive number, got {lr!r}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    if name == "adam" and momentum:
        raise ValueError("momentum applies to optimizer='sgd'; Adam has its own (betas)")
    params = list(params)
    # One fused kernel updates every parameter at once (CPU and CUDA): the same
    # update, without a Python loop over the parameters on every step.
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=fused)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)


def _as_tensors(data, name: str, device: torch.device, n_in: int | None, n_out: int | None,
                dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` from numpy arrays or tensors -> ``(N, n_in)`` floats and int64 ``(N,)`` on ``device``."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a tuple (X, y) as returned by load_mnist, got {type(data).__name__}")
    X, y = (torch.as_tensor(np.asarray(v)) if not isinstance(v, torch.Tensor) else v for v in data)
    if X.ndim == 3:
        X = X.flatten(1)  # (N, 28, 28) -> (N, 784)
    if X.ndim != 2 or not (X.is_floating_point() or X.dtype == torch.uint8):
        raise ValueError(f"{name}: X must be numbers of shape (N, features); got {X.dtype} {tuple(X.shape)}")
    if n_in is not None and X.shape[1] != n_in:
        raise ValueError(f"{name}: X has {X.shape[1]} features per example; the model expects {n_in}")
    if y.ndim != 1 or y.dtype not in (torch.int64, torch.int32, torch.uint8) or len(y) != len(X):
        raise ValueError(f"{name}: y must be {len(X)} integer labels of shape ({len(X)},); got {y.dtype} {tuple(y.shape)}")
    if len(y) == 0:
        raise ValueError(f"{name} is empty")
    if X.dtype == torch.uint8:
        X = X.float() / 255  # raw pixels -> [0, 1]
    if int(y.min()) < 0 or (n_out is not None and int(y.max()) >= n_out):
        raise ValueError(f"{name}: labels must lie in 0..{(n_out or 0) - 1}, got {int(y.min())}..{int(y.max())}")
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=torch.int64)


def _autocast(device: torch.device, amp_dtype):
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype)


def train_step(model, optimizer, loss_fn, xb, yb, *, amp_dtype=None, scaler=None) -> torch.Tensor:
    """One step of mini-batch gradient descent; returns the batch loss (detached, on the device).

    forward -> loss -> backward (backpropagation by ``torch.autograd``) ->
    optimiser step. ``amp_dtype`` (``torch.bfloat16`` / ``torch.float16``)
    runs the forward pass under autocast; ``scaler`` (a ``GradScaler``, for
    float16) scales the loss so small gradients do not underflow.
    """
    optimizer.zero_grad(set_to_none=True)
    with _autocast(xb.device, amp_dtype):
        loss = loss_fn(model(xb), yb)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss.detach()


@torch.no_grad()
def accuracy(model, X: torch.Tensor, y: torch.Tensor, *, batch_size: int = 10_000, amp_dtype=None) -> float:
    """Fraction of ``(X, y)`` (tensors on the model's device) classified correctly (argmax of z^L)."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=X.device)
    for k in range(0, len(X), batch_size):
        with _autocast(X.device, amp_dtype):
            z = model(X[k:k + batch_size])
        correct += (z.argmax(dim=1) == y[k:k + batch_size]).sum()
    model.train(was_training)
    return correct.item() / len(X)


def _amp_settings(amp, device: torch.device):
    """(autocast dtype or None, GradScaler or None) for ``amp`` = "auto" | True | False."""
    if amp not in ("auto", True, False):
        raise ValueError(f"amp must be 'auto', True or False, got {amp!r}")
    if amp is True and device.type != "cuda":
        raise ValueError(f"amp=True needs a CUDA device (mixed precision is used on CUDA only); got {device}")
    if device.type != "cuda" or amp is False:
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None  # bfloat16 has float32's range: no loss scaling needed
    return torch.float16, torch.amp.GradScaler("cuda")


def _show_progress(progress) -> bool:
    if progress not in ("auto", True, False):
        raise ValueError(f"progress must be 'auto', True or False, got {progress!r}")
    if progress != "auto":
        return progress
    in_kernel = "ipykernel" in sys.modules
    return in_kernel or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def fit(model, train, test=None, *, epochs: int, batch_size: int, lr: float, optimizer: str = "sgd",
        loss: str = "cross_entropy", momentum: float = 0.0, weight_decay: float = 0.0, device=None,
        seed: int = 0, amp="auto", progress="auto", eval_train: bool = True,
        schedule: str | None = None, target_accuracy: float | None = None,
        max_steps: int | None = None, cpu_threads: int | None = None) -> dict:
    """Train ``model`` in place by mini-batch gradient descent; return its history.

    ``train`` and ``test`` are ``(X, y)`` as from ``load_mnist`` (numpy arrays
    or tensors): X ``(N, 784)`` float in [0, 1] (or raw uint8 images), y
    ``(N,)`` integer labels. The model learns from ``train`` only; ``test`` is
    only evaluated, after every epoch.

    - ``optimizer``: ``"sgd"`` (W <- W - lr * grad, optional ``momentum``) or ``"adam"``;
    - ``loss``: ``"cross_entropy"`` (softmax) or ``"quadratic"`` (sigmoid outputs,
      1/2 ||a - y||^2, the video's cost with Nielsen's 1/2);
    - ``device``: ``None`` picks cuda, mps or cpu (:func:`pick_device`);
    - ``amp``: ``"auto"`` uses mixed precision (bfloat16, else float16 with
      loss scaling) on CUDA and never elsewhere; ``True`` requires CUDA;
    - ``progress``: ``"auto"`` shows a tqdm bar (a widget in Jupyter, text
      in a terminal, nothing when output is redirected); ``True``/``False``;
    - ``schedule``: ``None`` keeps ``lr`` fixed; ``"cosine"`` lowers it along
      half a cosine from ``lr`` to 0 over all the steps (big steps first,
      small steps to settle into a minimum at the end);
    - ``seed``: the order of the mini-batches (seed the model's initial
      weights yourself, before building it);
    - ``target_accuracy``: stop after the first epoch whose test accuracy
      reaches it; ``max_steps``: stop after that many mini-batch steps;
    - ``cpu_threads``: on a CPU, how many threads PyTorch may use during this
      call (restored afterwards). Networks as small as the book's train
      fastest on one thread: splitting a 16-neuron layer across cores costs
      more in synchronisation than it saves. ``None`` leaves the setting alone.

    The history is a dict of per-epoch lists: ``"epoch"``, ``"loss"`` (mean
    training loss over the epoch's steps), ``"train_accuracy"`` (after the
    epoch, on all of ``train``; only if ``eval_train``), ``"test_accuracy"``
    (if ``test`` is given), ``"seconds"`` (wall time since the start) and
    ``"steps"`` (mini-batch steps so far); plus ``"device"``.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if cpu_threads is not None:
        cpu_threads = positive_int(cpu_threads, "cpu_threads")
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    if max_steps is not None:
        max_steps = positive_int(max_steps, "max_steps")
    if target_accuracy is not None:
        if test is None:
            raise ValueError("target_accuracy needs test data to measure accuracy on")
        if not 0 < target_accuracy <= 1:
            raise ValueError(f"target_accuracy must be a fraction in (0, 1], got {target_accuracy!r}")
    loss_fn = loss_function(loss)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if distributed.launched():  # started by torchrun: join the other ranks, one device each
        device = distributed.setup(device).device
    device = pick_device(device)
    amp_dtype, scaler = _amp_settings(amp, device)
    n_in, n_out = (model.sizes[0], model.sizes[-1]) if hasattr(model, "sizes") else (None, None)
    dtype = next(model.parameters()).dtype  # float32 usually; float64 for gradient checks
    X, y = _as_tensors(train, "train", device, n_in, n_out, dtype)
    test_t = None if test is None else _as_tensors(test, "test", device, n_in, n_out, dtype)
    model.to(device).train()
    threads_before = torch.get_num_threads()
    if cpu_threads is not None and device.type == "cpu":
        torch.set_num_threads(cpu_threads)
    try:
        return _fit_loop(model, distributed.wrap(model), X, y, test_t, device=device, loss_fn=loss_fn, amp_dtype=amp_dtype,
                         scaler=scaler, epochs=epochs, batch_size=batch_size, eval_train=eval_train,
                         target_accuracy=target_accuracy, max_steps=max_steps, progress=progress, seed=seed,
                         schedule=schedule,
                         opt=make_optimizer(optimizer, model.parameters(), lr, momentum=momentum,
                                            weight_decay=weight_decay))
    finally:
        torch.set_num_threads(threads_before)


def _fit_loop(model, ddp, X, y, test_t, *, device, loss_fn, amp_dtype, scaler, opt, epochs, batch_size,
              eval_train, target_accuracy, max_steps, progress, seed, schedule) -> dict:
    """The epochs of :func:`fit`, on arguments it has checked; data already on ``device``.

    ``ddp`` is the model that takes the steps: ``model`` itself, or its
    ``DistributedDataParallel`` wrapper under torchrun.
    """
    generator = torch.Generator().manual_seed(training_seed(seed))  # batch order, on the CPU: same on every device
    steps_per_epoch = math.ceil(len(X) / batch_size)
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    base_lrs = [group["lr"] for group in opt.param_groups]
    bar = None
    if _show_progress(progress) and distributed.is_main():
        from tqdm.auto import tqdm
        bar = tqdm(total=total, desc="training", unit="step")
    history = {"epoch": [], "loss": [], "seconds": [], "steps": [], "device": str(device)}
    if eval_train:
        history["train_accuracy"] = []
    if test_t is not None:
        history["test_accuracy"] = []
    start, steps = time.perf_counter(), 0
    for epoch in range(epochs):
        order = torch.randperm(len(X), generator=generator).to(device)  # (N,)
        X_epoch, y_epoch = X[order], y[order]  # shuffled once per epoch: each mini-batch is a slice (a view)
        loss_sum = torch.zeros((), device=device)
        epoch_steps = 0
        for k in range(0, len(X), batch_size):
            xb, yb = X_epoch[k:k + batch_size], y_epoch[k:k + batch_size]  # (B, 784), (B,)
            step_loss = loss_fn
            if ddp is not model:  # torchrun: this rank's slice of the global batch
                if len(xb) < distributed.world_size():
                    continue  # a last batch too small to give every rank an example
                (xb, weight), (yb, _) = distributed.shard(xb), distributed.shard(yb)
                step_loss = distributed.weighted(loss_fn, weight)
            if schedule == "cosine":  # lr_t = lr * (1 + cos(pi t / T)) / 2 for step t of T
                for group, base in zip(opt.param_groups, base_lrs):
                    group["lr"] = base * 0.5 * (1 + math.cos(math.pi * steps / total))
            loss_sum += train_step(ddp, opt, step_loss, xb, yb, amp_dtype=amp_dtype, scaler=scaler)
            steps, epoch_steps = steps + 1, epoch_steps + 1
            if bar is not None:
                bar.update(1)
            if max_steps is not None and steps >= max_steps:
                break
        history["epoch"].append(epoch)
        history["loss"].append(distributed.mean_over_ranks(loss_sum).item() / epoch_steps)
        if eval_train:
            history["train_accuracy"].append(accuracy(model, X, y, amp_dtype=amp_dtype))
        if test_t is not None:
            history["test_accuracy"].append(accuracy(model, *test_t, amp_dtype=amp_dtype))
        history["seconds"].append(time.perf_counter() - start)
        history["steps"].append(steps)
        if bar is not None:
            bar.set_postfix(loss=f"{history['loss'][-1]:.4f}")
        done = max_steps is not None and steps >= max_steps
        if target_accuracy is not None and history["test_accuracy"][-1] >= target_accuracy:
            done = True
        if done:
            break
    if bar is not None:
        bar.close()
    return history
