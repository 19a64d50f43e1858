"""The chapters as a reader running them sees them: opened in JupyterLab, after the README's set-up.

The README invites readers to run the chapters in JupyterLab
(``.venv/bin/jupyter lab book/``). With ``jupyterlab-myst`` (pinned in
requirements.txt) JupyterLab renders the book's MyST Markdown: admonitions,
dropdowns and math. Numbers in the prose are written out as text
(``scripts/portable_prose.py``) and links to other chapters are Markdown
links, so nothing depends on the website's build.

These tests start JupyterLab as the README does (on 127.0.0.1, with a token,
and a throw-away settings and workspace folder) on a copy of ``book/`` —
JupyterLab saves what it opens, so the tests never point it at the
repository's own files — open every chapter of
``_toc.yml`` in headless Chromium, and check the rendered Markdown: no raw
role or directive markup, no raw TeX, every admonition of the source rendered
as a box, and every number the prose quotes shown. A screenshot of each
chapter's opening is saved in ``_build/screenshots/`` as ``jupyterlab__*.png``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_site_browser import CHAPTERS, SCREENSHOTS, TIMEOUT_MS

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"

#: Markup a renderer left as text: a role or directive, a glue span's tag, a fence.
RAW_MARKUP = re.compile(r"\{[a-z]+(?::[a-z]+)?\}`|```|^:class:|<span|data-glue|\{glue", re.M)
#: TeX left untypeset (the typeset math's MathML copy is removed before this is looked for).
RAW_TEX = re.compile(r"\$[^$\s][^$]*\$|\\(?:frac|sum|sigma|partial|nabla|mathbf|cdot|text)\b")

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the chapter on show

_RENDERED_TEXT = """() => [...document.querySelectorAll('%s .jp-MarkdownCell div.myst')].map(e => {
  const copy = e.cloneNode(true);
  copy.querySelectorAll('.katex-mathml, annotation, script, style').forEach(x => x.remove());
  return copy.textContent;
}).join('\\n')""" % PANEL

_ALL_RENDERED = """n => {
  const cells = [...document.querySelectorAll('%s .jp-MarkdownCell')];
  return cells.length === n && cells.every(c => {
    const m = c.querySelector('div.myst');
    return m !== null && m.textContent.trim().length > 0;
  });
}""" % PANEL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving book/, as the README starts it; its URL and token."""
    home = tmp_path_factory.mktemp("jupyterlab")
    book = home / "book"  # a copy: JupyterLab writes what it opens (kernel names, autosave)
    shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    # No news or update pop-ups over the screenshots.
    notification = home / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ,
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", str(book), "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}",
               # Lets the tests open chapters through JupyterLab's own commands,
               # in one page, instead of reloading the whole application for each.
               "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(home / "jupyterlab.log", "w")
    server = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            _get(f"{url}/api/status?token={token}")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("JupyterLab did not start:\n" + (home / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.1)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _shut_down_kernels(url: str, token: str) -> None:
    """Each opened chapter starts a kernel; these tests only read, so stop them as they go."""
    sessions = json.loads(_get(f"{url}/api/sessions?token={token}"))
    for session in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()


def _markdown(chapter: str) -> str:
    nb = json.loads((REPO / f"{chapter}.ipynb").read_text())
    return [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown"]


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """JupyterLab loaded once in the browser, with a fresh workspace."""
    url, token = lab
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{url}/lab?reset&token={token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined")
    page.evaluate("async () => { await window.jupyterapp.started; }")
    yield page
    context.close()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_reads_in_jupyterlab_as_on_the_website(lab, lab_page, chapter):
    url, token = lab
    page = lab_page
    cells = _markdown(chapter)
    source = "\n".join(cells)
    try:
        path = Path(chapter).relative_to("book").with_suffix(".ipynb").as_posix()
        # Opened as a reader opens it, but with no kernel: these tests read the Markdown only.
        page.evaluate("""async path => { await window.jupyterapp.commands.execute('docmanager:open',
                          {path, kernelPreference: {shouldStart: false}}); }""", path)
        # Checked every 100 ms rather than at every frame: the check reads every
        # cell, on the page's one thread, while JupyterLab is rendering them.
        page.wait_for_function(_ALL_RENDERED, arg=len(cells), polling=100)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": Playwright's default injects a style sheet to hide the
        # text cursor (there is none: no editor has focus), restyling the whole
        # of JupyterLab twice; it took half of each screenshot's time.
        page.screenshot(path=str(SCREENSHOTS / f"jupyterlab__{chapter.replace('/', '__')}.png"),
                        caret="initial")
        text = page.evaluate(_RENDERED_TEXT)

        raw = [m.group(0) for m in RAW_MARKUP.finditer(text)]
        assert raw == [], f"raw markup shown in JupyterLab: {raw[:5]}"
        tex = [m.group(0) for m in RAW_TEX.finditer(text)]
        assert tex == [], f"untypeset TeX shown in JupyterLab: {tex[:5]}"

        boxes = len(re.findall(r"^(?:```+|:::+)\{admonition\}", source, re.M))
        shown = page.evaluate(f"() => document.querySelectorAll('{PANEL} .jp-MarkdownCell .myst-admonition').length")
        assert shown == boxes, f"{boxes} admonitions in the source, {shown} rendered as boxes"

        quoted = [m.group(1) for m in re.finditer(r'<span data-glue="[\w.-]+">(.*?)</span>', source)]
        missing = [q for q in quoted if q.replace("\\", "") not in text]
        assert missing == [], f"numbers the prose quotes but JupyterLab does not show: {missing[:5]}"
    finally:
        # Close without saving (opening marks a notebook changed: its kernel's name).
        page.evaluate("""() => { for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
            if (w.context) { w.context.model.dirty = false; }
            w.dispose(); } }""")
        _shut_down_kernels(url, token)
