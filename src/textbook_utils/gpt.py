"""A small character-level GPT, its training loop and its checkpoints.

Used in chapters "GPT: what a transformer does" (``book/3b1b/05_gpt.ipynb``,
trained live), "Attention in transformers" (``06_attention.ipynb``) and "How
might MLPs store facts" (``07_mlps_store_facts.ipynb``). The architecture is
GPT-2's, shrunk (Radford et al. 2019; laid out as in Karpathy's nanoGPT):

    tokens (B, T) -> W_E[tokens] + W_P[positions]          (B, T, d_model)
    n_layer times:  x = x + attention(LayerNorm(x))         (B, T, d_model)
                    x = x + MLP(LayerNorm(x))               up, GELU, down
    LayerNorm, then unembedding W_U = W_E^T (tied)          (B, T, vocab)

The same code trains on ``cpu``, ``cuda`` or ``mps`` (see
:func:`textbook_utils.device.pick_device`); on a GPU it can use bfloat16
autocast and ``torch.compile``. Training is one :func:`train_step` per
mini-batch and a checkpoint is a plain dict of the model's config and state
(and optionally the optimizer's and the loop's). Launched by ``torchrun``,
:func:`train` wraps the model in ``DistributedDataParallel`` and each rank
takes its slice of every global batch (:mod:`textbook_utils.distributed`,
chapter "Scaling up"; entry point ``python -m textbook_utils.train_gpt``).

Reproduce the committed checkpoint (about 2,000 iterations; minutes on a CPU)::

    python -m textbook_utils.gpt --train --iters 2000 --out src/textbook_utils/checkpoints/char_gpt.pt
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import distributed
from .attention import MultiHeadAttention
from .checks import positive_int
from .device import pick_device
from .seeding import seed_everything, training_seed
from .tokenizers import CharTokenizer

__all__ = ["GPT", "GPTConfig", "TrainConfig", "CHECKPOINT", "estimate_loss", "get_batch",
           "load_checkpoint", "lr_at", "make_optimizer", "save_checkpoint", "shakespeare_data",
           "train", "train_step"]

#: the checkpoint the chapters load (made by the command in the module docstring)
CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "char_gpt.pt"


@dataclass
class GPTConfig:
    """Shape of the model; the defaults are the book's 4-layer, 128-wide GPT."""

    vocab_size: int
    block_size: int = 64  # context length
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    d_ff: int = 0  # MLP hidden size; 0 means 4 * d_model
    bias: bool = False
    fused: bool = True  # F.scaled_dot_product_attention instead of the written-out formula

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "d_model"):
            positive_int(getattr(self, name), name)
        if not isinstance(self.d_ff, int) or self.d_ff < 0:
            raise ValueError(f"d_ff must be a non-negative integer, got {self.d_ff!r}")
        self.d_ff = self.d_ff or 4 * self.d_model
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")


class Block(nn.Module):
    """One transformer block: attention then MLP, each added to the residual stream."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.attn = MultiHeadAttention(cfg.d_model, cfg.n_head, bias=cfg.bias, fused=cfg.fused)
        self.ln2 = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.up = nn.Linear(cfg.d_model, cfg.d_ff, bias=cfg.bias)  # weight (d_ff, d_model)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model, bias=cfg.bias)  # weight (d_model, d_ff)

    def forward(self, x, return_pattern=False):
        a = self.attn(self.ln1(x), return_pattern=return_pattern)
        a, A = a if return_pattern else (a, None)
        x = x + a  # (B, T, d_model)
        x = x + self.down(F.gelu(self.up(self.ln2(x))))
        return (x, A) if return_pattern else x


class GPT(nn.Module):
    """The character-level GPT. ``tokenizer`` (optional) lets it take and give text."""

    def __init__(self, cfg: GPTConfig, tokenizer: CharTokenizer | None = None):
        super().__init__()
        if not isinstance(cfg, GPTConfig):
            raise TypeError(f"cfg must be a GPTConfig, got {type(cfg).__name__}")
        if tokenizer is not None and tokenizer.vocab_size != cfg.vocab_size:
            raise ValueError(f"tokenizer has {tokenizer.vocab_size} tokens, cfg.vocab_size is "
                             f"{cfg.vocab_size}")
        self.cfg, self.tokenizer = cfg, tokenizer
        self.W_E = nn.Embedding(cfg.vocab_size, cfg.d_model)  # (vocab, d_model); also W_U^T
        self.W_P = nn.Embedding(cfg.block_size, cfg.d_model)  # (block_size, d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        # GPT-2's initialisation: N(0, 0.02), residual-output maps scaled by 1/sqrt(2 n_layer).
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * cfg.n_layer) if name.endswith(("W_O.weight", "down.weight")) else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets=None):
        """``idx`` (B, T) token ids -> logits (B, T, vocab), and the mean cross-entropy
        against ``targets`` (B, T) when given."""
        if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long or idx.ndim != 2:
            raise TypeError(f"idx must be a (batch, T) tensor of int64 token ids, got "
                            f"{getattr(idx, 'dtype', type(idx).__name__)} {tuple(getattr(idx, 'shape', ()))}")
        T = idx.shape[1]
        if T > self.cfg.block_size:
            raise ValueError(f"sequence length {T} exceeds the context window {self.cfg.block_size}")
        x = self._embed(idx)  # (B, T, d_model)
        for block in self.blocks:
            x = block(x)
        logits = self.ln_f(x) @ self.W_E.weight.T  # (B, T, vocab): unembedding tied to W_E
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1))
        return logits, loss

    def _embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token plus position embeddings: (B, T) ids -> (B, T, d_model)."""
        return self.W_E(idx) + self.W_P(torch.arange(idx.shape[1], device=idx.device))

    def _ids(self, prompt) -> torch.Tensor:
        device = self.W_E.weight.device
        if isinstance(prompt, str):
            if self.tokenizer is None:
                raise ValueError("this model has no tokenizer; pass token ids instead of text")
            ids = self.tokenizer.encode(prompt)
            if not ids:
                raise ValueError("the prompt must contain at least one character")
            return torch.tensor([ids], dtype=torch.long, device=device)  # (1, T)
        if not isinstance(prompt, torch.Tensor) or prompt.dtype != torch.long or prompt.ndim != 2:
            raise TypeError("prompt must be text or a (batch, T) int64 tensor of token ids")
        return prompt.to(device)

    @torch.no_grad()
    def next_token_logits(self, prompt) -> torch.Tensor:
        """Logits (vocab,) for the token after ``prompt`` (its last block_size tokens)."""
        idx = self._ids(prompt)[:, -self.cfg.block_size:]
        return self(idx)[0][0, -1].float()

    @torch.no_grad()
    def attention_patterns(self, prompt) -> torch.Tensor:
        """Every head's pattern on ``prompt``: (n_layer, n_head, T, T), row = query."""
        idx = self._ids(prompt)[:1, -self.cfg.block_size:]
        x = self._embed(idx)  # (1, T, d_model)
        patterns = []
        for block in self.blocks:
            x, A = block(x, return_pattern=True)
            patterns.append(A[0])
        return torch.stack(patterns)

    @torch.no_grad()
    def generate(self, prompt, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 generator: torch.Generator | None = None):
        """Continue ``prompt`` by ``max_new_tokens`` sampled tokens.

        Each step samples from softmax(logits / temperature); ``temperature=0``
        takes the argmax (greedy). ``top_k`` keeps only the k largest logits.
        Text in gives text out; a (batch, T) id tensor gives ids back.
        """
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be a non-negative integer, got {max_new_tokens!r}")
        if not isinstance(temperature, (int, float)) or not temperature >= 0 or math.isinf(temperature):
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"top_k must be None or a positive integer, got {top_k!r}")
        idx = self._ids(prompt)
        was_training = self.training
        self.eval()
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.cfg.block_size:])[0][:, -1].float()  # (B, vocab)
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        self.train(was_training)
        return self.tokenizer.decode(idx[0].tolist()) if isinstance(prompt, str) else idx


# --------------------------------------------------------------------------- data

def shakespeare_data(val_fraction: float = 0.1):
    """Tiny Shakespeare as ``(tokenizer, train_ids, val_ids)``: the first 90% trains."""
    from .data import load_text

    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    text = load_text("tinyshakespeare")
    tok = CharTokenizer.train(text)
    ids = torch.tensor(tok.encode(text), dtype=torch.long)  # (1115394,)
    n = int(len(ids) * (1 - val_fraction))
    return tok, ids[:n], ids[n:]


def get_batch(data: torch.Tensor, block_size: int, batch_size: int, generator=None):
    """``batch_size`` random windows of ``data``: inputs x and next-token targets y, (B, T)."""
    if data.ndim != 1 or len(data) <= block_size:
        raise ValueError(f"data must be 1-D and longer than block_size={block_size}")
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    return _windows(data, starts, block_size)


def _windows(data: torch.Tensor, starts: torch.Tensor, T: int):
    """The windows of ``data`` starting at ``starts`` (B,): inputs x and next-token targets y, (B, T)."""
    chunk = data[starts[:, None] + torch.arange(T + 1)]  # (B, T + 1)
    return chunk[:, :-1], chunk[:, 1:]


@torch.no_grad()
def estimate_loss(model: GPT, data: torch.Tensor, *, max_blocks: int | None = None,
                  batch_size: int = 256) -> float:
    """Mean next-token loss over non-overlapping windows of ``data`` (deterministic).

    ``max_blocks`` evaluates only that many windows, evenly spread.
    """
    T = model.cfg.block_size
    n = (len(data) - 1) // T
    starts = torch.arange(n) * T
    if max_blocks is not None and max_blocks < n:
        starts = starts[torch.linspace(0, n - 1, max_blocks).long()]
    device = model.W_E.weight.device
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(starts), batch_size):
        x, y = _windows(data, starts[i:i + batch_size], T)
        _, loss = model(x.to(device), y.to(device))
        total += loss.item() * len(x)
    model.train(was_training)
    return total / len(starts)


# --------------------------------------------------------------------------- training

@dataclass
class TrainConfig:
    """The optimisation recipe (nanoGPT's Shakespeare-char recipe, shortened)."""

    iters: int = 2000
    batch_size: int = 12
    lr: float = 2e-3
    min_lr: float = 2e-4
    warmup: int = 50
    weight_decay: float = 0.1
    betas: tuple = (0.9, 0.99)
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_blocks: int = 300  # validation windows per evaluation
    seed: int = 1337
    amp: bool = True  # bfloat16 autocast, on CUDA only
    compile: bool = False  # torch.compile, on CUDA only


def lr_at(it: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay from ``lr`` to ``min_lr`` at ``cfg.iters``."""
    if it < cfg.warmup:
        return cfg.lr * (it + 1) / cfg.warmup
    progress = min(1.0, (it - cfg.warmup) / max(1, cfg.iters - cfg.warmup))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW; weight decay on the matrices only, not on gains and biases."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas))


def train_step(model, optimizer, x, y, *, lr: float, grad_clip: float = 1.0, amp: bool = False) -> torch.Tensor:
    """One optimisation step on the batch (x, y); returns the loss (a 0-d tensor)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=amp):
        _, loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach()


def train(model: GPT, train_data, val_data, cfg: TrainConfig | None = None, *, device=None,
          target_loss: float | None = None, log=None) -> dict:
    """Train ``model`` for ``cfg.iters`` steps; return the history.

    The history holds, at every ``cfg.eval_interval`` steps and at the end,
    the step, the mean training loss since the last evaluation, the
    validation loss and the seconds elapsed (evaluation time excluded).
    ``target_loss`` stops training at the first evaluation that reaches it.
    ``log`` (e.g. ``print``) receives one line per evaluation.
    ``history["optimizer"]`` is the optimizer, for :func:`save_checkpoint`.

    Under torchrun with W processes, each rank trains on ``cfg.batch_size / W``
    of every global batch of ``cfg.batch_size`` windows (which W must divide);
    only rank 0 logs.
    """
    cfg = cfg or TrainConfig()
    if distributed.launched():  # started by torchrun: join the other ranks, one device each
        device = distributed.setup(device).device
        if cfg.batch_size % distributed.world_size():
            raise ValueError(f"batch_size {cfg.batch_size} must be divisible by the number of processes "
                             f"{distributed.world_size()}")
    device = pick_device(device)
    seed_everything(cfg.seed)
    model.to(device).train()
    optimizer = make_optimizer(model, cfg)
    on_gpu = device.type == "cuda"
    ddp = distributed.wrap(model)  # model itself unless several processes train together
    step_model = torch.compile(ddp) if (cfg.compile and on_gpu) else ddp
    generator = torch.Generator().manual_seed(training_seed(cfg.seed))
    history = {"iter": [], "train_loss": [], "val_loss": [], "seconds": []}
    running, seconds, t0 = [], 0.0, time.perf_counter()
    for it in range(1, cfg.iters + 1):
        x, y = get_batch(train_data, model.cfg.block_size, cfg.batch_size, generator)
        if ddp is not model:  # this rank's slice of the global batch (same draw on every rank)
            x, y = distributed.shard(x)[0], distributed.shard(y)[0]
        loss = train_step(step_model, optimizer, x.to(device), y.to(device), lr=lr_at(it - 1, cfg),
                          grad_clip=cfg.grad_clip, amp=cfg.amp and on_gpu)
        running.append(loss)
        if it % cfg.eval_interval == 0 or it == cfg.iters:
            seconds += time.perf_counter() - t0
            val = estimate_loss(model, val_data, max_blocks=cfg.eval_blocks)
            train_loss = distributed.mean_over_ranks(torch.stack(running).mean()).item()
            for key, value in zip(history, (it, train_loss, val, seconds)):
                history[key].append(value)
            if log and distributed.is_main():
                log(f"iter {it:5d}  train {history['train_loss'][-1]:.4f}  val {val:.4f}  "
                    f"{seconds:.1f} s elapsed")
            running, t0 = [], time.perf_counter()
            if target_loss is not None and val <= target_loss:
                break
    history["optimizer"] = optimizer
    return history


# --------------------------------------------------------------------------- checkpoints

def save_checkpoint(path, model: GPT, optimizer=None, state: dict | None = None) -> Path | None:
    """Save the model (config, weights, tokenizer) and optionally optimizer and loop state.

    Written by :func:`textbook_utils.distributed.save_checkpoint`: under
    torchrun every rank calls it, rank 0 writes, and it returns ``None`` on
    the other ranks; alone, it simply writes the file and returns its path.
    """
    extra = {"config": asdict(model.cfg), "chars": model.tokenizer.chars if model.tokenizer is not None else None}
    if optimizer is not None:
        extra["optimizer"] = optimizer.state_dict()
    if state is not None:
        extra["state"] = dict(state)
    return distributed.save_checkpoint(path, model, **extra)


def load_checkpoint(path=CHECKPOINT, device=None) -> tuple[GPT, dict]:
    """Load a checkpoint saved by :func:`save_checkpoint`; returns ``(model, checkpoint)``.

    Loaded with ``weights_only=True``: no code in the file is ever run.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; make one with "
                                f"`python -m textbook_utils.gpt --train --out {path}`")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    tok = CharTokenizer(ckpt["chars"]) if ckpt.get("chars") is not None else None
    model = GPT(GPTConfig(**ckpt["config"]), tok)
    model.load_state_dict(ckpt["model"])
    return model.to(pick_device(device)).eval(), ckpt


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the book's character-level GPT on tiny Shakespeare.")
    parser.add_argument("--train", action="store_true", help="train and save a checkpoint")
    parser.add_argument("--iters", type=int, default=TrainConfig.iters)
    parser.add_argument("--out", type=Path, default=CHECKPOINT)
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    args = parser.parse_args(argv)
    if not args.train:
        parser.error("nothing to do: pass --train")
    if args.threads:
        torch.set_num_threads(args.threads)
    tok, train_ids, val_ids = shakespeare_data()
    seed_everything(args.seed)  # the initial weights too, so that the command reproduces its checkpoint
    model = GPT(GPTConfig(vocab_size=tok.vocab_size), tok)
    cfg = TrainConfig(iters=args.iters, seed=args.seed, eval_interval=max(1, min(250, args.iters)))
    history = train(model, train_ids, val_ids, cfg, device=args.device, log=print)
    val = estimate_loss(model, val_ids)
    save_checkpoint(args.out, model, state={"iters": history["iter"][-1], "val_loss": val, "seed": args.seed})
    print(f"full validation loss {val:.4f}; saved {args.out}")
    return val


if __name__ == "__main__":
    main()
