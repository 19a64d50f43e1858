"""The book's GPT built up one piece at a time, from a bigram table.

Chapter "Building the transformer, piece by piece"
(``book/3b1b/05b_building_the_transformer.ipynb``) trains every rung of
this ladder with the same recipe and compares their validation losses
(``python -m textbook_utils.runs.buildup_runs``). The path is the one Andrej
Karpathy walks in "Let's build GPT" (2023), built here from the book's own
pieces (:mod:`textbook_utils.lessons.gpt`)::

    bigram           logits = table[idx] + table_P[t]      no context at all
    average          one block: x <- the mean of x over positions 0..t
    one head         one block: x <- one attention head (d_head = d_model)
    four heads       one block: x <- n_head heads side by side
    + MLP            one block: x <- MLP(attention(x))
    four blocks      n_layer such blocks, one after another
    + residual       x <- x + attention(x);  x <- x + MLP(x)
    + layer norm     x <- x + attention(LN(x)); ...; LN before W_U
                     = the book's GPT, weight for weight

Every rung but the bigram reads x = W_E[idx] + W_P[t] and unembeds with
W_E^T (tied), as the book's GPT does; what lies between changes. Each
model inherits :class:`~textbook_utils.lessons.gpt.GPT`'s ``forward``, so the
book's training loop, AdamW and loss apply unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from textbook_utils.lessons.gpt import (GPT, Block, CausalSelfAttention,
                                        GPTConfig)

__all__ = ["RUNGS", "AverageOfPast", "Bigram", "PartBlock", "PartGPT",
           "build"]

#: the ladder: each rung's name and what its model holds; "blocks": 1,
#: or None for the config's n_layer (the book's four)
RUNGS = {
    "bigram": None,
    "average": dict(blocks=1, mixing="average", mlp=False, residual=False,
                    norm=False),
    "one head": dict(blocks=1, mixing="one head", mlp=False,
                     residual=False, norm=False),
    "four heads": dict(blocks=1, mixing="heads", mlp=False, residual=False,
                       norm=False),
    "+ MLP": dict(blocks=1, mixing="heads", mlp=True, residual=False,
                  norm=False),
    "four blocks": dict(blocks=None, mixing="heads", mlp=True,
                        residual=False, norm=False),
    "+ residual": dict(blocks=None, mixing="heads", mlp=True, residual=True,
                       norm=False),
    "+ layer norm": dict(blocks=None, mixing="heads", mlp=True,
                         residual=True, norm=True),
}


class Bigram(GPT):
    """A table of logits: the next character from this one alone.

    W_E holds a row of vocab logits per token, W_P a row per position (what
    the position alone says about the next token); no vector ever sees
    another position. It keeps GPT's names so that the same loop trains it.
    """

    def __init__(self, cfg: GPTConfig):
        nn.Module.__init__(self)
        self.cfg, self.tokenizer = cfg, None
        V = cfg.vocab_size
        self.W_E = nn.Embedding(V, V)  # (V, V): row i, logits after token i
        self.W_P = nn.Embedding(cfg.block_size, V)  # (T, V)
        for p in self.parameters():
            nn.init.normal_(p, std=0.02)  # GPT's start for its matrices

    def forward(self, idx, targets=None):
        logits = self.embed(idx)  # (B, T, V): two rows of the tables
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


class AverageOfPast(nn.Module):
    """Each position gets the mean of the vectors at positions 0..t: an
    attention pattern fixed in advance, with nothing to learn."""

    def forward(self, x):
        T = x.shape[1]  # x: (B, T, d)
        A = torch.tril(torch.ones(T, T, device=x.device))  # (T, T)
        A = A / A.sum(dim=1, keepdim=True)  # row t: 1/(t+1) on 0..t
        return A @ x  # (B, T, d)


class PartBlock(Block):
    """The book's GPT block (``lessons.gpt.Block``) with pieces left out.

    mixing: "average", "one head" or "heads" (cfg.n_head of them); mlp:
    an MLP after the mixing; residual: each part adds to x instead of
    replacing it; norm: a layer norm before each part. All on, it is the
    book's Block (same modules, same names, same order).
    """

    def __init__(self, cfg: GPTConfig, *, mixing, mlp, residual, norm):
        nn.Module.__init__(self)
        d = cfg.d_model
        self.residual, self.has_mlp = residual, mlp
        self.ln1 = nn.LayerNorm(d, bias=cfg.bias) if norm else nn.Identity()
        if mixing == "average":
            self.attn = AverageOfPast()
        elif mixing == "one head":
            self.attn = CausalSelfAttention(replace(cfg, n_head=1))
        else:
            self.attn = CausalSelfAttention(cfg)
        if mlp:
            self.ln2 = (nn.LayerNorm(d, bias=cfg.bias) if norm
                        else nn.Identity())
            self.up = nn.Linear(d, 4 * d, bias=cfg.bias)  # (4d, d)
            self.down = nn.Linear(4 * d, d, bias=cfg.bias)  # (d, 4d)

    def forward(self, x):
        a = self.attn(self.ln1(x))  # (B, T, d_model)
        x = x + a if self.residual else a
        if self.has_mlp:
            m = self.mlp(self.ln2(x))  # Block.mlp: down(gelu(up(.)))
            x = x + m if self.residual else m
        return x  # (B, T, d_model)


class PartGPT(GPT):
    """The book's GPT with :class:`PartBlock` blocks; GPT's forward."""

    def __init__(self, cfg: GPTConfig, *, blocks=None, **pieces):
        nn.Module.__init__(self)
        self.cfg, self.tokenizer = cfg, None
        d, n_blocks = cfg.d_model, blocks or cfg.n_layer
        self.W_E = nn.Embedding(cfg.vocab_size, d)  # a row per token
        self.W_P = nn.Embedding(cfg.block_size, d)  # a row per position
        self.blocks = nn.ModuleList(PartBlock(cfg, **pieces)
                                    for _ in range(n_blocks))
        norm = pieces["norm"]
        self.ln_f = nn.LayerNorm(d, bias=cfg.bias) if norm else nn.Identity()
        deep = 0.02 / math.sqrt(2 * cfg.n_layer)
        for name, p in self.named_parameters():
            if p.dim() < 2:
                continue
            if pieces["residual"] or "blocks." not in name:
                # GPT's start, as in gpt.GPT: N(0, 0.02), the two maps
                # that write into x smaller by sqrt(2 n_layer)
                last = name.endswith(("W_O.weight", "down.weight"))
                nn.init.normal_(p, std=deep if last else 0.02)
            else:
                # without residuals each block must pass x on at its own
                # scale, or the blocks shrink it (and its gradient) to
                # nothing: std 1/sqrt(fan_in) keeps the variance
                nn.init.normal_(p, std=p.shape[1] ** -0.5)


def build(rung: str, cfg: GPTConfig) -> GPT:
    """The model of one rung of :data:`RUNGS`, freshly initialised."""
    if rung not in RUNGS:
        raise ValueError(f"rung must be one of {list(RUNGS)}: {rung!r}")
    if not isinstance(cfg, GPTConfig):
        raise TypeError(f"cfg must be a GPTConfig, not {type(cfg)}")
    if RUNGS[rung] is None:
        return Bigram(cfg)
    return PartGPT(cfg, **RUNGS[rung])
