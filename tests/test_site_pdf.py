"""The PDF check (scripts/check_pdf.py) catches missing chapters, figures and math.

The PDF itself is built and checked by .ci/run (README, "The three commands");
these tests feed the checker made-up page texts, so they need no TeX. The last
one checks, with `make -n`, the latexmk command the PDF build runs.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import check_pdf  # noqa: E402  (scripts/ is not a package)
from widget_figures import WIDGET_VIEW  # noqa: E402

PNG = "iVBORw0KGgo="


def _chapter(folder, name, title, figures, math=True):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [f"# {title}\n", "\n",
              "Text with $a = \\sigma(z)$.\n" if math else "Text.\n"]}]
    for _ in range(figures):
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": 1, "source": ["plot();"],
                      "outputs": [{"output_type": "display_data", "metadata": {},
                                   "data": {"image/png": PNG, "text/plain": ["<Figure>"]}}]})
    # A hidden figure does not count.
    cells.append({"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "execution_count": 2,
                  "source": ["x"], "outputs": [{"output_type": "display_data", "metadata": {},
                                                "data": {"image/png": PNG}}]})
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.fixture
def chapters(tmp_path):
    return [_chapter(tmp_path, "a", "But what is a neural network?", 2),
            _chapter(tmp_path, "b", "Gradient descent: downhill", 1, math=False)]


def _pages(*chapter_pages):
    front = ["Neural Networks, Executed", "CONTENTS\n1 But what is a neural network? . . . . . 3\n"
             "2 Gradient descent: downhill . . . . . 5"]
    return front + list(chapter_pages)


GOOD = _pages("CHAPTER\n\nONE\n\nBUT WHAT IS A NEURAL NETWORK?\n\nwith 𝑎 = 𝜎(𝑧)", "more 𝑊",
              "CHAPTER\n\nTWO\n\nGRADIENT DESCENT: DOWNHILL\n\ntext")


def test_a_complete_pdf_passes(chapters):
    assert [check_pdf.shown_figures(c) for c in chapters] == [2, 1]
    assert check_pdf.check_pages(GOOD, {3: 1, 4: 1, 5: 1}, chapters) == []


def test_a_missing_chapter_is_reported(chapters):
    pages = GOOD[:4]
    problems = check_pdf.check_pages(pages, {3: 1, 4: 1}, chapters)
    assert len(problems) == 1 and "gradient descent: downhill" in problems[0]


def test_a_title_only_in_the_contents_does_not_count(chapters):
    problems = check_pdf.check_pages(GOOD[:2], {}, chapters)
    assert len(problems) == 2


def test_chapters_out_of_order_are_reported(chapters):
    pages = _pages(GOOD[4], GOOD[2], GOOD[3])
    problems = check_pdf.check_pages(pages, {3: 1, 4: 1, 5: 1}, chapters)
    assert any("gradient descent" in p for p in problems)


def test_missing_figures_are_reported(chapters):
    problems = check_pdf.check_pages(GOOD, {3: 1, 5: 1}, chapters)
    assert problems == [f"{chapters[0]}: 2 figures in the chapter, 1 images in its PDF pages"]


def test_untypeset_math_is_reported(chapters):
    pages = list(GOOD)
    pages[2] = "CHAPTER\n\nONE\n\nBUT WHAT IS A NEURAL NETWORK?\n\nwith $a = \\sigma(z)$"
    pages[3] = "more"
    problems = check_pdf.check_pages(pages, {3: 1, 4: 1, 5: 1}, chapters)
    assert any("no typeset math" in p for p in problems)


def test_raw_tex_is_reported(chapters):
    pages = list(GOOD)
    pages[4] += "\n\\frac{1}{2}"
    problems = check_pdf.check_pages(pages, {3: 1, 4: 1, 5: 1}, chapters)
    assert problems == [f"{chapters[1]}: raw TeX in its PDF pages"]


def test_a_widget_counts_as_one_figure_its_small_multiples():
    # Chapter 1's activation explorer holds 30 pre-drawn frames; the PDF tiles
    # them into one image, so the chapter shows its plain figures plus one.
    path = REPO / "book" / "3b1b" / "01_what_is_a_neural_network.ipynb"
    outputs = [out for cell in json.loads(path.read_text())["cells"]
               if cell["cell_type"] == "code"
               and "remove-cell" not in cell.get("metadata", {}).get("tags", [])
               for out in cell.get("outputs", [])]
    widgets = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    plain = [o for o in outputs if "image/png" in o.get("data", {})
             and WIDGET_VIEW not in o["data"]
             and "scrapbook" not in o.get("metadata", {})]
    assert len(widgets) == 1
    assert check_pdf.shown_figures(path) == len(plain) + 1


def test_site_check_wants_the_pdf_published_and_offered_on_every_page(tmp_path):
    from toc import toc_entries

    pages = toc_entries(check_pdf.REPO / "_toc.yml")
    pdf = tmp_path / "latex" / "book.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.5 the book")
    site = tmp_path / "html"
    assert any("is missing" in p for p in check_pdf.site_problems(site, pdf))
    for page in pages:
        depth = page.count("/")
        (site / page).parent.mkdir(parents=True, exist_ok=True)
        (site / f"{page}.html").write_text(f'<a href="{"../" * depth}book.pdf">book (.pdf)</a>')
    (site / "book.pdf").write_bytes(pdf.read_bytes())
    assert check_pdf.site_problems(site, pdf) == []
    (site / f"{pages[-1]}.html").write_text("<p>no link</p>")
    (site / "book.pdf").write_bytes(b"%PDF-1.5 an older book")
    problems = check_pdf.site_problems(site, pdf)
    assert len(problems) == 2 and "not the PDF" in problems[0] and pages[-1] in problems[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make (the PDF command runs it)")
def test_latexmk_makes_the_pdf_once_from_xelatex_passes(tmp_path):
    # jupyter-book runs `make all-pdf` in _build/latex, where Sphinx writes its
    # Makefile and latex_additional_files add scripts/latex/GNUmakefile, which
    # GNU make reads first: latexmk must run in xelatex mode (each pass to .xdv,
    # one xdvipdfmx at the end) with xdvipdfmx at zlib's level 6.
    from sphinx.builders.latex import package_dir
    from sphinx.util.fileutil import copy_asset_file

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert "scripts/latex/GNUmakefile" in config["sphinx"]["config"]["latex_additional_files"]
    copy_asset_file(Path(package_dir) / "texinputs" / "Makefile.jinja", tmp_path,
                    context={"latex_engine": "xelatex", "xindy_use": False})
    shutil.copy(REPO / "scripts" / "latex" / "GNUmakefile", tmp_path)
    (tmp_path / "book.tex").write_text("\\documentclass{article}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LATEXMKOPTS", "MAKEFLAGS")}
    dry_run = subprocess.run(["make", "-n", "all-pdf"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=True).stdout
    command = shlex.split(next(line for line in dry_run.splitlines() if line.startswith("latexmk")))
    # -pdfxe after Sphinx's own -pdf, so it is the mode latexmk uses.
    assert command.index("-pdfxe") > command.index("-pdf")
    rc = command[command.index("-e") + 1]
    assert rc.startswith("$xdvipdfmx = ") and " -z 6 " in rc and "%D" in rc and "%S" in rc
    assert command[-1] == "book.tex"
