"""GPT checkpoints: round trip, SHA-256 beside the file, configs checked before anything is built."""

import hashlib
import os
import shutil

import pytest
import torch

from textbook_utils import gpt_checkpoint
from textbook_utils.gpt_checkpoint import (CHECKPOINT, check_output_path, load_checkpoint, record_sha256,
                                           save_checkpoint, verify_sha256)


def test_round_trip(small, tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", small, iters=60, val_loss=1.5)
    loaded, ckpt = load_checkpoint(path, device="cpu")
    assert ckpt["state"] == {"iters": 60, "val_loss": 1.5}
    assert loaded.tokenizer.chars == small.tokenizer.chars and not loaded.training
    idx = torch.tensor([small.tokenizer.encode("to be or")])
    assert torch.equal(loaded(idx)[0], small.eval()(idx)[0])
    assert all(p.requires_grad for p in loaded.parameters())  # ready to fine-tune
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0o600


def test_committed_checkpoint_matches_its_recorded_hash():
    line = (CHECKPOINT.parent / "SHA256SUMS").read_text().split()
    assert line[1] == CHECKPOINT.name
    assert line[0] == hashlib.sha256(CHECKPOINT.read_bytes()).hexdigest()
    verify_sha256(CHECKPOINT)


def test_a_changed_checkpoint_is_refused(small, tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", small)
    record_sha256(path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 1  # one bit
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_checkpoint(path)


def test_the_committed_checkpoint_must_have_a_recorded_hash(tmp_path, monkeypatch):
    copy = tmp_path / CHECKPOINT.name
    shutil.copy(CHECKPOINT, copy)  # without its SHA256SUMS
    monkeypatch.setattr(gpt_checkpoint, "CHECKPOINT", copy.resolve())
    with pytest.raises(FileNotFoundError, match="no SHA-256"):
        load_checkpoint()


def _forged(small, tmp_path, **config):
    path = save_checkpoint(tmp_path / "forged.pt", small)
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"].update(config)
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize("config", [dict(vocab_size=2_000_000, d_model=1024), dict(n_layer=10**9),
                                    dict(block_size=10**7), dict(n_head=3), dict(d_model=-1)])
def test_a_config_is_checked_against_the_tensors_before_a_model_is_built(small, tmp_path, monkeypatch,
                                                                           config):
    path = _forged(small, tmp_path, **config)

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built from an unchecked config")

    monkeypatch.setattr(gpt_checkpoint, "GPT", refuse)
    with pytest.raises(ValueError):
        load_checkpoint(path)


def test_a_file_whose_blocks_hold_too_few_numbers_is_refused_before_a_model_is_built(small, tmp_path,
                                                                                    monkeypatch):
    # the config's sizes match W_E, W_P and the number of blocks, but the
    # blocks' matrices are tiny: building the model would allocate far more
    # than the file holds, so the loader must count before it builds
    path = save_checkpoint(tmp_path / "m.pt", small)
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"] = {k: (v if k.startswith("W_") else torch.zeros(1)) for k, v in ckpt["model"].items()}
    torch.save(ckpt, path)

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built from an unchecked config")

    monkeypatch.setattr(gpt_checkpoint, "GPT", refuse)
    with pytest.raises(ValueError, match="the file holds"):
        load_checkpoint(path)


def test_loading_leaves_the_global_random_numbers_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    load_checkpoint(device="cpu")
    assert torch.equal(torch.rand(3), expected)


def test_a_file_that_is_not_a_gpt_checkpoint_is_refused(small, tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a GPT checkpoint"):
        load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(ValueError, match="exactly the fields"):
        load_checkpoint(_forged(small, tmp_path, fused=True))
    with pytest.raises(FileNotFoundError, match="train_gpt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_two_saves_to_one_path_use_different_temporary_files(small, tmp_path, monkeypatch):
    written = []
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f: (written.append(str(f)), real_save(obj, f)))
    save_checkpoint(tmp_path / "m.pt", small)
    save_checkpoint(tmp_path / "m.pt", small)
    assert len(set(written)) == 2 and all(w != str(tmp_path / "m.pt") for w in written)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(small, tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pt", small)
    before = path.read_bytes()

    def disk_full(obj, f):
        open(f, "wb").write(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError):
        save_checkpoint(path, small)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_output_paths_are_checked(tmp_path):
    assert check_output_path(tmp_path / "new.pt") == tmp_path / "new.pt"
    with pytest.raises(IsADirectoryError):
        check_output_path(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_output_path(tmp_path / "no" / "x.pt")
    (tmp_path / "old.pt").write_bytes(b"")
    with pytest.raises(FileExistsError, match="--overwrite"):
        check_output_path(tmp_path / "old.pt")
    assert check_output_path(tmp_path / "old.pt", overwrite=True).name == "old.pt"
