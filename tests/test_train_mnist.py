"""python -m textbook_utils.commands.train_mnist on one process: it trains, saves, and refuses bad arguments first.

The torchrun runs of the same command are in test_distributed.py.
"""

import json

import pytest
import torch

from textbook_utils.tools import distributed
from textbook_utils.commands import train_mnist
from textbook_utils.lessons.mlp import MLP


@pytest.mark.parametrize("argv, message", [
    (["--lr", "inf"], "finite number > 0"),
    (["--lr", "nan"], "finite number > 0"),
    (["--lr", "0"], "finite number > 0"),
    (["--lr", "-0.1"], "finite number > 0"),
    (["--batch-size", "0"], "positive integer"),
    (["--epochs", "0"], "positive integer"),
    (["--epochs", "2.5"], "positive integer"),
    (["--max-steps", "-1"], "positive integer"),
    (["--threads", "0"], "CPU cores"),
    (["--threads", "100000"], "CPU cores"),
    (["--threads", "1000000000"], "CPU cores"),
    (["--device", "gpu"], "unknown device"),
    (["--hidden", "1000000000"], "of memory"),
    (["--hidden", "16,0"], "positive layer widths"),
    (["--hidden", "16,,16"], "positive layer widths"),
    (["--target-accuracy", "96"], "fraction in"),
    (["--train-examples", "70000"], "60,000 training images"),
    (["--train-examples", "100", "--batch-size", "200"], "larger than the training set"),
    (["--seed", "-1"], "--seed"),
    (["--out", "x.json", "--summary", "x.json"], "must be different files"),
])
def test_bad_arguments_stop_before_anything_runs(argv, message, capsys, monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before the arguments were checked")

    monkeypatch.setattr(train_mnist, "load_mnist", no_data)
    with pytest.raises(SystemExit) as exit_:
        train_mnist.main(argv)
    assert exit_.value.code == 2  # argparse's usage error
    assert message in capsys.readouterr().err


def test_out_onto_a_directory_is_refused_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train_mnist, "load_mnist", lambda *a: pytest.fail("data loaded"))
    with pytest.raises(SystemExit):
        train_mnist.main(["--out", str(tmp_path)])
    assert "is a folder" in capsys.readouterr().err


def test_a_short_run_trains_saves_and_summarises(tmp_path, capsys, monkeypatch):
    for name in distributed.LAUNCH_ENV:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "new").mkdir()
    out, summary = tmp_path / "new" / "mnist.pt", tmp_path / "summary.json"
    history = train_mnist.main(["--max-steps", "5", "--train-examples", "640", "--device", "cpu",
                                "--out", str(out), "--summary", str(summary), "--threads", "1"])
    assert history["steps"] == [5] and history["world_size"] == 1
    assert json.loads(summary.read_text())["test_accuracy"] == history["test_accuracy"]
    ckpt = distributed.load_state_dict(out)
    model = MLP(ckpt["sizes"], activation=ckpt["activation"])
    model.load_state_dict(ckpt["model"])
    assert ckpt["sizes"] == [784, 16, 16, 10]
    assert sorted(p.name for p in out.parent.iterdir()) == ["mnist.pt"]  # no temporary file left
    printed = capsys.readouterr().out
    assert "epoch 1: loss" in printed and f"saved {out}" in printed


def test_two_saves_to_one_path_leave_one_whole_checkpoint(tmp_path):
    torch.manual_seed(0)
    a, b = MLP([4, 3]), MLP([4, 3])
    path = tmp_path / "m.pt"
    distributed.save_checkpoint(path, a, tag="a")
    with pytest.raises(FileExistsError, match="--overwrite"):
        distributed.save_checkpoint(path, b, tag="b")
    assert distributed.load_state_dict(path)["tag"] == "a"
    distributed.save_checkpoint(path, b, tag="b", overwrite=True)
    ckpt = distributed.load_state_dict(path)
    assert ckpt["tag"] == "b"
    assert torch.equal(ckpt["model"]["layers.0.weight"], b.layers[0].weight)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_out_under_a_file_is_refused_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train_mnist, "load_mnist", lambda *a: pytest.fail("data loaded"))
    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(SystemExit):
        train_mnist.main(["--out", str(tmp_path / "notes.txt" / "mnist.pt")])
    assert "does not exist" in capsys.readouterr().err


def test_a_missing_out_folder_is_refused_and_not_made(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train_mnist, "load_mnist", lambda *a: pytest.fail("data loaded"))
    out = tmp_path / "runs" / "today" / "mnist.pt"
    with pytest.raises(SystemExit) as exit_:
        train_mnist.main(["--out", str(out), "--device", "cpu"])
    assert exit_.value.code == 2 and "create it first" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no folder left behind


@pytest.mark.parametrize("flag", ["--out", "--summary"])
def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys, monkeypatch, flag):
    monkeypatch.setattr(train_mnist, "load_mnist", lambda *a: pytest.fail("data loaded"))
    precious = tmp_path / "precious.pt"
    precious.write_bytes(b"mine")
    with pytest.raises(SystemExit) as exit_:
        train_mnist.main([flag, str(precious)])
    assert exit_.value.code == 2 and "--overwrite" in capsys.readouterr().err
    assert precious.read_bytes() == b"mine"


def test_the_committed_checkpoint_is_not_a_place_to_write(capsys, monkeypatch):
    from textbook_utils.training.gpt_checkpoint import CHECKPOINT

    monkeypatch.setattr(train_mnist, "load_mnist", lambda *a: pytest.fail("data loaded"))
    before = CHECKPOINT.read_bytes()
    for out in (CHECKPOINT, CHECKPOINT.with_name("mnist.pt")):
        with pytest.raises(SystemExit) as exit_:
            train_mnist.main(["--out", str(out)])
        assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "exists; pass --overwrite" in err and "inside the textbook_utils package" in err
    assert CHECKPOINT.read_bytes() == before and not CHECKPOINT.with_name("mnist.pt").exists()


def test_a_diverged_run_saves_nothing_and_fails(tmp_path, capsys, monkeypatch):
    for name in distributed.LAUNCH_ENV:
        monkeypatch.delenv(name, raising=False)
    out, summary = tmp_path / "nan.pt", tmp_path / "nan.json"
    with pytest.raises(SystemExit) as exit_:
        train_mnist.main(["--lr", "1e308", "--optimizer", "sgd", "--max-steps", "3", "--train-examples", "640",
                          "--device", "cpu", "--threads", "1", "--out", str(out), "--summary", str(summary)])
    assert exit_.value.code not in (0, None) and "nothing saved" in str(exit_.value.code)
    assert list(tmp_path.iterdir()) == []
