"""Generation with a key-value cache, for the book's GPT (chapter 5, "GPT").

``GPT.generate`` runs the whole context through the model for every new
token, although only the last position's logits are used and every earlier
position's keys and values are the same as the step before. A **key-value
cache** keeps each block's keys and values (B, n_head, t, d_head) and, per
new token, computes only that token's query, key and value, appends the key
and value, and attends from the one new query to all cached keys::

    prefill:  the prompt's T tokens, as in GPT.forward     -> cache (.., T, ..)
    step:     one token at position t: embed, for each block
              q, k, v = heads(ln1(x));  K = [K; k];  V = [V; v]
              x = x + W_O softmax(q K^T / sqrt(d_head)) V;  x = x + MLP(..)

The book's GPT has *learned absolute* positions: a token's vector depends on
its place in the window. Once the context is longer than ``block_size``,
``generate`` keeps the last ``block_size`` tokens, every one of them moves
to a new position, and every cached key and value is stale. So the cache is
exact only while the whole text fits the window; models with relative
positions (RoPE, ALiBi) or a longer window are what make long cached
generation possible. :func:`generate_cached` refuses a request that would
slide the window.

Reads the weights of :class:`textbook_utils.lessons.gpt.GPT`; changes nothing in it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from textbook_utils.training.gpt_doors import check_sampling

__all__ = ["flops_per_token", "forward_cached", "generate_cached"]


def forward_cached(model, idx, cache):
    """Logits (B, vocab) for the token after ``idx`` (B, n), whose tokens
    follow the ``t`` tokens already in ``cache`` (a list of one (K, V) pair
    per block, each (B, n_head, t, d_head); empty lists to start). The new
    keys and values are appended to ``cache``."""
    B, n = idx.shape
    t = cache[0][0].shape[2] if cache else 0           # tokens already seen
    pos = torch.arange(t, t + n, device=idx.device)
    x = model.W_E(idx) + model.W_P(pos)                # (B, n, d_model)
    for layer, block in enumerate(model.blocks):
        q, k, v = block.attn.heads(block.ln1(x))       # (B, n_head, n, d_h)
        if len(cache) > layer:
            k = torch.cat([cache[layer][0], k], dim=2)  # (B, n_head, t+n, d_h)
            v = torch.cat([cache[layer][1], v], dim=2)
            cache[layer] = (k, v)
        else:
            cache.append((k, v))
        # query i (at position t + i) sees keys 0 .. t + i
        mask = (torch.arange(t + n, device=idx.device)[None, :]
                <= pos[:, None])                        # (n, t + n)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        out = out.transpose(1, 2).reshape(B, n, -1)     # (B, n, d_model)
        x = x + block.attn.W_O(out)
        x = x + block.mlp(block.ln2(x))
    return model.ln_f(x[:, -1]) @ model.W_E.weight.T   # (B, vocab)


@torch.no_grad()
def generate_cached(model, prompt, max_new_tokens, temperature=1.0,
                    top_k=None, generator=None):
    """``model.generate`` with a key-value cache: the same tokens (the same
    sampling, the same draws from ``generator``), each step one token's work.

    Needs the prompt and the new tokens to fit the window: ``len(prompt) +
    max_new_tokens - 1 <= block_size`` (see the module's docstring)."""
    check_sampling(max_new_tokens, temperature, top_k)
    idx = model.ids(prompt)                            # (B, T)
    longest = idx.shape[1] + max_new_tokens - 1        # context of last step
    if longest > model.cfg.block_size:
        raise ValueError(
            f"{idx.shape[1]} prompt tokens + {max_new_tokens} new ones need "
            f"a context of {longest}, more than block_size "
            f"{model.cfg.block_size}: the window would slide, every learned "
            f"position would change and the cache would be stale")
    was_training = model.training
    model.eval()
    cache = []
    logits = forward_cached(model, idx, cache)         # prefill: (B, V)
    for step in range(max_new_tokens):
        # the same choice as GPT.generate makes, from the same logits
        nxt = model.sample_next(logits, temperature, top_k, generator)
        nxt = nxt.to(idx.device)
        idx = torch.cat([idx, nxt], dim=1)
        if step < max_new_tokens - 1:                  # the last needs none
            logits = forward_cached(model, nxt, cache)
    model.train(was_training)
    if isinstance(prompt, str):
        return model.tokenizer.decode(idx[0].tolist())
    return idx


def flops_per_token(cfg, t, cached):
    """Multiply-adds x 2 to produce the token after a context of ``t``
    tokens, without a cache (the whole context again) or with one (the new
    token only). Counts the matrices and the attention scores and sums;
    leaves out layer norms, softmax and GELU.

    Per position, every matrix costs 2 x its weights: 12 d^2 per block
    (W_QKV 3 d^2, W_O d^2, the MLP 8 d^2) and V d for the unembedding, which
    ``GPT.forward`` applies at every position. Attention from a query at
    position i costs 2 x 2 i d per block (the scores q.k and the weighted
    sum of values over its i keys)."""
    d, L = cfg.d_model, cfg.n_layer
    per_position = 2 * 12 * L * d * d + 2 * cfg.vocab_size * d
    if cached:                          # one new position, t keys
        return per_position + 4 * L * d * t
    # t positions, query i attending to i keys (i = 1 .. t)
    return per_position * t + 4 * L * d * t * (t + 1) // 2
