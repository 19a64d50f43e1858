"""The KV-cache timing command (chapter 5) runs at a tiny size and writes what the chapter reads."""

import json

import pytest

from textbook_utils.runs.kv_cache_timing import main, time_window


def test_command_writes_one_row_per_window(tmp_path):
    out = tmp_path / "kv.json"
    results = main(["--out", str(out), "--windows", "8", "24", "--repeats", "1"])
    saved = json.loads(out.read_text())
    assert saved["rows"] == json.loads(json.dumps(results["rows"]))
    assert [r["window"] for r in saved["rows"]] == [8, 24]
    assert [r["new_tokens"] for r in saved["rows"]] == [7, 23]
    for row in saved["rows"]:
        assert row["same_tokens"] is True
        assert row["seconds_plain"] > 0 and row["seconds_cached"] > 0
        assert abs(row["speedup"] - row["seconds_plain"] / row["seconds_cached"]) < 1e-9
    # the arithmetic saved grows with the window
    assert 1 < saved["rows"][0]["flop_ratio"] < saved["rows"][1]["flop_ratio"]
    for key in ("cpu", "torch", "date", "threads"):
        assert key in saved["machine"]
    assert saved["command"].startswith("python -m textbook_utils.runs.kv_cache_timing")


def test_flop_ratio_of_one_new_token_is_one():
    assert time_window(2, repeats=1)["flop_ratio"] == 1.0


def test_refuses_a_missing_folder(tmp_path):
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "no" / "kv.json"), "--windows", "8"])
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "kv.json"), "--windows", "1"])
