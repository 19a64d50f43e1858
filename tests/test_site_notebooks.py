"""Every chapter opens with the Colab setup cell for the repository in _config.yml.

The Colab and Binder buttons, the "view source" link and this cell all derive
from ``repository.url``; ``scripts/sync_colab_cells.py`` keeps the cells in
step when a fork changes it (README, "Forks").
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location("sync_colab_cells", REPO / "scripts" / "sync_colab_cells.py")
sync_colab_cells = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_colab_cells)

CHAPTERS = sync_colab_cells.chapters()
URL = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]


def test_there_are_chapters_and_the_url_is_a_github_repository():
    assert CHAPTERS
    assert URL.startswith("https://github.com/") and URL.count("/") == 4, URL


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: str(p.relative_to(REPO)))
def test_first_code_cell_is_the_hidden_colab_setup_cell_for_the_configured_repository(notebook):
    nb = json.loads(notebook.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(cell["source"])
    assert f'BOOK_REPOSITORY = "{URL}"' in source
    assert 'if "google.colab" in sys.modules:' in source
    assert "remove-cell" in cell["metadata"].get("tags", [])
    assert cell["outputs"] == [], "outside Colab the cell does nothing, so it prints nothing"
    assert sync_colab_cells.problems(notebook, URL) == []


def test_the_cell_is_a_no_op_outside_colab_and_clones_the_configured_repository_inside(monkeypatch):
    from IPython.core.inputtransformer2 import TransformerManager

    # The cell as IPython runs it: `!cmd` and `%pip` become calls on get_ipython().
    source = TransformerManager().transform_cell(sync_colab_cells.expected_source(URL))
    calls = []

    class Shell:
        def system(self, command):
            calls.append(("!", command))

        def run_line_magic(self, name, line):
            calls.append(("%" + name, line))

    def run():
        shell = Shell()
        namespace = {"get_ipython": lambda: shell}
        exec(compile(source, "colab-cell", "exec"), namespace)
        return namespace

    run()
    assert calls == [], "outside Colab nothing runs"

    import sys
    monkeypatch.setitem(sys.modules, "google.colab", object())
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert run()["BOOK_REPOSITORY"] == URL
    # IPython expands $BOOK_REPOSITORY from the cell's own variable, set just above.
    assert calls[0] == ("!", "git clone -q --depth 1 $BOOK_REPOSITORY /content/book")
    assert calls[1] == ("%pip", "install -q -e /content/book")
    assert sys.path[0] == "/content/book/src"


def test_sync_rewrites_only_the_url_and_round_trips(tmp_path):
    original = CHAPTERS[0]
    copy = tmp_path / original.name
    shutil.copy(original, copy)
    fork = "https://github.com/someone-else/their-fork"

    assert sync_colab_cells.sync(copy, fork) is True
    changed = copy.read_text()
    assert changed.replace(fork, URL) == original.read_text(), "anything but the URL changed"
    assert sync_colab_cells.problems(copy, fork) == []
    assert sync_colab_cells.problems(copy, URL) != []

    assert sync_colab_cells.sync(copy, fork) is False, "a second run changes nothing"
    assert sync_colab_cells.sync(copy, URL) is True
    assert copy.read_bytes() == original.read_bytes()


def test_sync_refuses_a_notebook_without_the_setup_cell(tmp_path):
    nb = json.loads(CHAPTERS[0].read_text())
    first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    del nb["cells"][first]
    path = tmp_path / "no_setup_cell.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(ValueError, match="not a Colab setup cell"):
        sync_colab_cells.sync(path, URL)
    assert sync_colab_cells.problems(path, URL)


def test_repository_url_must_be_https(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: git@github.com:someone/book.git\n")
    with pytest.raises(ValueError, match="https"):
        sync_colab_cells.repository_url(config)
