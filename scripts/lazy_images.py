"""Sphinx extension: every image of the website is a file, loaded when it nears the screen.

The frames of the book's explorers (``textbook_utils.figures.widgets``) are PNGs
inlined, base64-encoded, in the widget state that MyST-NB writes into the page:
tens of frames made a chapter's HTML file 1.5 MB, all downloaded before the
first line shows, though a reader sees one frame at a time. When an HTML build
finishes, this extension

* writes each inlined PNG to ``_images/`` (named by its hash, so a frame two
  pages share is one file the browser caches) and points the page at it, and
* adds ``loading="lazy"`` to every ``<img>`` of every page — figures and
  frames — so the browser fetches an image only when it comes near the
  screen (a frame hidden behind its explorer's controls: when it is shown).

The notebooks keep their inlined frames (Jupyter needs no files beside
them); only the built pages change. Enabled in ``_config.yml`` under
``sphinx: local_extensions``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
from pathlib import Path

from sphinx.application import Sphinx

_INLINE_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
_WIDGET_STATE = re.compile(
    r'(<script type="application/vnd\.jupyter\.widget-state\+json">)(.*?)(</script>)', re.S)
# An <img> tag with no loading attribute, in HTML and inside the widget
# state's JSON strings (where its quotes are written \").
_IMG = re.compile(r"<img\b(?![^>]*\bloading=)")
_IMG_INLINE = re.compile(r"<img\b[^>]*data:image/png;base64,[^>]*>")
_WIDTH = re.compile(r'\bwidth=\\?"([0-9.]+)\\?"')
_HEIGHT = re.compile(r"\bheight=")


def _files_for_frames(text: str, page: Path, images: Path) -> str:
    """Each inlined PNG written to ``images/`` and replaced by its relative URL.

    An ``<img>`` (in the widget state's JSON, quotes written \\") also gets
    its size, so that a frame loaded lazily keeps its place while it loads:
    its ``width`` (CSS px) if given, else the PNG's, and the height in
    proportion.
    """
    def to_file(png: bytes) -> str:
        path = images / f"{hashlib.sha256(png).hexdigest()[:32]}.png"
        if not path.exists():
            path.write_bytes(png)
        return Path(os.path.relpath(path, page.parent)).as_posix()

    def tag(match: re.Match) -> str:
        markup = match.group(0)
        png = base64.b64decode(_INLINE_PNG.search(markup).group(1))
        pixels_w, pixels_h = struct.unpack(">II", png[16:24])      # the PNG's IHDR
        markup = _INLINE_PNG.sub(lambda m: to_file(png), markup)
        if _HEIGHT.search(markup):
            return markup
        given = _WIDTH.search(markup)
        width = float(given.group(1)) if given else pixels_w
        size = (f' height=\\"{width * pixels_h / pixels_w:.0f}\\"' if given else
                f' width=\\"{width:g}\\" height=\\"{pixels_h}\\"')
        return markup[:4] + size + markup[4:]

    text = _IMG_INLINE.sub(tag, text)
    return _INLINE_PNG.sub(lambda m: to_file(base64.b64decode(m.group(1))), text)


def lighten(text: str, page: Path, images: Path) -> str:
    """The page's HTML with its frames as files and every image loaded lazily."""
    def state(match: re.Match) -> str:
        body = _files_for_frames(match.group(2), page, images)
        body = _IMG.sub(r'<img loading=\\"lazy\\"', body)
        return match.group(1) + body + match.group(3)

    parts = []
    end = 0
    for match in _WIDGET_STATE.finditer(text):
        parts.append(_IMG.sub('<img loading="lazy"', text[end:match.start()]))
        parts.append(state(match))
        end = match.end()
    parts.append(_IMG.sub('<img loading="lazy"', text[end:]))
    return "".join(parts)


def _lighten_site(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    images = out / "_images"
    images.mkdir(exist_ok=True)
    for page in out.rglob("*.html"):
        if "_static" in page.relative_to(out).parts:
            continue
        text = page.read_text(encoding="utf-8")
        lighter = lighten(text, page, images)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _lighten_site)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
