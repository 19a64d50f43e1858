"""The residual stream of the book's GPT, recorded while the model runs.

Chapter "Building the transformer, piece by piece"
(``book/3b1b/05b_building_the_transformer.ipynb``) draws what each block
adds to the stream of vectors and what the unembedding would read from the
stream after each block (the "logit lens"). Nothing here re-implements the
model: forward hooks record what the model's own modules return while its
own ``forward`` runs::

    x_0 = W_E[idx] + W_P[t]                          the stream's start
    for block l = 1 .. n_layer:
        x_l = x_{l-1} + attn_l(...) + mlp_l(...)     what each part adds
    logits = LayerNorm_f(x_L) @ W_E^T
    lens_l = LayerNorm_f(x_l) @ W_E^T                read out early
"""

from __future__ import annotations

import torch

__all__ = ["logit_lens", "record_stream"]


@torch.no_grad()
def record_stream(model, idx):
    """Run the book's GPT on idx (B, T); return a dict of

    - ``stream``: (n_layer + 1, B, T, d) the stream before the first block
      and after each block;
    - ``attn``, ``mlp``: (n_layer, B, T, d) what each block's attention and
      MLP added to it;
    - ``logits``: (B, T, vocab) the model's own output.
    """
    seen = {"stream": [], "attn": [], "mlp": []}

    def keep(key):
        return lambda module, inputs, output: seen[key].append(output)

    def keep_input(module, inputs):  # x_0, as the first block receives it
        seen["stream"].append(inputs[0])

    hooks = [model.blocks[0].register_forward_pre_hook(keep_input)]
    for block in model.blocks:
        hooks += [block.register_forward_hook(keep("stream")),  # x_l
                  block.attn.register_forward_hook(keep("attn")),
                  block.down.register_forward_hook(keep("mlp"))]
    try:
        logits, _ = model(idx)
    finally:
        for h in hooks:
            h.remove()
    record = {key: torch.stack(values) for key, values in seen.items()}
    record["logits"] = logits
    return record


@torch.no_grad()
def logit_lens(model, stream):
    """What the unembedding reads from each depth of the stream:
    (L + 1, B, T, d) -> logits (L + 1, B, T, vocab)."""
    return model.ln_f(stream) @ model.W_E.weight.T
