"""The book's trained GPT on disk: what a checkpoint holds, checking and loading it.

Chapters "GPT: what a transformer does", "Attention in transformers" and
"How might MLPs store facts" load the committed checkpoint::

    from textbook_utils.training.gpt_checkpoint import load_checkpoint
    model, checkpoint = load_checkpoint()      # the committed one, verified

It was made by ``python -m textbook_utils.commands.train_gpt --iters 2000 --out
src/textbook_utils/checkpoints/char_gpt.pt --overwrite`` (the book's recipe,
run for 2,000 steps); its SHA-256 is
recorded beside it in ``checkpoints/SHA256SUMS``, as the data's are.

A checkpoint is a plain dict, read with ``weights_only=True`` (no code in
the file ever runs): ``model`` (the state dict), ``config`` (the
:class:`~textbook_utils.lessons.gpt.GPTConfig` as a dict), ``chars`` (the
tokenizer's characters) and ``state`` (what the run recorded: steps,
validation loss, seed, recipe). Before a model is built from it, the config
is checked against the tensors' own shapes, so a damaged or hostile file
cannot make the loader allocate more than the file holds.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

import torch

from textbook_utils.tools.data import read_sha256sums, sha256_file, sha256_line
from textbook_utils.tools.device import pick_device
from textbook_utils.lessons.gpt import GPT, GPTConfig
from textbook_utils.training.gpt_doors import check_config
from textbook_utils.lessons.llm_math import gpt_parameter_count
from textbook_utils.tools.safe_write import SUMS, check_output
from textbook_utils.lessons.tokenizers import CharTokenizer

__all__ = ["CHECKPOINT", "gpt_fields", "load_checkpoint", "record_sha256", "verify_sha256"]

#: the checkpoint the chapters load
CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "char_gpt.pt"
REMAKE = ("python -m textbook_utils.commands.train_gpt --iters 2000 --out {path} "
          "--overwrite")


def gpt_fields(model: GPT, **state) -> dict:
    """What a GPT checkpoint holds besides the weights: the config, the
    tokenizer's characters and ``state`` (what the run recorded). Save with
    ``distributed.save_checkpoint(out, model, **gpt_fields(model, **state))``."""
    return {"config": asdict(model.cfg), "chars": model.tokenizer.chars, "state": state}


def _recorded(path: Path) -> dict[str, str]:
    sums = path.parent / SUMS
    if not (sums.exists() or sums.is_symlink()):
        return {}
    return read_sha256sums(sums)  # a SUMS that is not a file is an error, not "no hash"


def record_sha256(path) -> str:
    """Record ``path``'s SHA-256 in the ``SHA256SUMS`` beside it.

    Every other line (other files, comments) is kept as it was; the file is
    rewritten atomically, and only if nobody changed it meanwhile.
    """
    path = Path(path)
    sums = path.parent / SUMS
    _recorded(path)  # refuses a SUMS it cannot read, before changing it
    digest = sha256_file(path)
    lines = sums.read_text(encoding="utf-8").splitlines() if sums.exists() else []
    kept = [line for line in lines if (sha256_line(line) or ("",))[0] != path.name]
    check_output(sums, overwrite=True, flag="hash file").write_text(
        "".join(f"{line}\n" for line in kept) + f"{digest}  {path.name}\n")
    return digest


def verify_sha256(path) -> None:
    """Check ``path`` against the hash recorded beside it (the committed checkpoint must have one)."""
    path = Path(path)
    expected = _recorded(path).get(path.name)
    if expected is None:
        if path.resolve() == CHECKPOINT:
            raise FileNotFoundError(f"no SHA-256 for {path.name} in {path.parent / SUMS}; restore the "
                                    f"folder with `git checkout -- {path.parent}`")
        return
    actual = sha256_file(path)
    if actual != expected:
        raise ValueError(f"{path} has SHA-256 {actual}, but {SUMS} beside it records {expected}: the "
                         f"file is damaged or was replaced. Restore it (`git checkout -- {path}`) or "
                         f"remake it with `{REMAKE.format(path=path)}`")


def _checked_config(ckpt: dict, path: Path) -> GPTConfig:
    """The checkpoint's config, after checking it against the tensors in the same file."""
    if not isinstance(ckpt, dict) or not {"model", "config", "chars"} <= set(ckpt):
        raise ValueError(f"{path} is not a GPT checkpoint (expected the keys model, config, chars)")
    config, state, chars = ckpt["config"], ckpt["model"], ckpt["chars"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the model's state must be a dict of tensors")
    names = {f.name for f in fields(GPTConfig)}
    if not isinstance(config, dict) or set(config) != names:
        raise ValueError(f"{path}: config must have exactly the fields {sorted(names)}")
    cfg = check_config(GPTConfig(**config))  # every size a positive integer
    blocks = {k.split(".")[1] for k in state if k.startswith("blocks.")}
    claims = {"W_E.weight": (cfg.vocab_size, cfg.d_model), "W_P.weight": (cfg.block_size, cfg.d_model)}
    for name, shape in claims.items():
        if name not in state or tuple(state[name].shape) != shape:
            found = tuple(state[name].shape) if name in state else "nothing"
            raise ValueError(f"{path}: its config implies {name} of shape {shape}, the file holds {found}")
    if len(blocks) != cfg.n_layer or not isinstance(chars, str) or len(chars) != cfg.vocab_size:
        raise ValueError(f"{path}: config says {cfg.n_layer} blocks and {cfg.vocab_size} characters; "
                         f"the file holds {len(blocks)} blocks and {len(chars)} characters")
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: the model's state must hold tensors only")
    if list(chars) != sorted(set(chars)):  # token i is chars[i]: a shuffle would permute them
        raise ValueError(f"{path}: chars must be distinct characters in sorted order, as "
                         f"CharTokenizer makes them; got {chars[:40]!r}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"{path}: the weights {', '.join(bad[:3])} hold NaN or infinite values")
    held = sum(v.numel() for v in state.values())
    claimed = gpt_parameter_count(n_vocab=cfg.vocab_size, d_model=cfg.d_model, n_layer=cfg.n_layer,
                                  n_head=cfg.n_head, n_ctx=cfg.block_size, bias=cfg.bias, tied=True)["total"]
    if held != claimed:  # so that building the model allocates no more than the file holds
        raise ValueError(f"{path}: its config implies {claimed:,} parameters, the file holds {held:,}")
    return cfg


def load_checkpoint(path=None, device=None) -> tuple[GPT, dict]:
    """Load a checkpoint (default: the committed one); returns ``(model, checkpoint)``.

    The model is in eval mode, on ``device`` (default: the best available).
    """
    path = CHECKPOINT if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; make one with `{REMAKE.format(path=path)}`")
    verify_sha256(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, random or foreign bytes: torch's own errors vary
        raise ValueError(f"{path} cannot be read as a checkpoint ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else 'no detail'}); restore or "
                         f"remake it with `{REMAKE.format(path=path)}`") from e
    cfg = _checked_config(ckpt, path)
    # cfg was checked against the file, so this allocates no more than the
    # file holds; fork_rng: the random start values, replaced below, leave
    # the caller's random numbers as they were
    with torch.random.fork_rng(devices=[]):
        model = GPT(cfg, CharTokenizer(ckpt["chars"]))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in ckpt["model"].items()}
    if found != expected:
        wrong = sorted(set(expected.items()) ^ set(found.items()))[:3]
        raise ValueError(f"{path}: the weights do not fit the config ({wrong} ...)")
    model.load_state_dict(ckpt["model"])
    return model.to(pick_device(device)).eval(), ckpt
