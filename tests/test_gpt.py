"""The character-level GPT: shapes, causality, generation, training and checkpoints."""

import math

import pytest
import torch

from textbook_utils import gpt
from textbook_utils.gpt import GPT, GPTConfig, TrainConfig
from textbook_utils.tokenizers import CharTokenizer

TEXT = "to be or not to be, that is the question. " * 40


@pytest.fixture()
def small():
    torch.manual_seed(0)
    tok = CharTokenizer.train(TEXT)
    return GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=16, n_layer=2, n_head=2, d_model=32), tok)


def test_forward_shapes_and_initial_loss(small):
    idx = torch.randint(0, small.cfg.vocab_size, (3, 16))
    targets = torch.randint(0, small.cfg.vocab_size, (3, 16))
    logits, loss = small(idx, targets)
    assert logits.shape == (3, 16, small.cfg.vocab_size)
    # an untrained model is close to uniform: loss near ln(vocab)
    assert abs(loss.item() - math.log(small.cfg.vocab_size)) < 0.3


def test_fused_and_written_out_attention_give_the_same_logits(small):
    idx = torch.randint(0, small.cfg.vocab_size, (2, 16))
    fused = small(idx)[0]
    for block in small.blocks:
        block.attn.fused = False
    assert (fused - small(idx)[0]).abs().max().item() < 1e-4


def test_predictions_do_not_depend_on_future_tokens(small):
    idx = torch.randint(0, small.cfg.vocab_size, (1, 12))
    changed = idx.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % small.cfg.vocab_size
    assert torch.allclose(small(idx)[0][:, :8], small(changed)[0][:, :8], atol=1e-5)


def test_attention_patterns_are_causal_distributions(small):
    A = small.attention_patterns("to be or not")
    assert A.shape == (2, 2, 12, 12)
    assert torch.all(A.triu(1) == 0)
    assert torch.allclose(A.sum(-1), torch.ones(2, 2, 12), atol=1e-5)


def test_generate_text_and_temperature(small):
    out = small.generate("to be", 20, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert out.startswith("to be") and len(out) > len("to be")
    greedy = [small.generate("to be", 10, temperature=0) for _ in range(2)]
    assert greedy[0] == greedy[1]  # T = 0 is argmax: no randomness
    top1 = small.generate("to be", 10, temperature=1.5, top_k=1, generator=torch.Generator().manual_seed(3))
    assert top1 == greedy[0]  # keeping only the top token is greedy too
    ids = small.generate(torch.zeros(2, 3, dtype=torch.long), 4)
    assert ids.shape == (2, 7)


def test_training_lowers_the_loss_and_checkpoint_round_trips(small, tmp_path):
    ids = torch.tensor(small.tokenizer.encode(TEXT))
    before = gpt.estimate_loss(small, ids)
    cfg = TrainConfig(iters=60, batch_size=8, lr=3e-3, warmup=5, eval_interval=30, eval_blocks=20)
    history = gpt.train(small, ids, ids, cfg, device="cpu")
    assert history["iter"] == [30, 60]
    after = gpt.estimate_loss(small, ids)
    assert after < before - 1.0
    path = gpt.save_checkpoint(tmp_path / "m.pt", small, history["optimizer"], {"iters": 60})
    loaded, ckpt = gpt.load_checkpoint(path, device="cpu")
    assert ckpt["state"] == {"iters": 60} and "optimizer" in ckpt
    idx = torch.tensor([small.tokenizer.encode("to be or")])
    assert torch.equal(loaded(idx)[0], small.eval()(idx)[0])
    assert loaded.tokenizer.chars == small.tokenizer.chars


def test_learning_rate_schedule():
    cfg = TrainConfig(iters=100, lr=1e-3, min_lr=1e-4, warmup=10)
    assert gpt.lr_at(0, cfg) == pytest.approx(1e-4)
    assert gpt.lr_at(9, cfg) == pytest.approx(1e-3)
    assert gpt.lr_at(100, cfg) == pytest.approx(1e-4)
    assert all(gpt.lr_at(i, cfg) >= gpt.lr_at(i + 1, cfg) for i in range(10, 100))


def test_the_checkpoint_script_trains(tmp_path):
    out = tmp_path / "ckpt.pt"
    val = gpt.main(["--train", "--iters", "30", "--out", str(out), "--device", "cpu"])
    assert val < math.log(321) - 1.0  # well below the untrained loss ln(vocab)
    model, ckpt = gpt.load_checkpoint(out, device="cpu")
    assert ckpt["state"]["iters"] == 30
    assert model.cfg.n_layer == 4 and model.cfg.d_model == 128


def test_the_checkpoint_script_is_reproducible(tmp_path):
    import torch

    torch.manual_seed(123)  # whatever state the process is in, --seed decides the initial weights
    gpt.main(["--train", "--iters", "1", "--out", str(tmp_path / "a.pt"), "--device", "cpu"])
    torch.manual_seed(456)
    gpt.main(["--train", "--iters", "1", "--out", str(tmp_path / "b.pt"), "--device", "cpu"])
    a, b = (gpt.load_checkpoint(tmp_path / name, device="cpu")[1]["model"] for name in ("a.pt", "b.pt"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_committed_checkpoint_loads_and_is_good():
    model, ckpt = gpt.load_checkpoint(device="cpu")
    assert ckpt["state"]["val_loss"] <= 1.88
    assert model.generate("ROMEO:", 5, temperature=0).startswith("ROMEO:")


def test_bad_input_is_rejected(small):
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(vocab_size=10, d_model=30, n_head=4)
    with pytest.raises(ValueError, match="positive"):
        GPTConfig(vocab_size=0)
    with pytest.raises(ValueError, match="context window"):
        small(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(TypeError):
        small(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="temperature"):
        small.generate("to", 3, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        small.generate("to", 3, top_k=0)
    with pytest.raises(ValueError, match="tokenizer"):
        GPT(small.cfg).generate("to", 3)
    with pytest.raises(FileNotFoundError, match="--train"):
        gpt.load_checkpoint("/nonexistent/x.pt")
