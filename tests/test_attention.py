"""The written-out attention equals PyTorch's fused kernel and obeys the causal mask."""

import pytest
import torch
import torch.nn.functional as F

from textbook_utils.attention import MultiHeadAttention, SingleHeadAttention, attention, causal_mask


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


def test_multi_head_written_and_fused_paths_agree():
    torch.manual_seed(0)
    mha = MultiHeadAttention(32, 4, fused=True)
    x = torch.randn(2, 11, 32)
    fused = mha(x)
    written, A = mha(x, return_pattern=True)
    assert A.shape == (2, 4, 11, 11)
    assert (fused - written).abs().max().item() < 1e-5
    # and both equal PyTorch's own multi-head attention with the same weights
    ref = torch.nn.MultiheadAttention(32, 4, bias=False, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(mha.W_QKV.weight)
        ref.out_proj.weight.copy_(mha.W_O.weight)
    expected, _ = ref(x, x, x, attn_mask=~causal_mask(11), need_weights=False)
    assert (written - expected).abs().max().item() < 1e-5


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
    mha = MultiHeadAttention(16, 2, fused=False)
    x = torch.randn(1, 8, 16)
    y = x.clone()
    y[:, 5:] = torch.randn(1, 3, 16)
    assert torch.allclose(mha(x)[:, :5], mha(y)[:, :5], atol=1e-6)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="positive"):
        SingleHeadAttention(0, 4)
    with pytest.raises(ValueError, match="shape"):
        MultiHeadAttention(8, 2)(torch.randn(4, 8))
    with pytest.raises(TypeError, match="floating"):
        attention(torch.ones(2, 2, dtype=torch.long), torch.ones(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="d_k"):
        attention(torch.ones(3, 2), torch.ones(3, 4), torch.ones(3, 4))
    with pytest.raises(ValueError):
        causal_mask(-1)
