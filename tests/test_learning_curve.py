"""book/orientation/learning_curve.py: the command for the chapter "Data".

Run here with two small sizes and 30 steps, so that it takes seconds.
"""

import importlib.util
import json
from pathlib import Path

import pytest

from command_checks import assert_refused_before_work

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "book" / "orientation" / "learning_curve.py"


def _script():
    spec = importlib.util.spec_from_file_location("learning_curve", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_writes_one_accuracy_per_size(tmp_path):
    out = tmp_path / "curve.json"
    _script().main(["--out", str(out), "--sizes", "100", "2000",
                    "--steps", "30"])
    result = json.loads(out.read_text())
    assert set(result["test_accuracy"]) == {"100", "2000"}
    assert result["made_by"].endswith("--sizes 100 2000 --steps 30")
    assert result["steps"] == 30
    # 30 Adam steps of 50 images take a 784-100-10 network above chance
    for acc in result["test_accuracy"].values():
        assert 0.2 < acc < 1


@pytest.mark.parametrize("argv, message", [
    (["--out", "no/such/folder/c.json"], "does not exist"),
    (["--out", "c.json", "--steps", "0"], "positive integer"),
    (["--out", "c.json", "--sizes", "70000"], "at most 60,000"),
])
def test_the_command_refuses_bad_arguments_before_training(
        argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused_before_work(_script().main, argv, message,
                               tmp_path / "c.json", capsys)
