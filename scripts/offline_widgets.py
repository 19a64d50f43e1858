"""Sphinx extension: the book serves its own widget manager, so widget views render offline.

MyST-NB's default pages load RequireJS and the ipywidgets HTML manager
(``@jupyter-widgets/html-manager``, ``embed-amd.js``) from public CDNs; without
network a page shows empty widget areas. This extension

* points MyST-NB's ``nb_ipywidgets_js`` at ``nbwidgets-loader.js`` (beside
  this file; only pages that contain widgets load it), which fetches the
  copies under ``_static/nbwidgets/`` when a widget output first comes near
  the screen — the manager is 3.6 MB, more than the rest of a page — and
* copies those files, ``nbwidgets-setup.js`` and the loader into the
  built site when an HTML build finishes — from
  ``node_modules/``, which ``npm ci`` fills from ``package-lock.json``. Nothing
  third-party is committed to the repository.

They are copied into the *output* rather than placed in a ``_static`` source
folder on purpose: Jupyter Book adds every ``.js`` and ``.css`` file of a
``_static`` source folder to every page.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"
TARGET = "nbwidgets"  # folder under the site's _static/

# What the site needs from node_modules/: source -> name under _static/nbwidgets/.
REQUIREJS = NODE_MODULES / "requirejs" / "require.js"
# Ours: tells RequireJS and the HTML manager where they live (fonts), and maps
# the manager's MathJax 2 typeset call onto the MathJax 3 the book loads.
SETUP_JS = Path(__file__).with_name("nbwidgets-setup.js")
# Ours: the one script in a widget page's head; loads the three above lazily.
LOADER_JS = Path(__file__).with_name("nbwidgets-loader.js")
HTML_MANAGER_DIST = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
# embed-amd.js finds its fonts (Font Awesome, for widget icons) next to itself.
FONT_SUFFIXES = {".woff2", ".woff", ".ttf", ".eot", ".svg"}


def _html_manager_files() -> list[Path]:
    files = [HTML_MANAGER_DIST / "embed-amd.js"]
    files += sorted(p for p in HTML_MANAGER_DIST.iterdir() if p.suffix in FONT_SUFFIXES)
    return files


def _missing() -> list[Path]:
    return [p for p in (REQUIREJS, HTML_MANAGER_DIST / "embed-amd.js") if not p.is_file()]


def _use_local_copies(app: Sphinx, config) -> None:
    """Make widget pages load the widget manager from the site itself, when needed.

    The loader fetches RequireJS, setup.js and the HTML manager (embed-amd.js)
    in that order; the browser tests block every request that leaves the site.
    """
    config.nb_ipywidgets_js = {f"{TARGET}/loader.js": {}}


def _check_assets(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    missing = _missing()
    if missing:
        raise ExtensionError(
            "The widget assets are not installed: missing "
            + ", ".join(str(p.relative_to(REPO)) for p in missing)
            + ". Run `npm ci --ignore-scripts` in the repository root (it installs the versions "
            "pinned in package-lock.json into node_modules/), then build again."
        )


def _copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / TARGET
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REQUIREJS, target / "require.js")
    shutil.copy2(SETUP_JS, target / "setup.js")
    shutil.copy2(LOADER_JS, target / "loader.js")
    for source in _html_manager_files():
        shutil.copy2(source, target / source.name)


def _drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Keep one copy of each inline script.

    sphinx-thebe 0.3.1 (part of Jupyter Book 1) adds its inline configuration
    (``const THEBE_JS_URL = ...``) a second time when Sphinx reads the
    sources, and the second copy throws "Identifier 'THEBE_JS_URL' has already
    been declared" on every page (sphinx-togglebutton's inline line is doubled
    the same way, harmlessly).
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen = set()
    kept = []
    for script in scripts:
        # An inline script has no file name (None or "") and a body.
        inline = hasattr(script, "attributes") and not script.filename
        key = script.attributes.get("body") if inline else None
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        kept.append(script)
    scripts[:] = kept


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _use_local_copies)
    app.connect("builder-inited", _check_assets)
    app.connect("build-finished", _copy_assets)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
