"""GPT checkpoints: round trip, SHA-256 beside the file, configs checked before anything is built."""

import hashlib
import os
import shutil

import pytest
import torch

from textbook_utils.tools import distributed
from textbook_utils.training import gpt_checkpoint
from textbook_utils.training.gpt_checkpoint import (CHECKPOINT, gpt_fields,
                                                    load_checkpoint,
                                                    record_sha256,
                                                    verify_sha256)


def save_checkpoint(path, model, *, overwrite=False, **state):
    """A GPT checkpoint, saved the book's one way."""
    return distributed.save_checkpoint(path, model, overwrite=overwrite, **gpt_fields(model, **state))


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
    import tempfile

    written = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(**kwargs):
        fd, name = real_mkstemp(**kwargs)
        written.append(name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    save_checkpoint(tmp_path / "m.pt", small)
    save_checkpoint(tmp_path / "m.pt", small, overwrite=True)
    temporaries = [w for w in written if w.endswith(".tmp")]
    assert len(set(temporaries)) == 2 and all(w != str(tmp_path / "m.pt") for w in temporaries)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"),  # torch's own way:
                                   RuntimeError("[enforce fail at inline_container.cc:672]\nfile write failed")])
def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(small, tmp_path, monkeypatch, error):
    path = save_checkpoint(tmp_path / "m.pt", small)
    before = path.read_bytes()

    def disk_full(obj, f):
        f.write(b"half")
        raise error

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="left as it was"):
        save_checkpoint(path, small, overwrite=True)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_damaged_and_foreign_files_are_refused_by_name(small, tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", small)
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[:1000])
    (tmp_path / "noise.pt").write_bytes(os.urandom(5000))
    for name in ("cut.pt", "noise.pt"):
        with pytest.raises(ValueError, match=f"{name} cannot be read as a checkpoint"):
            load_checkpoint(tmp_path / name)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(small, tmp_path, value):
    path = save_checkpoint(tmp_path / "m.pt", small)
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"]["W_E.weight"][3, 4] = value
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_checkpoint(path)


@pytest.mark.parametrize("shuffle", [lambda c: c[::-1], lambda c: c[:-1] + c[0]])
def test_an_unsorted_or_repeated_vocabulary_is_refused(small, tmp_path, shuffle):
    path = save_checkpoint(tmp_path / "m.pt", small)
    ckpt = torch.load(path, weights_only=True)
    ckpt["chars"] = shuffle(ckpt["chars"])
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="sorted order"):
        load_checkpoint(path)


def test_a_diverged_model_is_not_saved(small, tmp_path):
    with torch.no_grad():
        small.W_E.weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="nothing was saved"):
        save_checkpoint(tmp_path / "m.pt", small)
    assert list(tmp_path.iterdir()) == []


SUMS_FORMS = {
    "comment": "# made by hand\n{h}  {name}\n",
    "binary": "{h} *{name}\n",
    "bsd": "SHA256 ({name}) = {h}\n",
}


@pytest.mark.parametrize("form", sorted(SUMS_FORMS))
@pytest.mark.parametrize("name", ["m.pt", "my model.pt"])
def test_hash_files_are_read_as_sha256sum_writes_them(small, tmp_path, form, name):
    path = save_checkpoint(tmp_path / name, small)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(SUMS_FORMS[form].format(h=digest, name=name))
    load_checkpoint(path, device="cpu")  # verified
    sums.write_text(SUMS_FORMS[form].format(h="0" * 64, name=name))
    with pytest.raises(ValueError, match="SHA-256"):
        load_checkpoint(path)
    record_sha256(path)  # other lines kept, this one replaced
    assert sums.read_text().count(digest) == 1 and ("made by hand" in sums.read_text()) == (form == "comment")
    load_checkpoint(path, device="cpu")


def test_a_hash_file_that_cannot_be_read_is_an_error_not_a_skipped_check(small, tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", small)
    (tmp_path / "SHA256SUMS").write_text("this is not a hash line\n")
    with pytest.raises(RuntimeError, match="line 1"):
        load_checkpoint(path)
    (tmp_path / "SHA256SUMS").unlink()
    (tmp_path / "SHA256SUMS").mkdir()
    with pytest.raises(RuntimeError, match="not a regular file"):
        load_checkpoint(path)
