"""Where tensors live: ``cpu``, ``cuda`` or ``mps``.

Every chapter that trains lets :func:`pick_device` choose the hardware, so the same notebook runs unchanged on
a laptop CPU, an NVIDIA GPU (``cuda``) or Apple silicon (``mps``). The book's
committed outputs are produced on a CPU.

Override the automatic choice with an argument, ``pick_device("cpu")``, or for
a whole session with the environment variable ``TEXTBOOK_DEVICE=cpu``.
:func:`cpu_name` names the processor, for the record a timing keeps of its machine.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

__all__ = ["DEVICE_ENV", "cpu_name", "pick_device"]

DEVICE_ENV = "TEXTBOOK_DEVICE"
_KINDS = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """Choose the device to compute on: ``cuda``, then ``mps``, then ``cpu``.

    ``preferred`` (or, when it is ``None``, the ``TEXTBOOK_DEVICE`` environment
    variable) may name a device explicitly — ``"cpu"``, ``"cuda"``,
    ``"cuda:1"``, ``"mps"`` — or be ``"auto"``. Asking for hardware this
    machine does not have raises ``RuntimeError`` rather than quietly falling
    back, so a run never reports CPU timings as GPU ones.
    """
    source = "argument"
    if preferred is None:
        preferred = os.environ.get(DEVICE_ENV, "").strip() or "auto"
        source = f"${DEVICE_ENV}"
    if isinstance(preferred, torch.device):
        preferred = str(preferred)
    if not isinstance(preferred, str):
        raise TypeError(
            f"device must be a string such as 'cpu', 'cuda' or 'auto', "
            f"or a torch.device, got {type(preferred).__name__}"
        )
    choice = preferred.strip().lower()
    kind = choice.split(":", 1)[0]
    if kind not in _KINDS:
        raise ValueError(
            f"unknown device {preferred!r} (from {source}); expected one of "
            f"{', '.join(_KINDS)}, optionally with an index such as 'cuda:1'"
        )
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as err:
        raise ValueError(f"cannot parse device {preferred!r} (from {source}): {err}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {preferred!r} (from {source}) was asked for, but PyTorch sees no CUDA GPU "
                f"here; use 'cpu' or 'auto'"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {preferred!r} (from {source}) does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    if device.type == "mps" and not _mps_available():
        raise RuntimeError(
            f"device {preferred!r} (from {source}) was asked for, but the MPS backend is not "
            f"available here; use 'cpu' or 'auto'"
        )
    return device


def cpu_name() -> str:
    """The processor's model name, as the operating system reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
