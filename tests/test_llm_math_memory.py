"""The memory and FLOP calculator of llm_math against numbers published elsewhere.

Expected values come from the papers (ZeRO's 16 bytes per parameter, GPT-3's
training compute, LLaMA-7B's half a mebibyte of KV cache per token) or from
arithmetic done by hand here, never from the code under test.
"""

import math

import pytest

from textbook_utils.lessons import llm_math


def test_weight_memory_per_dtype():
    seven_b = 7_000_000_000
    assert llm_math.weight_memory_bytes(seven_b, "fp32") == 28_000_000_000
    assert llm_math.weight_memory_bytes(seven_b, "bf16") == 14_000_000_000
    assert llm_math.weight_memory_bytes(seven_b, "fp16") == 14_000_000_000
    assert llm_math.weight_memory_bytes(seven_b, "int8") == 7_000_000_000
    assert llm_math.weight_memory_bytes(seven_b, "int4") == 3_500_000_000
    assert llm_math.weight_memory_bytes(3, "int4") == 2  # half a byte each, rounded up


def test_kv_cache_of_a_llama_7b_is_half_a_mebibyte_per_token_in_16_bits():
    # 2 (K, V) x 32 layers x 4096 wide x 2 bytes = 524,288 bytes per token.
    per_token = llm_math.kv_cache_bytes(n_layer=32, d_kv=4096, n_ctx=1)
    assert per_token == 512 * 1024
    full = llm_math.kv_cache_bytes(n_layer=32, d_kv=4096, n_ctx=4096, batch=2, dtype="fp32")
    assert full == 2 * 2 * per_token * 4096


def test_training_memory_is_16_bytes_per_parameter_with_adam_as_in_zero():
    # ZeRO (arXiv:1910.02054, section 3.1): a 1.5B-parameter model needs at least 24 GB.
    parts = llm_math.training_memory_bytes(1_500_000_000)
    assert parts["total"] == 24_000_000_000
    assert parts["total"] == sum(v for k, v in parts.items() if k != "total")
    fp32 = llm_math.training_memory_bytes(10, mixed_precision=False)
    assert fp32 == {"weights": 40, "gradients": 40, "master_weights": 0, "optimizer_state": 80, "total": 160}
    assert llm_math.training_memory_bytes(10, optimizer="sgd", mixed_precision=False)["total"] == 80


def test_training_flops_reproduce_gpt3s_compute_budget():
    # GPT-3 paper, Table D.1: 3.14e23 training FLOPs for 175B parameters on 300B tokens.
    flops = llm_math.training_flops(175_000_000_000, 300_000_000_000)
    assert math.isclose(flops, 3.14e23, rel_tol=0.01)
    assert llm_math.inference_flops_per_token(175_000_000_000) == 350_000_000_000
    # training one token costs three forward passes' worth
    assert llm_math.training_flops(1000, 1) == 3 * llm_math.inference_flops_per_token(1000)


def test_model_table_is_consistent():
    for name, spec in llm_math.MODELS.items():
        assert spec["n_params"] > 10**9 and spec["source"], name
        if spec["d_kv"] is not None:
            kv = llm_math.kv_cache_bytes(n_layer=spec["n_layer"], d_kv=spec["d_kv"], n_ctx=spec["n_ctx"])
            assert 0 < kv < llm_math.weight_memory_bytes(spec["n_params"]), name
    # the GPT-3 entry agrees with the tally's hyperparameters
    gpt3 = llm_math.MODELS["GPT-3 175B"]
    assert gpt3["n_layer"] == llm_math.GPT3["n_layer"]
    assert gpt3["d_kv"] == llm_math.GPT3["n_head"] * llm_math.GPT3["d_head"]


@pytest.mark.parametrize("call, error", [
    (lambda: llm_math.weight_memory_bytes(10, "fp8"), ValueError),
    (lambda: llm_math.training_memory_bytes(10, optimizer="lion"), ValueError),
])
def test_unknown_names_are_rejected(call, error):
    with pytest.raises(error):
        call()
