"""Sphinx extension: in the PDF, a widget shows the figures it holds, as small multiples.

On the website a widget output is rendered by the ipywidgets HTML manager
from the widget state saved in the notebook (see ``offline_widgets.py``); the
book's explorers (``textbook_utils.figures.widgets``) hold one pre-drawn frame per
setting of their controls and switch between them in the browser. LaTeX cannot
run them, and MyST-NB would print the widget's text form instead
(``VBox(children=(...``). This extension reads the saved widget state, finds
the images the widget holds (``<img>`` tags in ``HTML`` widgets and in
``Output`` areas, in order), picks up to six spread evenly over the controls'
range, tiles them into one figure, and adds it to the widget's output inside an
``only:: latex`` node, so that the PDF shows small multiples (with their alt
text) and the website is unchanged.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``, together with
the MyST-NB priority override that makes LaTeX pick the widget view.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_MODEL_ID = re.compile(r'"model_id":\s*"([^"]+)"')
_IMG = re.compile(r"<img\b[^>]*>", re.I)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _widget_state(source: Path) -> dict:
    if source.suffix != ".ipynb":
        return {}
    metadata = json.loads(source.read_text()).get("metadata", {})
    return metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _img_tags(markup: str) -> list[tuple[bytes, str]]:
    """The inline PNGs of ``<img>`` tags in HTML, with their alt text."""
    found = []
    for tag in _IMG.findall(markup):
        png = re.search(r'src="data:image/png;base64,([^"]+)"', tag)
        alt = re.search(r'alt="([^"]*)"', tag)
        if png:
            found.append((base64.b64decode(png.group(1)), html.unescape(alt.group(1)) if alt else ""))
    return found


def _images(state: dict, model_id: str, seen: set[str] | None = None) -> list[tuple[bytes, str]]:
    """PNG images (bytes, alt text) shown by this widget and its children, in order."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    found = []
    if model.get("model_name") == "HTMLModel":
        found += _img_tags(_text(model.get("state", {}).get("value", "")))
    if model.get("model_name") == "OutputModel":
        for output in model.get("state", {}).get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                alt = _text(data.get("text/plain", ""))
                found.append((base64.b64decode(_text(data["image/png"])), alt.strip()))
            elif "text/html" in data:
                found += _img_tags(_text(data["text/html"]))
    for child in model.get("state", {}).get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            found += _images(state, child[len("IPY_MODEL_"):], seen)
    return found


def small_multiples(images: list[tuple[bytes, str]], most: int = 6) -> tuple[bytes, str]:
    """Up to ``most`` of ``images``, spread evenly, tiled into one PNG; returns (png, alt)."""
    import io

    import matplotlib

    matplotlib.use("Agg")  # the build has no display
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    import numpy as np

    if len(images) == 1:
        return images[0]
    picks = sorted(set(np.linspace(0, len(images) - 1, min(most, len(images))).round().astype(int)))
    chosen = [images[i] for i in picks]
    columns = 2 if len(chosen) <= 4 else 3
    rows = -(-len(chosen) // columns)
    arrays = [mpimg.imread(io.BytesIO(png), format="png") for png, _ in chosen]
    height, width = max(a.shape[0] for a in arrays), max(a.shape[1] for a in arrays)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * width / 100, rows * height / 100), dpi=100)
    for ax in np.atleast_1d(axes).flat:
        ax.axis("off")
    for ax, array in zip(np.atleast_1d(axes).flat, arrays):
        ax.imshow(array)
    fig.tight_layout(pad=0.2)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    alt = (f"{len(chosen)} of the {len(images)} views of the interactive figure, side by side: "
           + " | ".join(a for _, a in chosen))
    return buffer.getvalue(), alt


def _add_figures(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    source = Path(app.env.doc2path(docname))
    views = [n for n in doctree.findall(nodes.container) if n.get("mime_type") == WIDGET_VIEW]
    if not views:
        return
    state = _widget_state(source)
    folder = Path(app.outdir).parent / "jupyter_execute" / "widget_figures"
    for view in views:
        match = _MODEL_ID.search(view.astext())
        images = _images(state, match.group(1)) if match else []
        if not images:
            continue
        png, alt = small_multiples(images)
        path = folder / f"{hashlib.sha256(png).hexdigest()[:32]}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(png)
        only = addnodes.only(expr="latex")
        # Sphinx reads a leading "/" as relative to the source folder, as MyST-NB does.
        uri = "/" + os.path.relpath(path.resolve(), Path(app.srcdir).resolve())
        only += nodes.image(uri=uri, alt=alt or "Figures shown by the interactive widget")
        view += only


def setup(app: Sphinx) -> dict:
    # Before Sphinx's image collector (priority 500), so the PNGs are copied into the PDF build.
    app.connect("doctree-read", _add_figures, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
