"""llm_math reproduces 3Blue1Brown's GPT-3 tally and counts the book's GPT exactly.

Expected numbers come from the GPT-3 paper (Brown et al. 2020, §2.1 and Table 2.1)
and 3Blue1Brown's tally in chapters 5-7 of his series (the constants of his
videos' source, 3b1b/videos `_2024/transformers/ml_basics.py`), multiplied out
by hand — not from the code under test.
"""

import pytest
import torch

from textbook_utils.lessons import llm_math
from textbook_utils.lessons.gpt import GPT, GPTConfig


def test_gpt3_tally_matches_3blue1brown_category_by_category():
    tally = llm_math.gpt3_parameter_tally()
    assert list(tally) == ["embedding", "key", "query", "value", "output", "up", "down", "unembedding"]
    assert tally["embedding"] == tally["unembedding"] == 617_558_016
    for name in ("key", "query", "value", "output"):
        assert tally[name] == 14_495_514_624
    assert tally["up"] == tally["down"] == 57_982_058_496
    assert sum(tally.values()) == 175_181_291_520


def test_left_out_parameters_and_full_counts():
    left = llm_math.parameters_left_out()
    assert left == {"positional": 25_165_824, "biases": 10_616_832, "layer_norm": 4_743_168}
    full = llm_math.gpt_parameter_count(n_vocab=50_257, d_model=12_288, n_layer=96, n_head=96, n_ctx=2_048)
    assert full["total"] == 175_221_817_344
    tied = llm_math.gpt_parameter_count(n_vocab=50_257, d_model=12_288, n_layer=96, n_head=96,
                                        n_ctx=2_048, tied=True)
    assert tied["total"] == 174_604_259_328


def test_pattern_entries():
    assert llm_math.attention_pattern_entries(2_048) == 4_194_304
    assert llm_math.attention_pattern_entries(2_048, n_head=96) == 402_653_184


@pytest.mark.parametrize("bias,tied", [(False, True), (True, True), (True, False), (False, False)])
def test_same_arithmetic_counts_the_books_gpt_exactly(bias, tied):
    cfg = GPTConfig(vocab_size=70, block_size=16, n_layer=2, n_head=4, d_model=32, bias=bias)
    model = GPT(cfg)
    actual = sum(p.numel() for p in model.parameters())
    if not tied:  # an untied model has a separate W_U of the same shape as W_E
        actual += cfg.vocab_size * cfg.d_model
    counted = llm_math.gpt_parameter_count(n_vocab=70, d_model=32, n_layer=2, n_head=4, n_ctx=16,
                                           bias=bias, tied=tied)
    assert counted["total"] == actual


def test_reference_small_gpt_size():
    # nanoGPT's baby Shakespeare model (65 characters, no biases, tied) has 804,096 parameters.
    counted = llm_math.gpt_parameter_count(n_vocab=65, d_model=128, n_layer=4, n_head=4, n_ctx=64,
                                           bias=False, tied=True)
    assert counted["total"] == 804_096
    model = GPT(GPTConfig(vocab_size=65))
    assert sum(p.numel() for p in model.parameters()) == 804_096


def test_gpt3_matrix_count_is_3blue1browns_27938():
    # "just under 28,000 distinct matrices" (chapter 5); the video's source writes 27,938:
    # per head key, query, value-down; per layer one output (the value-ups stapled together),
    # one up, one down; one embedding and one unembedding. By hand:
    L = H = 96
    assert 3 * L * H + L + 2 * L + 2 == 27_938
    counts = llm_math.gpt3_matrix_count()
    assert sum(counts.values()) == 27_938
    assert counts["key"] == counts["query"] == counts["value"] == 9_216 and counts["output"] == 96
    assert sum(llm_math.gpt3_matrix_count(n_layer=2, n_head=3).values()) == 3 * 6 + 2 + 4 + 2


def test_a_misspelt_hyperparameter_is_an_error_not_ignored():
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        llm_math.gpt3_parameter_tally(d_modle=5)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        llm_math.gpt3_matrix_count(layers=5)
