"""The book's GPT: a small character-level transformer, the whole model.

Chapter "GPT: what a transformer does" (``book/3b1b/05_gpt.ipynb``) shows
this file and walks through it; chapters "Attention in transformers" and
"How might MLPs store facts" look inside a trained copy. The design is
GPT-2's (Radford et al. 2019), shrunk, in the layout of nanoGPT::

    idx (B, T) -> x = W_E[idx] + W_P[0, 1, ..., T-1]          (B, T, d_model)
    n_layer blocks:  x = x + attention(LayerNorm(x))
                     x = x + MLP(LayerNorm(x))                (B, T, d_model)
    logits = LayerNorm(x) @ W_E^T   (W_U = W_E^T, tied)       (B, T, vocab)

B sequences of T tokens (T <= block_size). Data, training and checkpoints
live in ``gpt_data``, ``gpt_training`` and ``gpt_checkpoint``; the command
line is ``python -m textbook_utils.commands.train_gpt``. What comes in from
outside (a shape, a prompt, sampling settings) is checked at the doors, in
:mod:`textbook_utils.training.gpt_doors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from textbook_utils.lessons.attention import attention
from textbook_utils.training.gpt_doors import check_sampling, prompt_ids

__all__ = ["GPT", "GPTConfig", "Block", "CausalSelfAttention"]


@dataclass
class GPTConfig:
    """The model's shape; the defaults are the book's GPT."""

    vocab_size: int  # tokens it reads and predicts: 65 characters
    block_size: int = 64  # context: the most tokens it can look at
    n_layer: int = 4  # blocks
    n_head: int = 4  # attention heads per block
    d_model: int = 128  # numbers per token vector
    bias: bool = False  # biases in linear maps and layer norms?


class CausalSelfAttention(nn.Module):
    """n_head heads side by side; W_QKV makes every head's Q, K and V."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        d = cfg.d_model
        self.n_head, self.d_head = cfg.n_head, d // cfg.n_head
        self.W_QKV = nn.Linear(d, 3 * d, bias=cfg.bias)  # (3d, d) weight
        self.W_O = nn.Linear(d, d, bias=cfg.bias)  # value-up maps, stacked

    def heads(self, x):
        """Queries, keys, values of every head: each (B, n_head, T, d_head)."""
        B, T, _ = x.shape
        qkv = self.W_QKV(x).view(B, T, 3, self.n_head, self.d_head)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)

    def pattern(self, x):
        """Each head's pattern A (B, n_head, T, T), written out (chapter 6)."""
        Q, K, V = self.heads(x)
        return attention(Q, K, V, causal=True)[1]

    def forward(self, x):
        B, T, d = x.shape  # (B, T, d_model)
        Q, K, V = self.heads(x)  # (B, n_head, T, d_head) each
        # softmax(Q K^T / sqrt(d_head) + causal mask) V, one fused kernel:
        out = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
        out = out.transpose(1, 2).reshape(B, T, d)  # heads side by side
        return self.W_O(out)  # (B, T, d_model)


class Block(nn.Module):
    """Attention, then an MLP, each adding its result to x."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        d = cfg.d_model
        self.ln1 = nn.LayerNorm(d, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(d, bias=cfg.bias)
        self.up = nn.Linear(d, 4 * d, bias=cfg.bias)  # (4d, d): the neurons
        self.down = nn.Linear(4 * d, d, bias=cfg.bias)  # (d, 4d)

    def mlp(self, x):
        return self.down(F.gelu(self.up(x)))  # (B, T, d) via (B, T, 4d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))  # tokens exchange information
        x = x + self.mlp(self.ln2(x))  # each token on its own
        return x  # (B, T, d_model)


class GPT(nn.Module):
    """The character-level GPT; given a tokenizer it also reads text."""

    def __init__(self, cfg: GPTConfig, tokenizer=None):
        super().__init__()
        self.cfg, self.tokenizer = cfg, tokenizer
        d = cfg.d_model
        self.W_E = nn.Embedding(cfg.vocab_size, d)  # a row per token
        self.W_P = nn.Embedding(cfg.block_size, d)  # a row per position
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(d, bias=cfg.bias)
        # GPT-2's start: matrices N(0, 0.02); the two that write into x
        # (W_O, down) smaller by sqrt(2 n_layer), so depth does not grow x
        deep = 0.02 / math.sqrt(2 * cfg.n_layer)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                last = name.endswith(("W_O.weight", "down.weight"))
                nn.init.normal_(p, std=deep if last else 0.02)

    def embed(self, idx):
        """Token plus position: (B, T) ids -> (B, T, d_model)."""
        T = idx.shape[1]
        assert T <= self.cfg.block_size, f"{T} tokens exceed the context"
        return self.W_E(idx) + self.W_P(torch.arange(T, device=idx.device))

    def forward(self, idx, targets=None):
        """Logits (B, T, vocab) for the token after each position of idx
        (B, T), and the mean cross-entropy against targets (B, T)."""
        x = self.embed(idx)  # (B, T, d_model)
        for block in self.blocks:
            x = block(x)  # (B, T, d_model)
        logits = self.ln_f(x) @ self.W_E.weight.T  # (B, T, vocab)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    def ids(self, prompt):
        """A prompt (text, or a (B, T) id tensor) as ids on our device,
        checked at the door (text needs our tokenizer)."""
        return prompt_ids(self, prompt)

    @torch.no_grad()
    def next_token_logits(self, prompt):
        """Logits (vocab,) for the token after prompt's last block_size."""
        idx = self.ids(prompt)[:1, -self.cfg.block_size:]
        return self(idx)[0][0, -1]

    @torch.no_grad()
    def attention_patterns(self, prompt):
        """Every head's pattern on prompt: (n_layer, n_head, T, T)."""
        x = self.embed(self.ids(prompt)[:1, -self.cfg.block_size:])
        patterns = []
        for block in self.blocks:
            patterns.append(block.attn.pattern(block.ln1(x))[0])
            x = block(x)
        return torch.stack(patterns)

    @staticmethod
    def sample_next(logits, temperature=1.0, top_k=None, generator=None):
        """The next token ids (B, 1) from the last position's logits (B, V):
        sampled from softmax(logits / temperature) among the top_k largest,
        or the argmax when temperature is 0."""
        if top_k is not None:
            kth = logits.topk(min(top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, -math.inf)
        if temperature == 0:
            return logits.argmax(-1, keepdim=True)  # (B, 1)
        p = torch.softmax(logits / temperature, dim=-1)  # (B, V)
        return torch.multinomial(p.cpu(), 1, generator=generator)

    @torch.no_grad()
    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None,
                 generator=None):
        """Continue prompt by max_new_tokens tokens, each sampled from
        softmax(logits / temperature) and fed back in; temperature 0 takes
        the argmax, top_k keeps the k largest logits. Text in, text out."""
        check_sampling(max_new_tokens, temperature, top_k)
        idx, was_training = self.ids(prompt), self.training
        self.eval()
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.cfg.block_size:])[0][:, -1]  # (B, V)
            nxt = self.sample_next(logits, temperature, top_k, generator)
            idx = torch.cat([idx, nxt.to(idx.device)], dim=1)
        self.train(was_training)
        if isinstance(prompt, str):
            return self.tokenizer.decode(idx[0].tolist())
        return idx
