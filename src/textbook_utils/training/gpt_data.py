"""What the book's GPT learns from: tiny Shakespeare as ids, in windows.

Chapter "GPT: what a transformer does" (``book/3b1b/05_gpt.ipynb``). A
training example is a window of text: the model reads
``x = ids[s : s + T]`` and is scored on ``y = ids[s + 1 : s + T + 1]``,
the same window shifted by one, so one window holds T predictions.

- :func:`shakespeare_data`: the tokenizer and the corpus as ids, 90/10;
- :func:`get_batch`: B windows at random places (training);
- :func:`estimate_loss`: the mean loss over fixed, non-overlapping
  windows (evaluation: the same windows every time, so that two numbers
  can be compared).
"""

from __future__ import annotations

import torch

from textbook_utils.lessons.tokenizers import CharTokenizer

__all__ = ["estimate_loss", "get_batch", "shakespeare_data", "windows"]


def shakespeare_data(val_fraction=0.1):
    """Tiny Shakespeare as (tokenizer, train_ids, val_ids): the first 90%
    trains. The vocabulary is the corpus's 65 characters; the ids are
    int64 tensors of 1,003,854 and 111,540 tokens."""
    from textbook_utils.tools.data import load_text

    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1): {val_fraction!r}")
    text = load_text("tinyshakespeare")
    tok = CharTokenizer.train(text)
    ids = torch.tensor(tok.encode(text), dtype=torch.long)  # (1115394,)
    n = int(len(ids) * (1 - val_fraction))
    return tok, ids[:n], ids[n:]


def windows(ids, starts, T):
    """Windows of ids beginning at starts (B,): inputs x, targets y (B, T)."""
    chunk = ids[starts[:, None] + torch.arange(T + 1)]  # (B, T + 1)
    return chunk[:, :-1], chunk[:, 1:]


def get_batch(ids, block_size, batch_size, generator=None):
    """batch_size windows of block_size tokens at random places: x, y."""
    if ids.ndim != 1 or len(ids) <= block_size:
        raise ValueError(f"ids must be 1-D and longer than block_size="
                         f"{block_size}, got shape {tuple(ids.shape)}")
    high = len(ids) - block_size
    starts = torch.randint(high, (batch_size,), generator=generator)
    return windows(ids, starts, block_size)


@torch.no_grad()
def estimate_loss(model, ids, *, max_blocks=None, batch_size=256):
    """Mean next-token loss of model over the non-overlapping windows of
    ids, the same windows every call; max_blocks takes only that many,
    evenly spread (a quicker estimate)."""
    T = model.cfg.block_size
    n = (len(ids) - 1) // T
    starts = torch.arange(n) * T  # (n,)
    if max_blocks is not None and max_blocks < n:
        starts = starts[torch.linspace(0, n - 1, max_blocks).long()]
    device, was_training = model.W_E.weight.device, model.training
    model.eval()
    total = 0.0
    for i in range(0, len(starts), batch_size):
        x, y = windows(ids, starts[i:i + batch_size], T)
        total += model(x.to(device), y.to(device))[1].item() * len(x)
    model.train(was_training)
    return total / len(starts)
