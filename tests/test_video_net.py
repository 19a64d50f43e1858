"""The chapter's ablation: its recipes and the command line that records their results."""

import pytest

from textbook_utils.runs import video_net
from textbook_utils.runs.video_net import ABLATION, BOOK_RECIPE, VIDEO_RECIPE


def test_the_ablation_changes_one_thing_at_a_time_from_the_videos_recipe_to_the_books():
    recipes = list(ABLATION.values())
    assert recipes[0] == VIDEO_RECIPE and recipes[-1] == BOOK_RECIPE
    for before, after in zip(recipes, recipes[1:]):
        changed = {k for k, v in vars(after).items() if vars(before)[k] != v}
        assert len(changed - {"lr"}) == 1, changed  # one choice (and perhaps eta)


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "-1"], "--seeds"),
    (["--threads", "0"], "--threads"),
])
def test_bad_arguments_stop_before_training(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(video_net, "load_mnist", lambda *a: pytest.fail("data loaded"))
    with pytest.raises(SystemExit):
        video_net.main([*argv, "--out", str(tmp_path / "a.json")])
    assert message in capsys.readouterr().err


def test_out_onto_a_directory_is_refused_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(video_net, "load_mnist", lambda *a: pytest.fail("data loaded"))
    with pytest.raises(SystemExit):
        video_net.main(["--out", str(tmp_path)])
    assert "is a folder" in capsys.readouterr().err
