"""The fine-tuning script of chapter "Specialising a model", at a tiny size."""

import json

import pytest

from textbook_utils.runs import specialising as S
from textbook_utils.training.gpt_checkpoint import load_checkpoint

PAGE = ("The learning rate sets how far each step of gradient descent goes. "
        "A network learns by following the gradient of its loss downhill.\n\n")


@pytest.fixture
def tiny_book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "page.md").write_text("# A page\n\n" + PAGE * 12 + "Ω and ∑ are not Shakespeare's.\n")
    return book


def test_the_script_records_both_runs_from_the_same_start(tiny_book, tmp_path):
    out = tmp_path / "runs.json"
    S.main(["--out", str(out), "--book", str(tiny_book), "--steps", "3", "--batch-size", "2",
            "--eval-blocks", "2"])
    results = json.loads(out.read_text())
    full, low_rank = results["runs"]["full"], results["runs"]["lora"]
    assert results["book_chars_dropped"] == 2  # Ω and ∑
    assert len(full["curve"]) == len(low_rank["curve"]) == 3
    # the same checkpoint and the same held-out text: the same losses before
    assert full["before"] == low_rank["before"]
    # B = 0, so LoRA starts as the original model: same first batch, same loss
    assert low_rank["curve"][0] == pytest.approx(full["curve"][0], abs=1e-5)
    assert low_rank["curve"][1] != pytest.approx(full["curve"][1], abs=1e-7)
    # r (d_in + d_out) numbers per wrapped matrix, counted from the model itself
    model, _ = load_checkpoint(device="cpu")
    linears = [m for m in model.modules() if type(m).__name__ == "Linear"]
    assert low_rank["wrapped"] == len(linears)
    assert low_rank["trainable"] == sum(4 * (m.in_features + m.out_features) for m in linears)
    assert full["trainable"] == full["parameters"] == sum(p.numel() for p in model.parameters())
    assert low_rank["saved_bytes"] < 0.1 * full["saved_bytes"]
    assert full["sample"].startswith(S.SAMPLE_PROMPT)
    assert {"machine", "torch", "date", "seconds", "command"} <= results.keys()


def test_the_script_rejects_a_bad_command_line(tiny_book, tmp_path):
    with pytest.raises(SystemExit):
        S.main(["--out", str(tmp_path), "--book", str(tiny_book)])  # a folder
    with pytest.raises(SystemExit):
        S.main(["--out", str(tmp_path / "x.json"), "--book", str(tmp_path / "nowhere")])
    for bad in (["--steps", "0"], ["--batch-size", "-1"], ["--seed", "-1"], ["--eval-blocks", "0"]):
        with pytest.raises(SystemExit) as exit_:  # a usage error, before the checkpoint is loaded
            S.main(["--out", str(tmp_path / "x.json"), "--book", str(tiny_book), *bad])
        assert exit_.value.code == 2
    with pytest.raises(ValueError, match="one of"):
        S.run("qlora", None, None, None)
