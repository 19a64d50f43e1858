"""Keep every chapter's Colab setup cell pointing at the repository named in _config.yml.

The first code cell of every chapter is a hidden cell (tag ``remove-cell``)
that, only when the notebook runs on Google Colab, clones the book's
repository (``repository.url`` in ``_config.yml``) and installs its helper
package, so the chapter then runs unchanged with the book's data. Elsewhere
the cell does nothing. The cell uses IPython's ``!`` and ``%pip``, which every
Jupyter kernel the book runs in understands.

A fork changes ``repository.url`` and runs::

    .venv/bin/python scripts/sync_colab_cells.py

which rewrites only the URL string inside each chapter's setup cell: outputs,
execution counts and every other byte of the notebooks stay as they were, so
the committed outputs stay valid for nbval. ``--check`` changes nothing and
exits with status 1 if a notebook is out of date.

``tests/test_site_notebooks.py`` checks that every chapter starts with this
cell, with the configured URL.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

# The cell's source, exactly; "{url}" is repository.url from _config.yml.
COLAB_CELL = """\
# On Colab: fetch the book (code and data) and install its package first.
import sys
if "google.colab" in sys.modules:
    BOOK_REPOSITORY = "{url}"
    !git clone -q --depth 1 $BOOK_REPOSITORY /content/book
    %pip install -q -e /content/book
    sys.path.insert(0, "/content/book/src")"""
COLAB_TAG = "remove-cell"

# The URL as it appears inside the notebook's JSON text (a JSON string holding
# a Python string literal: the quotes are escaped).
_URL_IN_JSON = re.compile(r'(BOOK_REPOSITORY = \\")([^"\\]*)(\\")')


def repository_url(config_path: Path = REPO / "_config.yml") -> str:
    config = yaml.safe_load(config_path.read_text())
    url = (config.get("repository") or {}).get("url")
    if not isinstance(url, str) or not re.fullmatch(r"https://[^\s\"\\]+", url):
        raise ValueError(f"repository.url in {config_path} must be an https:// URL, got {url!r}")
    return url


def expected_source(url: str) -> str:
    return COLAB_CELL.format(url=url)


def chapters(book: Path = REPO / "book") -> list[Path]:
    return sorted(p for p in book.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def first_code_cell(notebook: dict) -> dict | None:
    return next((cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"), None)


def problems(path: Path, url: str) -> list[str]:
    """What is wrong with this notebook's Colab cell (empty if nothing)."""
    cell = first_code_cell(json.loads(path.read_text()))
    if cell is None:
        return [f"{path}: no code cell, so no Colab setup cell"]
    found = []
    source = "".join(cell.get("source", []))
    if source != expected_source(url):
        found.append(f"{path}: the first code cell is not the Colab setup cell for {url}")
    if COLAB_TAG not in cell.get("metadata", {}).get("tags", []):
        found.append(f"{path}: the Colab setup cell lacks the tag {COLAB_TAG!r}")
    return found


def sync(path: Path, url: str) -> bool:
    """Point this notebook's Colab cell at ``url``; return True if the file changed.

    Raises ValueError if the first code cell is not a Colab setup cell: such a
    chapter needs one added by hand (copy it from another chapter), then a
    fresh top-to-bottom execution.
    """
    text = path.read_text()
    cell = first_code_cell(json.loads(text))
    source = "".join(cell.get("source", [])) if cell else ""
    if cell is None or _URL_IN_JSON.search(json.dumps(source)) is None:
        raise ValueError(f"{path}: its first code cell is not a Colab setup cell; add one (README, 'Forks')")
    matches = list(_URL_IN_JSON.finditer(text))
    if len(matches) != 1:
        raise ValueError(f"{path}: expected BOOK_REPOSITORY exactly once, found it {len(matches)} times")
    new_text = _URL_IN_JSON.sub(lambda m: m.group(1) + url + m.group(3), text)
    remaining = problems_in_text(new_text, path, url)
    if remaining:
        raise ValueError("; ".join(remaining))
    if new_text == text:
        return False
    path.write_text(new_text)
    return True


def problems_in_text(text: str, path: Path, url: str) -> list[str]:
    cell = first_code_cell(json.loads(text))
    if cell is None or "".join(cell.get("source", [])) != expected_source(url):
        return [f"{path}: after rewriting the URL the first code cell still differs from the Colab setup cell"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    url = repository_url()
    failures: list[str] = []
    changed = 0
    for path in chapters():
        if args.check:
            failures += problems(path, url)
            continue
        try:
            changed += sync(path, url)
        except ValueError as error:
            failures.append(str(error))
    for failure in failures:
        print(failure, file=sys.stderr)
    if not args.check:
        print(f"{changed} notebook(s) updated to {url}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
