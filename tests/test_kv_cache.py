"""The key-value cache (chapter 5) gives GPT.generate's tokens, and its cost model adds up."""

import pytest
import torch

from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.lessons.kv_cache import (flops_per_token, forward_cached,
                                     generate_cached)


def small_gpt(block_size=24, seed=0):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=11, block_size=block_size, n_layer=2,
                         n_head=2, d_model=16)).eval()


def test_prefill_and_steps_give_the_full_forward_pass_logits():
    model = small_gpt()
    idx = torch.randint(0, 11, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(idx)[0]                            # (2, 20, 11)
        cache = []
        logits = [forward_cached(model, idx[:, :7], cache)]   # prefill 7
        for t in range(7, 20):                          # then one at a time
            logits.append(forward_cached(model, idx[:, t:t + 1], cache))
    assert len(cache) == 2 and cache[0][0].shape == (2, 2, 20, 8)
    got = torch.stack(logits, dim=1)                    # positions 6 .. 19
    assert (got - full[:, 6:]).abs().max().item() < 1e-5


@pytest.mark.parametrize("temperature, top_k", [(0, None), (1.0, None), (0.8, 3)])
def test_the_same_tokens_as_generate(temperature, top_k):
    model = small_gpt()
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])       # (B, T): ids in, ids out
    kw = dict(temperature=temperature, top_k=top_k)
    plain = model.generate(prompt, 22, generator=torch.Generator().manual_seed(5), **kw)
    cached = generate_cached(model, prompt, 22, generator=torch.Generator().manual_seed(5), **kw)
    assert plain.shape == cached.shape == (2, 25)
    assert torch.equal(plain, cached)


def test_refuses_a_window_that_would_slide():
    model = small_gpt(block_size=8)
    generate_cached(model, torch.tensor([[1, 2, 3]]), 6)  # context 8: fits
    with pytest.raises(ValueError, match="window would slide"):
        generate_cached(model, torch.tensor([[1, 2, 3]]), 7)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate_cached(model, torch.tensor([[1]]), -1)
    prompt = torch.tensor([[1, 2]])  # no new tokens: the prompt, as generate
    assert torch.equal(generate_cached(model, prompt, 0), prompt)
    assert torch.equal(model.generate(prompt, 0), prompt)


def test_cost_model_matches_the_weights_and_adds_up():
    cfg = GPTConfig(vocab_size=65, block_size=64)
    model = GPT(cfg)
    # the matrices of the blocks, counted from the model's own tensors
    block_weights = sum(p.numel() for n, p in model.named_parameters()
                        if n.startswith("blocks") and p.dim() == 2)
    per_position = 2 * block_weights + 2 * 65 * 128
    assert flops_per_token(cfg, 1, cached=True) == per_position + 4 * 4 * 128
    # one token: nothing to reuse
    assert flops_per_token(cfg, 1, cached=False) == flops_per_token(cfg, 1, cached=True)
    # without a cache, step t redoes every cached step 1 .. t
    for t in (2, 17, 64):
        redo = sum(flops_per_token(cfg, i, cached=True) for i in range(1, t + 1))
        assert flops_per_token(cfg, t, cached=False) == redo
