"""Arithmetic of large language models: counting parameters.

Used in chapters "GPT: what a transformer does" (``book/3b1b/05_gpt.ipynb``),
"Attention in transformers" (``06_attention.ipynb``) and "How might MLPs store
facts" (``07_mlps_store_facts.ipynb``).

Every count is a product of a model's hyperparameters, written as one small
named function per kind of matrix so that a chapter can show each step:

- :func:`gpt3_parameter_tally` reproduces 3Blue1Brown's eight categories for
  GPT-3 (total 175,181,291,520);
- :func:`parameters_left_out` counts what that tally leaves out (positional
  embeddings, biases, layer norms);
- :func:`gpt_parameter_count` applies the same arithmetic to any GPT-2-style
  model, including the book's small GPT, and matches PyTorch's own count;
- :func:`gpt3_matrix_count` counts the *matrices* those weights sit in, the
  video's "just under 28,000" (27,938).

These are arithmetic: they check only what a reader is likely to get wrong
(an unknown hyperparameter's name, an unknown number format).

GPT-3's hyperparameters are those of Brown et al. 2020 (arXiv:2005.14165,
Table 2.1 and §2.1) with GPT-2's 50,257-token vocabulary.
"""

from __future__ import annotations

__all__ = ["GPT3", "attention_pattern_entries", "embedding_parameters", "gpt3_parameter_tally",
           "gpt3_matrix_count", "gpt_parameter_count", "head_parameters", "mlp_parameters",
           "parameters_left_out"]

#: GPT-3 175B: Brown et al. 2020 (arXiv:2005.14165) §2.1 and Table 2.1; the vocabulary
#: is GPT-2's (Radford et al. 2019, §2.3)
GPT3 = {"n_vocab": 50_257, "d_model": 12_288, "n_layer": 96, "n_head": 96, "d_head": 128,
        "d_ff": 49_152, "n_ctx": 2_048}


def embedding_parameters(n_vocab: int, d_model: int) -> int:
    """Entries of W_E (d_model x n_vocab); W_U has the same number."""
    return n_vocab * d_model


def head_parameters(d_model: int, d_head: int) -> int:
    """Entries of one of a head's four maps: key, query, value-down (d_head x d_model)
    or value-up (d_model x d_head)."""
    return d_head * d_model


def mlp_parameters(d_model: int, d_ff: int) -> int:
    """Entries of one MLP matrix: up-projection (d_ff x d_model) or down (d_model x d_ff)."""
    return d_ff * d_model


def attention_pattern_entries(n_ctx: int, n_head: int = 1) -> int:
    """Entries of the attention pattern(s): n_ctx^2 per head."""
    return n_ctx * n_ctx * n_head


def _hyper(overrides: dict) -> dict:
    unknown = set(overrides) - set(GPT3)
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {sorted(unknown)}; expected some of {sorted(GPT3)}")
    hp = {**GPT3, **overrides}
    return hp


def gpt3_parameter_tally(**overrides) -> dict[str, int]:
    """3Blue1Brown's eight categories of GPT-3's weights, in his order.

    Keys: ``embedding``, ``key``, ``query``, ``value``, ``output``, ``up``,
    ``down``, ``unembedding``. Any hyperparameter of :data:`GPT3` may be
    overridden by keyword to tally another model the same way. The total is
    ``sum(tally.values())``.
    """
    hp = _hyper(overrides)
    L, H = hp["n_layer"], hp["n_head"]
    per_head = head_parameters(hp["d_model"], hp["d_head"])
    per_mlp = mlp_parameters(hp["d_model"], hp["d_ff"])
    embed = embedding_parameters(hp["n_vocab"], hp["d_model"])
    return {"embedding": embed, "key": per_head * H * L, "query": per_head * H * L,
            "value": per_head * H * L, "output": per_head * H * L,
            "up": per_mlp * L, "down": per_mlp * L, "unembedding": embed}


def gpt3_matrix_count(**overrides) -> dict[str, int]:
    """How many distinct weight matrices hold the tally's weights, by kind.

    3Blue1Brown says GPT-3's weights are "organized into just under 28,000
    distinct matrices" (chapter 5; his animation's source writes 27,938).
    The count that gives exactly that: every head has its own key, query and
    value(-down) matrix, while the heads' value-up maps of one layer are
    stapled together into one output matrix (as he shows in chapter 6), and
    each layer has one up- and one down-projection; plus the embedding and
    the unembedding. Counting each head's value-up map on its own instead
    would give 4·96·96 + 2·96 + 2 = 37,058.
    """
    hp = _hyper(overrides)
    L, H = hp["n_layer"], hp["n_head"]
    return {"embedding": 1, "key": L * H, "query": L * H, "value": L * H, "output": L,
            "up": L, "down": L, "unembedding": 1}


def parameters_left_out(*, bias: bool = True, **overrides) -> dict[str, int]:
    """What the eight-category tally leaves out, for a GPT-2-style block.

    ``positional``: learned position embeddings (n_ctx x d_model);
    ``biases``: per layer 3·d (query, key, value) + d (output) + d_ff (up) + d
    (down), all zero when ``bias=False``; ``layer_norm``: a gain (and a bias
    if ``bias``) for the two layer norms of every block and the final one.
    """
    hp = _hyper(overrides)
    d, L = hp["d_model"], hp["n_layer"]
    per_norm = 2 * d if bias else d
    return {"positional": hp["n_ctx"] * d,
            "biases": (3 * d + d + hp["d_ff"] + d) * L if bias else 0,
            "layer_norm": (2 * L + 1) * per_norm}


def gpt_parameter_count(*, n_vocab: int, d_model: int, n_layer: int, n_head: int, n_ctx: int,
                        d_ff: int | None = None, bias: bool = True, tied: bool = False) -> dict[str, int]:
    """Every parameter of a GPT-2-style model by category, plus ``total``.

    The eight categories of :func:`gpt3_parameter_tally` (with
    ``unembedding`` = 0 when ``tied``, i.e. W_U = W_E^T as in GPT-2 and the
    book's small GPT) and the three of :func:`parameters_left_out`.
    ``d_head`` is ``d_model // n_head``.
    """
    assert d_model % n_head == 0, f"d_model ({d_model}) must be divisible by n_head ({n_head})"
    hp = dict(n_vocab=n_vocab, d_model=d_model, n_layer=n_layer, n_head=n_head,
              d_head=d_model // n_head, d_ff=4 * d_model if d_ff is None else d_ff, n_ctx=n_ctx)
    counts = {**gpt3_parameter_tally(**hp), **parameters_left_out(bias=bias, **hp)}
    if tied:
        counts["unembedding"] = 0
    counts["total"] = sum(counts.values())
    return counts


# --------------------------------------------------------------------------- memory and FLOPs
# Chapter "The landscape" (``book/questions/01_the_landscape.ipynb``): "will it
# run on my laptop?" Weights, KV cache and optimizer state are counted in
# bytes; activations (which depend on batch and sequence length) are not.

#: bits per stored number (int8/int4 ignore the small overhead of quantisation scales)
BITS_PER_PARAM = {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "int4": 4}

#: published sizes and the architecture numbers the KV cache needs. ``d_kv`` is
#: n_kv_heads x d_head (= d_model without grouped-query attention); ``None``
#: where the cited paper does not give it.
MODELS = {
    "GPT-2 1.5B": {"n_params": 1_542_000_000, "n_layer": 48, "d_kv": 1_600, "n_ctx": 1_024,
                   "source": "Radford et al. 2019, Table 2 (1542M, 48 layers, d_model 1600), §2.3 (context 1024)"},
    "Llama 2 7B": {"n_params": 7_000_000_000, "n_layer": 32, "d_kv": 4_096, "n_ctx": 4_096,
                   "source": "Touvron et al. 2023b, arXiv:2307.09288, Table 1; layers and width as "
                             "LLaMA 7B, Touvron et al. 2023a, arXiv:2302.13971, Table 2"},
    "Mistral 7B": {"n_params": 7_000_000_000, "n_layer": 32, "d_kv": 1_024, "n_ctx": 8_192,
                   "source": "Jiang et al. 2023, arXiv:2310.06825, Table 1 (8 KV heads of 128)"},
    "OLMo 7B": {"n_params": 7_000_000_000, "n_layer": 32, "d_kv": 4_096, "n_ctx": 2_048,
                "source": "Groeneveld et al. 2024, arXiv:2402.00838, Table 1"},
    "Llama 2 13B": {"n_params": 13_000_000_000, "n_layer": 40, "d_kv": 5_120, "n_ctx": 4_096,
                    "source": "Touvron et al. 2023b, Table 1; layers and width as LLaMA 13B, "
                              "Touvron et al. 2023a, Table 2"},
    "Llama 2 70B": {"n_params": 70_000_000_000, "n_layer": None, "d_kv": None, "n_ctx": 4_096,
                    "source": "Touvron et al. 2023b, Table 1 (grouped-query attention; KV width not "
                              "tabulated there, so no KV cache here)"},
    "GPT-3 175B": {"n_params": 175_000_000_000, "n_layer": 96, "d_kv": 12_288, "n_ctx": 2_048,
                   "source": "Brown et al. 2020, arXiv:2005.14165, Table 2.1 and §2.1"},
}


def _bits(dtype: str) -> int:
    if dtype not in BITS_PER_PARAM:
        raise ValueError(f"dtype must be one of {sorted(BITS_PER_PARAM)}, got {dtype!r}")
    return BITS_PER_PARAM[dtype]


def weight_memory_bytes(n_params: int, dtype: str = "bf16") -> int:
    """Bytes to hold ``n_params`` weights stored as ``dtype`` (fp32, fp16, bf16, int8, int4)."""
    return -(-n_params * _bits(dtype) // 8)  # ceiling: two int4 weights share a byte


def kv_cache_bytes(*, n_layer: int, d_kv: int, n_ctx: int, batch: int = 1, dtype: str = "bf16") -> int:
    """Bytes of the key/value cache: a key and a value vector of width ``d_kv``
    (n_kv_heads x d_head) per layer, per token of context, per sequence."""
    return 2 * n_layer * n_ctx * d_kv * batch * _bits(dtype) // 8


def training_memory_bytes(n_params: int, *, optimizer: str = "adam", mixed_precision: bool = True) -> dict[str, int]:
    """Bytes of weights, gradients and optimizer state for training (activations excluded).

    Adam keeps two fp32 moments per weight (8 bytes). In mixed precision
    the weights and gradients are 16-bit and an fp32 master copy is kept:
    2 + 2 + 4 + 8 = 16 bytes per parameter (Rajbhandari et al. 2020,
    arXiv:1910.02054, §3.1); in plain fp32, 4 + 4 + 8 = 16 as well. Plain
    SGD (no momentum) keeps no state.
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    w = 2 if mixed_precision else 4
    parts = {"weights": w * n_params, "gradients": w * n_params,
             "master_weights": 4 * n_params if mixed_precision else 0,
             "optimizer_state": 8 * n_params if optimizer == "adam" else 0}
    parts["total"] = sum(parts.values())
    return parts


def training_flops(n_params: int, n_tokens: int) -> int:
    """C ~ 6 N D: 2 N multiply-adds forward and 4 N backward per training token
    (Kaplan et al. 2020, arXiv:2001.08361, §2.1; attention's context term ignored)."""
    return 6 * n_params * n_tokens


def inference_flops_per_token(n_params: int) -> int:
    """~ 2 N: one multiply and one add per weight for each generated token."""
    return 2 * n_params


__all__ += ["BITS_PER_PARAM", "MODELS", "inference_flops_per_token", "kv_cache_bytes", "training_flops",
            "training_memory_bytes", "weight_memory_bytes"]
