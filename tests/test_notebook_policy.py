"""Every chapter notebook follows the book's outputs policy (CONTRIBUTING.md).

nbval checks that each notebook reproduces its outputs; these tests check that
the committed notebook is one the site can be built from and readers can use.
"""

import base64
import io
import json
import re
import sys
from pathlib import Path

import PIL.Image
import pytest

from textbook_utils.figures.plotting import TEXT_SIZE_KEY  # the PNG chunk: smallest text, pt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import portable_prose  # noqa: E402  (scripts/ is not a package; the glued records and prose)

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
def test_every_figure_has_alt_text_and_a_caption(path):
    nb = json.loads(path.read_text())
    for cell in _code_cells(nb):
        has_image = any("image/png" in o.get("data", {}) for o in cell["outputs"])
        if has_image:
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"figure without alt text in cell: {''.join(cell['source'])[:80]!r}"
            hidden = {"remove-cell", "remove-output"} & set(cell["metadata"].get("tags", []))
            caption = cell["metadata"].get("mystnb", {}).get("figure", {}).get("caption", "")
            assert hidden or len(caption) > 20, \
                f"figure without a caption (mystnb.figure.caption) in cell: {''.join(cell['source'])[:80]!r}"


#: no figure's lettering below this, in points (CONTRIBUTING.md, "Figures are
#: made for the column"); the site's reading test checks it as shown, in px
MIN_TEXT_PT = 10
_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def _pngs(nb):
    """Every PNG a chapter shows: figures, HTML images and the explorers' frames
    (hidden ones too, which the browser test never brings into view)."""
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                yield base64.b64decode("".join(data["image/png"]))
            for encoded in _PNG.findall("".join(data.get("text/html", ""))):
                yield base64.b64decode(encoded)
    for encoded in _PNG.findall(json.dumps(nb["metadata"].get("widgets", {}))):
        yield base64.b64decode(encoded)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_figure_records_lettering_of_10_points_or_more(path):
    nb = json.loads(path.read_text())
    sizes = [PIL.Image.open(io.BytesIO(png)).text.get(TEXT_SIZE_KEY) for png in _pngs(nb)]
    assert None not in sizes, "a figure drawn without the book's figure format (plotting.book_style)"
    small = [s for s in sizes if s != "none" and float(s) < MIN_TEXT_PT]
    assert small == [], f"figure text below {MIN_TEXT_PT} pt: {small}"


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



#: Count nouns the book puts after a number; "1 threads" is a slip a reader sees.
PLURALS = ("threads|cores|processes|workers|steps|epochs|seconds|minutes|hours|years|layers|heads|"
           "examples|images|digits|characters|tokens|parameters|neurons|weights|times|errors|seeds|"
           "batches|windows|words|GPUs|machines|points|runs|vectors|dimensions|features|samples")
ONE_PLURAL = re.compile(rf"(?<![\d.,])\b1 ({PLURALS})\b")
#: Python reprs that leak into prose when a NumPy scalar is glued or printed
#: (a printed tensor is a fine thing to show; a glued one-line value is a number slot).
REPR = re.compile(r"\bnp\.(?:u?int|float|bool|str)\w*\(|\bnp\.True_|\bnp\.False_")
SLOT_REPR = re.compile(r"^'?(?:tensor|array)\(")


def _shown_texts(nb):
    """Every text a page shows from outputs: printed lines, plain-text results, glued values."""
    for cell in _code_cells(nb):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                yield "".join(out["text"])
            for key in ("text/plain", portable_prose.RECORD):
                if key in out.get("data", {}):
                    value = out["data"][key]
                    yield "".join(value) if isinstance(value, list) else value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_shown_numbers_read_as_prose(path):
    """No ``np.int64(384)`` or ``1 threads`` in what a page prints, glues or says around a glued number."""
    nb = json.loads(path.read_text())
    texts = list(_shown_texts(nb))
    reprs = [m.group(0) for t in texts for m in REPR.finditer(t)]
    reprs += [v for v in portable_prose.records(nb).values() if "\n" not in v and SLOT_REPR.match(v)]
    assert reprs == [], f"Python reprs shown on the page: {reprs[:5]}"
    slips = [m.group(0) for t in texts for m in ONE_PLURAL.finditer(t)]
    glued = portable_prose.records(nb)
    for m in re.finditer(r"\{glue:text\}`([\w.-]+)(?::[^`]*)?`\s+([A-Za-z]+)", _markdown(nb)):
        if glued.get(m.group(1)) == "1" and re.fullmatch(PLURALS, m.group(2)):
            slips.append(f"{{glue:text}}`{m.group(1)}` {m.group(2)} (glued value 1)")
    assert slips == [], f"singular/plural slips: {slips[:5]}"



@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_prose_reads_the_same_in_jupyterlab_colab_and_on_the_site(path):
    """Numbers written out from the glued records, links instead of roles (scripts/portable_prose.py)."""
    nb = json.loads(path.read_text())
    _, changes = portable_prose.rewrite(nb, path)
    assert changes == [], (f"prose out of date with its records or holding roles; run "
                           f"`python scripts/portable_prose.py {path.relative_to(REPO)}`: {changes[:3]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_reader_cells_hold_no_test_machinery(path):
    """nbval markers are cell tags; package source is shown highlighted and whole."""
    nb = json.loads(path.read_text())
    for cell in _code_cells(nb):
        source = "".join(cell["source"])
        assert not re.search(r"#\s*NBVAL_", source), f"an nbval comment (use the cell tag): {source[:80]!r}"
        assert not re.search(r"print\(\s*inspect\.getsource", source), \
            f"source printed as grey text (use IPython.display.Code): {source[:80]!r}"
        assert not re.search(r"getsource\([^)]*\)\s*(\[|\.split|\.index|\.find|\.partition)", source), \
            f"source sliced at a string (show whole functions): {source[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_sources_are_links_a_reader_can_click(path):
    text = _markdown(json.loads(path.read_text()))
    sources = text[text.index("## Sources"):] if "## Sources" in text else ""
    assert re.search(r"\]\(https?://", sources), "the Sources section links none of its sources"
    bare = re.findall(r"(?<!\[)\barXiv:\d{4}\.\d{4,5}(?!(?:v\d+)?\]\()", text)
    assert bare == [], f"arXiv references without a link: {bare[:3]}"
