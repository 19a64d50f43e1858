"""The written-out attention equals PyTorch's fused kernel and obeys the causal mask.

The GPT's multi-head attention is tested against PyTorch's own in tests/test_gpt.py."""

import torch
import torch.nn.functional as F

from textbook_utils.lessons.attention import (SingleHeadAttention, attention,
                                              causal_mask)


def test_written_out_attention_matches_scaled_dot_product_attention():
    g = torch.Generator().manual_seed(0)
    Q, K, V = (torch.randn(3, 4, 17, 8, generator=g) for _ in range(3))  # (batch, heads, T, d_k)
    for causal in (True, False):
        out, A = attention(Q, K, V, causal=causal)
        ref = F.scaled_dot_product_attention(Q, K, V, is_causal=causal)
        assert out.dtype == torch.float32
        assert (out - ref).abs().max().item() < 1e-5


def test_pattern_is_causal_and_rows_sum_to_one():
    g = torch.Generator().manual_seed(1)
    Q, K, V = (torch.randn(2, 9, 5, generator=g) for _ in range(3))
    _, A = attention(Q, K, V)
    assert A.shape == (2, 9, 9)
    assert torch.all(A.triu(diagonal=1) == 0)  # no query sees a later key
    assert torch.allclose(A.sum(-1), torch.ones(2, 9))
    assert torch.allclose(A[:, 0, 0], torch.ones(2))  # the first token can only look at itself


def test_masking_after_softmax_would_break_normalisation():
    scores = torch.randn(6, 6, generator=torch.Generator().manual_seed(2))
    wrong = torch.softmax(scores, -1) * causal_mask(6)
    assert not torch.allclose(wrong.sum(-1), torch.ones(6))


def test_single_head_matches_sdpa_and_has_low_rank_value_map():
    torch.manual_seed(0)
    head = SingleHeadAttention(24, 6)
    x = torch.randn(3, 7, 24)
    delta, A = head(x)
    ref = F.scaled_dot_product_attention(head.W_Q(x), head.W_K(x), head.value_down(x), is_causal=True)
    assert (delta - head.value_up(ref)).abs().max().item() < 1e-5
    W_V = head.value_up.weight @ head.value_down.weight  # (24, 24)
    assert torch.linalg.matrix_rank(W_V).item() == 6


def test_future_tokens_do_not_change_the_past():
    torch.manual_seed(0)
    head = SingleHeadAttention(16, 4)
    x = torch.randn(1, 8, 16)
    y = x.clone()
    y[:, 5:] = torch.randn(1, 3, 16)
    assert torch.allclose(head(x)[0][:, :5], head(y)[0][:, :5], atol=1e-6)
    assert not torch.allclose(head(x)[0][:, 5:], head(y)[0][:, 5:], atol=1e-6)
