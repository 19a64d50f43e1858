"""The GPT model: shapes, parameter count, attention against PyTorch's own, causality, generation."""

import math

import pytest
import torch

from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_doors import check_config
from textbook_utils.lessons.tokenizers import CharTokenizer

TEXT = "to be or not to be, that is the question. " * 40


def test_the_book_gpt_has_nanogpts_parameter_count():
    # nanoGPT's shakespeare-char model at its CPU settings: 65 characters, context 64,
    # 4 layers, 4 heads, 128 wide, no biases, W_U tied to W_E. Counted by hand:
    V, T, L, d = 65, 64, 4, 128
    per_block = 3 * d * d + d * d + 4 * d * d + 4 * d * d + 2 * d  # W_QKV, W_O, up, down, 2 LN gains
    by_hand = V * d + T * d + L * per_block + d  # + the final layer norm's gain
    assert by_hand == 804_096
    model = GPT(GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=4, d_model=d))
    assert sum(p.numel() for p in model.parameters()) == by_hand


def test_forward_shapes_and_initial_loss(small):
    idx = torch.randint(0, small.cfg.vocab_size, (3, 16))
    targets = torch.randint(0, small.cfg.vocab_size, (3, 16))
    logits, loss = small(idx, targets)
    assert logits.shape == (3, 16, small.cfg.vocab_size)
    assert small(idx)[1] is None
    # an untrained model is close to uniform: loss near ln(vocab)
    assert abs(loss.item() - math.log(small.cfg.vocab_size)) < 0.3


def test_attention_matches_pytorchs_multi_head_attention(small):
    attn = small.blocks[0].attn
    d, T = small.cfg.d_model, 11
    x = torch.randn(2, T, d)
    ref = torch.nn.MultiheadAttention(d, small.cfg.n_head, bias=False, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(attn.W_QKV.weight)
        ref.out_proj.weight.copy_(attn.W_O.weight)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = may not look
    expected, weights = ref(x, x, x, attn_mask=future, average_attn_weights=False)
    assert (attn(x) - expected).abs().max().item() < 1e-5  # the fused path
    assert (attn.pattern(x) - weights).abs().max().item() < 1e-5  # the written-out pattern


def test_predictions_do_not_depend_on_future_tokens(small):
    idx = torch.randint(0, small.cfg.vocab_size, (1, 12))
    changed = idx.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % small.cfg.vocab_size
    assert torch.allclose(small(idx)[0][:, :8], small(changed)[0][:, :8], atol=1e-5)
    assert not torch.allclose(small(idx)[0][:, 8:], small(changed)[0][:, 8:], atol=1e-5)


def test_attention_patterns_are_causal_distributions(small):
    A = small.attention_patterns("to be or not")
    assert A.shape == (2, 2, 12, 12)
    assert torch.all(A.triu(1) == 0)
    assert torch.allclose(A.sum(-1), torch.ones(2, 2, 12), atol=1e-5)


def test_next_token_logits_are_the_last_positions(small):
    logits = small.next_token_logits("to be or")
    idx = torch.tensor([small.tokenizer.encode("to be or")])
    assert torch.equal(logits, small(idx)[0][0, -1])


def test_generate_text_and_temperature(small):
    out = small.generate("to be", 20, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert out.startswith("to be") and len(out) == len("to be") + 20
    greedy = [small.generate("to be", 10, temperature=0) for _ in range(2)]
    assert greedy[0] == greedy[1]  # T = 0 is argmax: no randomness
    logits = small.next_token_logits("to be")
    assert greedy[0][5] == small.tokenizer.chars[logits.argmax().item()]
    top1 = small.generate("to be", 10, temperature=1.5, top_k=1, generator=torch.Generator().manual_seed(3))
    assert top1 == greedy[0]  # keeping only the top token is greedy too
    ids = small.generate(torch.zeros(2, 3, dtype=torch.long), 4)
    assert ids.shape == (2, 7)
    long = small.generate("to be", 30, temperature=0)  # beyond the 16-token context: a sliding window
    assert len(long) == 35
    assert small.training  # generate leaves the mode as it found it


def test_bad_input_is_rejected(small):
    # a shape from outside (a checkpoint) is checked at its door
    with pytest.raises(ValueError, match="multiple of n_head"):
        check_config(GPTConfig(vocab_size=10, d_model=30, n_head=4))
    with pytest.raises(ValueError, match="positive"):
        check_config(GPTConfig(vocab_size=0))
    # the model's constructor is math only; a tokenizer that does not fit
    # is refused where text comes in
    with pytest.raises(ValueError, match="tokenizer has"):
        GPT(GPTConfig(vocab_size=10), CharTokenizer("abc")).generate("ab", 1)
    with pytest.raises(ValueError, match="temperature"):
        small.generate("to", 3, temperature=-1)
    with pytest.raises(ValueError, match="tokenizer"):
        GPT(small.cfg).generate("to", 3)
    with pytest.raises(ValueError, match="not one of"):
        small.generate("to be?", 3)  # '?' is not in TEXT
