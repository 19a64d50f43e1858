"""The doors of the GPT, checked where a reader or a program comes in.

:mod:`textbook_utils.lessons.gpt` is the model a chapter prints whole, so it
holds the math only. What comes in from outside is checked here: a model's
shape (:func:`check_config`, which the checkpoint loader and the runs call),
a prompt (:func:`prompt_ids`, text or ids, behind ``GPT.ids``) and the
settings of sampling (:func:`check_sampling`, once at the top of
``GPT.generate`` and of ``kv_cache.generate_cached``).
"""

from __future__ import annotations

import math

import torch

from textbook_utils.tools.checks import non_negative_int, positive_int

__all__ = ["check_config", "check_sampling", "prompt_ids"]


def check_config(cfg):
    """``cfg`` (a GPTConfig) if every size is a positive integer and d_model
    splits evenly into n_head heads; a ValueError naming the field else."""
    for name in ("vocab_size", "block_size", "n_layer", "n_head", "d_model"):
        positive_int(getattr(cfg, name), name)
    if cfg.d_model % cfg.n_head:
        raise ValueError(f"d_model ({cfg.d_model}) must be a multiple "
                         f"of n_head ({cfg.n_head})")
    return cfg


def prompt_ids(model, prompt):
    """A prompt (text, or a (B, T) id tensor) as ids on ``model``'s device:
    text needs the model's tokenizer, of the model's vocabulary size; ids
    need at least one token per row."""
    if isinstance(prompt, str):
        if model.tokenizer is None:
            raise ValueError("this model has no tokenizer: give it ids")
        if model.tokenizer.vocab_size != model.cfg.vocab_size:
            raise ValueError(f"the tokenizer has {model.tokenizer.vocab_size}"
                             f" tokens, cfg.vocab_size is "
                             f"{model.cfg.vocab_size}")
        prompt = torch.tensor([model.tokenizer.encode(prompt)],
                              dtype=torch.long)  # (1, T)
    if not torch.is_tensor(prompt) or prompt.dim() != 2 \
            or prompt.shape[1] == 0:
        got = getattr(prompt, "shape", prompt)
        raise ValueError("prompt must be non-empty text or a (B, T) "
                         f"id tensor, got {got}")
    return prompt.to(model.W_E.weight.device)


def check_sampling(max_new_tokens, temperature, top_k):
    """How many tokens to sample (a whole number >= 0), at what temperature
    (0, the argmax, or in [1e-30, inf): smaller ones overflow the logits)
    and among how many of the largest logits (None, all, or >= 1)."""
    if not (temperature == 0 or 1e-30 <= temperature < math.inf):
        raise ValueError("temperature must be 0 (the argmax) or in "
                         f"[1e-30, inf), got {temperature}")
    non_negative_int(max_new_tokens, "max_new_tokens")
    if top_k is not None:
        positive_int(top_k, "top_k")
