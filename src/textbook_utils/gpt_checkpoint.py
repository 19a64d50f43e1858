"""The book's trained GPT on disk: saving, checking and loading checkpoints.

Chapters "GPT: what a transformer does", "Attention in transformers" and
"How might MLPs store facts" load the committed checkpoint::

    from textbook_utils.gpt_checkpoint import load_checkpoint
    model, checkpoint = load_checkpoint()      # the committed one, verified

It was made by ``python -m textbook_utils.train_gpt --iters 2000 --out
src/textbook_utils/checkpoints/char_gpt.pt --overwrite`` (the book's recipe,
run for 2,000 steps); its SHA-256 is
recorded beside it in ``checkpoints/SHA256SUMS``, as the data's are.

A checkpoint is a plain dict, read with ``weights_only=True`` (no code in
the file ever runs): ``model`` (the state dict), ``config`` (the
:class:`~textbook_utils.gpt.GPTConfig` as a dict), ``chars`` (the
tokenizer's characters) and ``state`` (what the run recorded: steps,
validation loss, seed, recipe). Before a model is built from it, the config
is checked against the tensors' own shapes, so a damaged or hostile file
cannot make the loader allocate more than the file holds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

import torch

from .device import pick_device
from .gpt import GPT, GPTConfig
from .llm_math import gpt_parameter_count
from .tokenizers import CharTokenizer

__all__ = ["CHECKPOINT", "check_output_path", "load_checkpoint", "record_sha256", "save_checkpoint",
           "sha256_file", "verify_sha256"]

#: the checkpoint the chapters load
CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "char_gpt.pt"
SUMS = "SHA256SUMS"  # the file beside a checkpoint that records its hash
REMAKE = ("python -m textbook_utils.train_gpt --iters 2000 --out {path} "
          "--overwrite")


def check_output_path(path, *, overwrite: bool = False) -> Path:
    """``path`` if a checkpoint can be written there; call it before training, not after."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"--out {path} is a folder; give a file name such as {path / 'gpt.pt'}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} does not exist; create it first")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    if not os.access(path.parent, os.W_OK):
        raise PermissionError(f"cannot write into {path.parent}")
    return path


def save_checkpoint(path, model: GPT, **state) -> Path:
    """Write ``model`` (config, weights, characters) and ``state`` to ``path``.

    The file is written under a fresh temporary name in the same folder and
    then renamed into place, so a reader never sees half a file and two
    saves to one path never write into the same temporary file.
    """
    path = Path(path)
    ckpt = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "config": asdict(model.cfg), "chars": model.tokenizer.chars, "state": state}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is not
    try:
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _recorded(path: Path) -> dict[str, str]:
    sums = path.parent / SUMS
    if not sums.is_file():
        return {}
    pairs = (line.split() for line in sums.read_text().splitlines() if line.strip())
    return {name.lstrip("*"): digest for digest, name in pairs}


def record_sha256(path) -> str:
    """Record ``path``'s SHA-256 in the ``SHA256SUMS`` beside it (other lines are kept)."""
    path = Path(path)
    hashes = {**_recorded(path), path.name: sha256_file(path)}
    (path.parent / SUMS).write_text("".join(f"{h}  {n}\n" for n, h in sorted(hashes.items())))
    return hashes[path.name]


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
    names = {f.name for f in fields(GPTConfig)}
    if not isinstance(config, dict) or set(config) != names:
        raise ValueError(f"{path}: config must have exactly the fields {sorted(names)}")
    cfg = GPTConfig(**config)  # checks that every size is a positive integer
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
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
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
