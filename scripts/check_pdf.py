"""Check the whole-book PDF: a chapter for every chapter in the TOC, with its figures and math.

Usage (after the README's PDF command)::

    .venv/bin/python scripts/check_pdf.py _build/latex/book.pdf
    .venv/bin/python scripts/check_pdf.py --site _build/html   # after the site build

With ``--site``, it checks instead that the website carries that PDF as
``book.pdf`` (scripts/book_pdf.py) and that every page of the TOC offers it.

For every chapter listed in ``_toc.yml``, in order, the PDF must have a page
that opens the chapter ("CHAPTER ONE" and the chapter's title); the
pages up to the next chapter must hold at least as many images as the
chapter shows figures, and, where the chapter has math, typeset math
(mathematical italic letters, not ``$...$``). No character may have been
dropped for want of a glyph (xelatex's "Missing character" in ``book.log``). Reads the PDF with Poppler's
``pdftotext`` and ``pdfimages`` (Debian package ``poppler-utils``). Exits 1
and says what is missing otherwise.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from toc import toc_entries

REPO = Path(__file__).resolve().parents[1]
HIDDEN_TAGS = {"remove-cell", "remove-output"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def toc_chapters(toc_path: Path = REPO / "_toc.yml") -> list[Path]:
    """The chapter files listed in the TOC, in order (the root page is front matter, not a chapter)."""
    files = toc_entries(toc_path, include_root=False)
    paths = []
    for entry in files:
        candidates = [REPO / entry] if Path(entry).suffix else [REPO / f"{entry}{s}" for s in (".ipynb", ".md")]
        found = [p for p in candidates if p.is_file()]
        if not found:
            raise FileNotFoundError(f"_toc.yml lists {entry}, which does not exist")
        paths.append(found[0])
    return paths


def _markdown_and_outputs(path: Path) -> tuple[str, list[dict]]:
    if path.suffix == ".md":
        text = path.read_text()
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)   # front matter
        return text, []
    nb = json.loads(path.read_text())
    markdown = "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    outputs = []
    for cell in nb["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] == "code" and not tags & HIDDEN_TAGS:
            outputs += cell.get("outputs", [])
    return markdown, outputs


def chapter_title(path: Path) -> str:
    markdown, _ = _markdown_and_outputs(path)
    match = re.search(r"^# +(.+?)\s*$", markdown, flags=re.M)
    if not match:
        raise ValueError(f"{path}: no '# ' title")
    return re.sub(r"[*_`]", "", match.group(1))


def shown_figures(path: Path) -> int:
    """Figures the chapter shows: PNG outputs (not hidden, not glued for use elsewhere), and one
    for every widget that holds figures: the PDF shows a widget's frames tiled into one image of
    small multiples (scripts/widget_figures.py)."""
    from widget_figures import _images, _widget_state   # beside this file

    _, outputs = _markdown_and_outputs(path)
    state = _widget_state(path)
    count = 0
    for out in outputs:
        data = out.get("data", {})
        if WIDGET_VIEW in data:
            count += 1 if _images(state, data[WIDGET_VIEW]["model_id"]) else 0
        elif "image/png" in data and "scrapbook" not in out.get("metadata", {}):
            count += 1
    return count


def has_math(path: Path) -> bool:
    markdown, _ = _markdown_and_outputs(path)
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return bool(re.search(r"\$[^$\n]+\$|\\begin\{", markdown))


_PLAIN_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)   # also maps math italic 𝑎 to a
    text = text.translate(_PLAIN_PUNCTUATION)
    return re.sub(r"\s+", " ", text).strip().lower()


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")


def images_per_page(pdf: Path) -> dict[int, int]:
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    counts: dict[int, int] = {}
    for line in listing.splitlines()[2:]:
        fields = line.split()
        if len(fields) > 2 and fields[2] == "image":
            counts[int(fields[0])] = counts.get(int(fields[0]), 0) + 1
    return counts


def check_pages(pages: list[str], images: dict[int, int], chapters: list[Path]) -> list[str]:
    """The problems found in a PDF's page texts and image counts (pages numbered from 1)."""
    problems: list[str] = []
    starts: list[int | None] = []
    previous = -1
    normalised = [normalise(page) for page in pages]   # once, not once per chapter
    for path in chapters:
        title = normalise(chapter_title(path))
        opening = re.compile(r"^chapter\b.{0,40}?" + re.escape(title))
        hits = [i for i, page in enumerate(normalised) if i > previous and opening.search(page)]
        if not hits:
            problems.append(f"{_name(path)}: no page after the previous chapter opens with its title {title!r}")
            starts.append(None)
            continue
        previous = hits[0]
        starts.append(hits[0])
    found_starts = [s for s in starts if s is not None] + [len(pages)]
    for path, start in zip(chapters, starts):
        if start is None:
            continue
        end = found_starts[found_starts.index(start) + 1]
        # pdfimages numbers pages from 1; pages[] from 0.
        found = sum(images.get(n + 1, 0) for n in range(start, end))
        wanted = shown_figures(path)
        if found < wanted:
            problems.append(f"{_name(path)}: {wanted} figures in the chapter, {found} images in its PDF pages")
        text = "".join(pages[start:end])
        if has_math(path) and not re.search(r"[\U0001D400-\U0001D7FF]", text):
            problems.append(f"{_name(path)}: has math, but its PDF pages show no typeset math")
        if re.search(r"\$\$|\\frac|\\begin\{", text):
            problems.append(f"{_name(path)}: raw TeX in its PDF pages")
    return problems


def _name(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


# Invisible characters whose absence from a font changes nothing on the page.
_INVISIBLE = {"U+FE0F", "U+FE0E", "U+200B", "U+200D"}


def missing_characters(log_text: str) -> dict[str, int]:
    """Characters xelatex dropped because the font lacks them ("Missing character" in the log)."""
    counts: dict[str, int] = {}
    for match in re.finditer(r"Missing character: There is no (.*?) \((U\+[0-9A-F]+)\) in font (\S+)", log_text):
        if match.group(2) not in _INVISIBLE:
            key = f"{match.group(1)} ({match.group(2)}) in {match.group(3).split('/')[0]}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def site_problems(site: Path, pdf: Path = REPO / "_build" / "latex" / "book.pdf") -> list[str]:
    """What is wrong with the PDF as the website publishes it."""
    published = site / "book.pdf"
    if not published.is_file():
        return [f"{published} is missing: build the PDF before the site (scripts/book_pdf.py)"]
    problems = []
    if pdf.is_file() and published.read_bytes() != pdf.read_bytes():
        problems.append(f"{published} is not the PDF the PDF command made ({pdf})")
    pages = [site / f"{entry}.html" for entry in toc_entries(REPO / "_toc.yml")]
    for page in pages:
        html = page.read_text() if page.is_file() else ""
        if not re.search(r'href="(?:\.\./)*book\.pdf"', html):
            problems.append(f"{page} does not link the whole book's PDF")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--site":
        problems = site_problems(Path(argv[1]))
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"{argv[1]}: book.pdf published; every page offers it")
        return 1 if problems else 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    pdf = Path(argv[0])
    if not pdf.is_file():
        print(f"{pdf} does not exist: build it with the README's PDF command first", file=sys.stderr)
        return 1
    with ThreadPoolExecutor(2) as pool:   # pdftotext and pdfimages side by side
        pages_job, images_job = pool.submit(pdf_pages, pdf), pool.submit(images_per_page, pdf)
        pages, images, chapters = pages_job.result(), images_job.result(), toc_chapters()
    problems = check_pages(pages, images, chapters)
    log = pdf.with_suffix(".log")
    if log.is_file():
        for character, count in missing_characters(log.read_text(errors="replace")).items():
            problems.append(f"{pdf}: the font lacks {character}, so the PDF drops it ({count} times; see {log})")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{pdf}: {len(pages) - 1} pages; all {len(chapters)} chapters present, with their figures and math")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
