"""Sphinx extension: search results that list each page once, with snippets from its text.

Two things the default search of Jupyter Book's theme gets wrong for this book:

* **Glossary listed twice.** Every glossary term is also an index entry, and
  Sphinx's search shows index entries as results of their own: a query that
  names a term lists "Glossary" once for the entry and once for the page's
  text. The entries stay in the book's index (``genindex.html`` and the PDF's
  index); they are left out of the *search* index only.
* **A page listed twice.** A page whose numbered section title and whose
  text both match is listed once for each; ``search-snippets.js`` keeps each
  page's best-scoring result.
* **Snippets that start with button text.** A snippet is cut from the page's
  main element, which in this theme begins with the header's buttons (launch,
  download, source). ``search-snippets.js``, beside this file, removes those
  and the page navigation before the snippet is cut. It is added to the search
  page only (a script under ``_static/`` would go into every page).

Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx

SNIPPETS_JS = Path(__file__).with_name("search-snippets.js")
GLOSSARY_DOCS = {"book/questions/glossary"}


def _drop_glossary_index_entries(app: Sphinx, *args) -> list:
    """Leave the glossary's index entries out of the search index (html-collect-pages)."""
    indexer = getattr(app.builder, "indexer", None)
    if indexer is not None:
        for docname in GLOSSARY_DOCS:
            indexer._index_entries.pop(docname, None)
    return []


def _add_snippet_script(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if pagename == "search":
        # Deferred, so it runs after searchtools.js defines Search and before the query runs.
        app.add_js_file("search-snippets.js", loading_method="defer")


def _copy_script(app: Sphinx, exception) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copy2(SNIPPETS_JS, Path(app.outdir) / "_static" / SNIPPETS_JS.name)


def setup(app: Sphinx) -> dict:
    app.connect("html-collect-pages", _drop_glossary_index_entries)
    app.connect("html-page-context", _add_snippet_script)
    app.connect("build-finished", _copy_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
