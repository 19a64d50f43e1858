"""Sphinx extension: the whole book as a PDF, published with the website and offered on every page.

The PDF is made by the README's PDF command (``_build/latex/book.pdf``). When
that file exists as the website is built, this extension copies it into the
site as ``book.pdf`` and makes the download button of every page offer it
("the whole book (.pdf)"), in place of the theme's "print this page to PDF",
which only opens the browser's print dialog. The publish workflow
(``.github/workflows/book.yml``) and ``.ci/run`` build the PDF first, so the
published site always has it; a site built without it says so in the build
log and shows the download button without the PDF.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

REPO = Path(__file__).resolve().parents[1]
PDF = REPO / "_build" / "latex" / "book.pdf"
NAME = "book.pdf"  # where it goes in the site
logger = logging.getLogger(__name__)


def _pdf(app: Sphinx) -> Path | None:
    path = Path(app.config.book_pdf)
    return path if path.is_file() and app.builder.format == "html" else None


def _announce(app: Sphinx) -> None:
    if app.builder.format == "html" and _pdf(app) is None:
        logger.info(f"book_pdf: no PDF at {app.config.book_pdf}; the site is built without it "
                    "(run the README's PDF command first to publish it with the site)")


def _offer_pdf(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Replace the theme's print-to-PDF entry of the download button by the whole book's PDF."""
    if _pdf(app) is None:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            entries = [b for b in button["buttons"] if b.get("label") != "download-pdf-button"]
            entries.append({"type": "link", "url": context["pathto"](NAME, 1), "text": "book (.pdf)",
                            "tooltip": "Download the whole book as one PDF", "icon": "fas fa-file-pdf",
                            "label": "download-book-pdf-button"})
            button["buttons"] = entries


def _copy_pdf(app: Sphinx, exception) -> None:
    pdf = _pdf(app) if exception is None else None
    if pdf is not None:
        shutil.copy2(pdf, Path(app.outdir) / NAME)


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_pdf", str(PDF), "html")
    app.connect("builder-inited", _announce)
    # After the theme has made its header buttons (sphinx-book-theme, priority 500/501).
    app.connect("html-page-context", _offer_pdf, priority=900)
    app.connect("build-finished", _copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
