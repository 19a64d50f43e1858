"""Every chapter notebook follows the book's outputs policy (CONTRIBUTING.md).

nbval checks that each notebook reproduces its outputs; these tests check that
the committed notebook is one the site can be built from and readers can use.
"""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (REPO / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _markdown(nb):
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_there_are_chapters():
    assert NOTEBOOKS, "book/ has no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_executed_top_to_bottom_without_errors(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    cells = _code_cells(nb)
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, "every code cell must be executed"
    assert counts == list(range(counts[0], counts[0] + len(counts))), "run top to bottom in one kernel"
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_figure_has_alt_text(path):
    nb = json.loads(path.read_text())
    for cell in _code_cells(nb):
        has_image = any("image/png" in o.get("data", {}) for o in cell["outputs"])
        if has_image:
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"figure without alt text in cell: {''.join(cell['source'])[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_chapter_ends_with_exercises_and_folded_solutions(path):
    text = _markdown(json.loads(path.read_text()))
    assert "## Exercises" in text
    assert ":class: dropdown" in text


#: PEP 8's limit, which is also what the site's code column shows at its normal width
MAX_LINE = 79


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_code_lines_fit_the_page(path):
    nb = json.loads(path.read_text())
    long = [line for cell in _code_cells(nb) for line in "".join(cell["source"]).splitlines()
            if len(line) > MAX_LINE and "https://" not in line]  # a URL cannot be broken
    assert long == [], f"{len(long)} code lines longer than {MAX_LINE} characters, e.g. {long[:3]}"


#: what the site's output column shows without a sideways scroll bar
MAX_PRINTED = 80


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_printed_lines_fit_the_page(path):
    """What a cell prints (including package source shown with ``inspect.getsource``) fits the column."""
    nb = json.loads(path.read_text())
    long = [line for cell in _code_cells(nb) for out in cell.get("outputs", [])
            if out["output_type"] == "stream"
            for line in "".join(out["text"]).splitlines() if len(line) > MAX_PRINTED]
    assert long == [], f"{len(long)} printed lines longer than {MAX_PRINTED} characters, e.g. {long[:3]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_chapter_ends_with_a_summary_before_its_exercises(path):
    text = _markdown(json.loads(path.read_text()))
    assert "## Summary" in text and text.index("## Summary") < text.index("## Exercises")

