"""LoRA: starts as the frozen model, computes with W + (alpha / r) B A, trains and saves only A and B."""

import pytest
import torch
from torch import nn

from textbook_utils.lessons import lora as L
from textbook_utils.lessons.gpt import GPT, GPTConfig


def test_a_wrapped_layer_starts_as_the_original_and_computes_with_the_merged_matrix():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    layer = L.LoRALinear(base, r=2, alpha=4.0, generator=torch.Generator().manual_seed(1))
    x = torch.randn(3, 6)
    assert torch.equal(layer(x), base(x))  # B = 0: B A adds nothing
    assert layer.A.shape == (2, 6) and layer.B.shape == (5, 2) and layer.scale == 2.0
    with torch.no_grad():
        layer.B.copy_(torch.arange(10.0).reshape(5, 2))
    # by hand: W + (alpha / r) B A, then an ordinary affine map
    W = base.weight + 2.0 * torch.arange(10.0).reshape(5, 2) @ layer.A
    assert torch.allclose(layer.merged_weight(), W)
    assert torch.allclose(layer(x), x @ W.T + base.bias, atol=1e-5)


def test_add_lora_trains_only_the_low_rank_matrices():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, d_model=16)
    model = GPT(cfg)
    x = torch.randint(11, (4, 8))
    before_logits = model(x)[0].detach()
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    names = L.add_lora(model, r=2)
    # per block: W_QKV (16 -> 48), W_O (16 -> 16), up (16 -> 64), down (64 -> 16)
    assert len(names) == 2 * 4
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 2 * 2 * ((16 + 48) + (16 + 16) + (16 + 64) + (64 + 16))
    assert torch.equal(model(x)[0], before_logits)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    _, loss = model(x, torch.randint(11, (4, 8)))
    loss.backward()
    opt.step()
    after = model.state_dict()
    for k, v in frozen.items():  # every original weight is where it was (now under .base)
        key = k if k in after else k.replace(".weight", ".base.weight").replace(".bias", ".base.bias")
        assert torch.equal(after[key], v), k
    saved = L.lora_state_dict(model)
    assert len(saved) == 2 * len(names) and sum(t.numel() for t in saved.values()) == trainable
    assert any(t.abs().sum() > 0 for k, t in saved.items() if k.endswith(".B"))  # B has moved


def test_add_lora_refuses_a_model_with_nothing_to_adapt():
    with pytest.raises(ValueError, match="no nn.Linear layer"):
        L.add_lora(nn.Sequential(nn.ReLU()))
