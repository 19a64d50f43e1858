"""LoRA, written out: a frozen weight matrix plus a trainable low-rank correction.

Chapter "Specialising a model" (``book/questions/04_specialising_a_model.ipynb``)
compares it with full fine-tuning. Hu et al. (2021, arXiv:2106.09685) keep a
pre-trained weight matrix W (d_out, d_in) frozen and learn beside it

    W + (alpha / r) B A,    A (r, d_in),  B (d_out, r),  r << d_in, d_out,

with A drawn at random and **B zero at the start**, so that the adapted
model begins as exactly the pre-trained one. Only A and B are trained, and
only they need saving: r (d_in + d_out) numbers per matrix instead of
d_in d_out.

- :class:`LoRALinear` wraps one ``nn.Linear``;
- :func:`add_lora` freezes a whole model and wraps every ``nn.Linear`` in it;
- :func:`lora_state_dict` is what a LoRA fine-tune saves: the A and B
  matrices alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["LoRALinear", "add_lora", "lora_state_dict"]


class LoRALinear(nn.Module):
    """``base(x) + (alpha / r) x A^T B^T``: a frozen linear layer and its
    low-rank correction."""

    def __init__(self, base: nn.Linear, r: int = 4, alpha: float = 8.0,
                 generator=None):
        super().__init__()
        d_in, d_out = base.in_features, base.out_features
        self.base = base.requires_grad_(False)  # W and b stay as they were
        self.r, self.scale = r, alpha / r
        # A: small random numbers (a Gaussian, as in Hu et al.)
        self.A = nn.Parameter(torch.randn(r, d_in, generator=generator)
                              / math.sqrt(d_in))  # (r, d_in)
        # B: zero, so that B A = 0 and the layer starts as the original
        self.B = nn.Parameter(torch.zeros(d_out, r))  # (d_out, r)

    def forward(self, x):  # (..., d_in) -> (..., d_out)
        return self.base(x) + self.scale * (x @ self.A.T) @ self.B.T

    def merged_weight(self) -> torch.Tensor:
        """W + (alpha / r) B A (d_out, d_in): the matrix the layer uses."""
        return self.base.weight + self.scale * self.B @ self.A


def add_lora(model: nn.Module, r: int = 4, alpha: float = 8.0, seed: int = 0) -> list[str]:
    """Freeze every parameter of ``model`` and wrap each ``nn.Linear`` in a :class:`LoRALinear`,
    in place. Returns the names of the wrapped layers; the A matrices are drawn from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    model.requires_grad_(False)
    targets = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not targets:
        raise ValueError("the model has no nn.Linear layer to adapt")
    for name, module in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(module, r, alpha, generator=generator))
    return [name for name, _ in targets]


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The A and B matrices of every :class:`LoRALinear` in ``model``: all a LoRA fine-tune saves."""
    return {f"{name}.{p}": getattr(module, p).detach().clone()
            for name, module in model.named_modules() if isinstance(module, LoRALinear)
            for p in ("A", "B")}
