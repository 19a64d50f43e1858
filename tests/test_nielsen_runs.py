"""book/nielsen/nielsen_runs.py: the command for Nielsen's full-length runs.

The command is run here with ``--epochs 1 --train-size 2000`` so that it
takes seconds; the full runs take far longer (see the script).
"""

import importlib.util
import json
from pathlib import Path

import pytest

from command_checks import assert_refused_before_work

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "book" / "nielsen" / "nielsen_runs.py"
RUNS = {"hidden30_seed0", "hidden30_seed1", "hidden30_seed2",
        "hidden100_seed0", "eta0.001", "eta100"}


def _script():
    spec = importlib.util.spec_from_file_location("nielsen_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_writes_every_run(tmp_path):
    out = tmp_path / "runs.json"
    _script().main(["--out", str(out), "--epochs", "1",
                    "--train-size", "2000"])
    result = json.loads(out.read_text())
    assert set(result["runs"]) == RUNS
    assert result["train_size"] == 2000
    assert result["made_by"].endswith("--epochs 1 --train-size 2000")
    for run in result["runs"].values():
        assert run["epochs"] == 1 and len(run["test_correct"]) == 1
        assert len(run["hidden_moved"]) == run["sizes"][1]
        assert min(run["hidden_moved"]) >= 0
        assert 0 <= run["test_correct"][0] <= 10_000
        assert 0 <= run["validation_correct"] <= 10_000
    # 200 steps of eta = 3 take the network far above chance (1,000)
    assert result["runs"]["hidden100_seed0"]["test_correct"][0] > 2_500
    # eta = 0.001 barely moves it: far below the eta = 3 run of the same start
    assert (result["runs"]["eta0.001"]["test_correct"][0]
            < result["runs"]["hidden30_seed1"]["test_correct"][0] - 1000)


def test_runs_selects_runs_and_says_so(tmp_path):
    out = tmp_path / "runs.json"
    _script().main(["--out", str(out), "--epochs", "1", "--train-size",
                    "500", "--runs", "eta100", "hidden30_seed0"])
    result = json.loads(out.read_text())
    assert list(result["runs"]) == ["eta100", "hidden30_seed0"]
    assert result["made_by"].endswith("--runs eta100 hidden30_seed0")
    assert result["runs"]["eta100"]["eta"] == 100.0
    assert result["runs"]["hidden30_seed0"]["seed"] == 0


def test_nielsens_start_has_standard_normal_weights():
    net = _script().nielsen_network([784, 100, 10], seed=0)
    assert net.weights[0].std() == pytest.approx(1.0, rel=0.01)  # 78,400
    assert net.weights[1].std() == pytest.approx(1.0, rel=0.1)  # 1,000


@pytest.mark.parametrize("argv, message", [
    (["--out", "no/such/folder/runs.json"], "does not exist"),
    (["--out", "runs.json", "--epochs", "0"], "positive integer"),
    (["--out", "runs.json", "--train-size", "60000"], "at most 50,000"),
])
def test_the_command_refuses_bad_arguments_before_training(
        argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused_before_work(_script().main, argv, message,
                               tmp_path / "runs.json", capsys)


def test_width_and_initialisation_runs_record_their_start(tmp_path):
    """The other corners of width x initialisation: selectable with --runs,
    never part of the default set, each recording its initial weights."""
    out = tmp_path / "width_init.json"
    script = _script()
    assert not set(script.WIDTH_INIT_RUNS) & set(script.RUNS)
    script.main(["--out", str(out), "--epochs", "1", "--train-size", "500",
                 "--runs", "hidden30_scaled_seed0", "hidden100_normal_seed0"])
    runs = json.loads(out.read_text())["runs"]
    assert runs["hidden30_scaled_seed0"]["init"] == "N(0, 1/n)"
    assert runs["hidden30_scaled_seed0"]["sizes"] == [784, 30, 10]
    assert runs["hidden100_normal_seed0"]["init"] == "N(0, 1)"
    assert runs["hidden100_normal_seed0"]["sizes"] == [784, 100, 10]
