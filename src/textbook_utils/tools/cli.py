"""What every command line of the book checks at its door, once, before any work.

The commands (``train_mnist``, ``train_gpt``, and the runs that write a
chapter's committed results) share this vocabulary, so each value a reader
types is checked once, by argparse, and a bad one is a usage error (exit
status 2) before any data is loaded:

- argparse types: :func:`count` (a whole number >= 1), :func:`rate` (a finite
  number > 0), :func:`seed` (in [0, 2**32)), :func:`threads` (at most the
  cores this process may use), :func:`device` (cpu, cuda, mps or auto, and
  present on this machine);
- :func:`add_output`: ``--out`` and ``--overwrite``, checked by
  :func:`textbook_utils.tools.safe_write.check_output` in :func:`parse`;
- resource limits: :func:`usable_cores`, :func:`available_memory`, and
  :func:`check_memory`, which refuses a size whose estimated memory
  (:func:`mlp_training_bytes`, :func:`gpt_training_bytes`) is more than the
  machine has, with the estimate in the message, before anything is allocated.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from textbook_utils.tools.safe_write import check_output

__all__ = ["add_output", "available_memory", "check_memory", "command_line", "count", "device",
           "gpt_training_bytes", "mlp_training_bytes", "parse", "rate", "seed", "threads",
           "usable_cores"]


def command_line(module: str, argv=None) -> str:
    """The command that made a result, as its JSON records it:
    ``python -m module`` and the arguments given (``argv``, else the
    process's own)."""
    given = sys.argv[1:] if argv is None else list(argv)
    return " ".join([f"python -m {module}", *map(str, given)])


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux: MemAvailable)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _number(text: str, kind, expected: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None


def count(text: str) -> int:
    """A whole number >= 1."""
    value = _number(text, int, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def rate(text: str) -> float:
    """A finite number > 0 (a learning rate)."""
    value = _number(text, float, "a finite number > 0")
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def seed(text: str) -> int:
    """A seed, in [0, 2**32)."""
    value = _number(text, int, "a whole number in [0, 2**32)")
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**32), got {text!r}")
    return value


def threads(text: str) -> int:
    """A thread count, from 1 to the cores this process may use."""
    cores = usable_cores()
    expected = (f"a whole number from 1 to the {cores} CPU core{'s' if cores > 1 else ''} "
                f"this process may use")
    if not 1 <= _number(text, int, expected) <= cores:
        raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
    return int(text)


def device(text: str) -> str:
    """A device this machine has: cpu, cuda, cuda:N, mps or auto."""
    from textbook_utils.tools.device import pick_device

    try:
        pick_device(text)
    except (ValueError, RuntimeError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def add_output(parser: argparse.ArgumentParser, *, required: bool = True,
               help: str = "the JSON file to write") -> None:
    """``--out`` and ``--overwrite``; :func:`parse` checks them."""
    parser.add_argument("--out", type=Path, required=required, default=None, help=help)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out (and allow writing inside the package "
                             "or beside a SHA256SUMS, where committed results live)")


def parse(parser: argparse.ArgumentParser, argv=None, *, outputs=("out",)) -> argparse.Namespace:
    """``parser``'s arguments, with every output in ``outputs`` (attribute
    names) checked and replaced by an :class:`~textbook_utils.tools.safe_write.Output`
    (or ``None``). An output that cannot be written is a usage error."""
    args = parser.parse_args(argv)
    paths = {name: getattr(args, name) for name in outputs if getattr(args, name) is not None}
    resolved = [p.resolve() for p in paths.values()]
    if len(set(resolved)) < len(resolved):
        parser.error("--" + " and --".join(n.replace("_", "-") for n in paths)
                     + " must be different files")
    for name, path in paths.items():
        try:
            setattr(args, name, check_output(path, overwrite=args.overwrite,
                                             flag="--" + name.replace("_", "-")))
        except (OSError, ValueError) as e:
            parser.error(str(e))
    return args


def mlp_training_bytes(widths, batch_size: int) -> int:
    """Estimated bytes to train an MLP with layer ``widths`` on float32
    batches: weights, gradients and two Adam moments, and each layer's
    activations three times over (forward, backward, temporaries)."""
    params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    return 4 * (4 * params + 3 * batch_size * sum(widths))


def gpt_training_bytes(*, vocab_size: int, block_size: int, n_layer: int, n_head: int,
                       d_model: int, batch_size: int) -> int:
    """Estimated bytes to train the book's GPT in float32: weights, gradients
    and AdamW's two moments, and the activations kept for the backward pass
    (about 18 numbers per token per layer for d_model, two attention
    patterns per head, and the logits three times)."""
    from textbook_utils.lessons.llm_math import gpt_parameter_count

    params = gpt_parameter_count(n_vocab=vocab_size, d_model=d_model, n_layer=n_layer,
                                 n_head=n_head, n_ctx=block_size, bias=False, tied=True)["total"]
    tokens = batch_size * block_size
    per_layer = tokens * 18 * d_model + 2 * batch_size * n_head * block_size**2
    return 4 * (4 * params + n_layer * per_layer + 3 * tokens * vocab_size)


def check_memory(needed: int, what: str, *, available: int | None = None) -> None:
    """Refuse ``what`` if its estimated ``needed`` bytes exceed the memory available."""
    available = available_memory() if available is None else available
    if needed > available:
        raise ValueError(f"{what} needs about {_size(needed)} of memory by the book's estimate; "
                         f"this machine has {_size(available)} available. Choose smaller sizes")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.3g} EB"
