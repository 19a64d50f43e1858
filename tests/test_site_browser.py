"""The website as readers get it: every page of the TOC, built and opened in a real browser.

The site is built once per test session (strict: ``-W -n --keep-going``),
served on 127.0.0.1, and opened in Debian's headless Chromium through
Playwright. Every request that leaves 127.0.0.1 is blocked, so a page passes
only if it is complete offline: MathJax, the widget manager, fonts and images
all come from the site itself. The pages share one browser context, as one
reader's browser would: the site's scripts are fetched and compiled once, from
its HTTP cache, and each page is opened once for all the checks.

For each page in ``_toc.yml`` (read when the tests are collected, so new
chapters are covered without editing this file) the tests check that it loads
with no console errors and no failed or blocked requests; that no raw TeX is
left in its text; that every image loaded and has alt text; that every widget
output shows a rendered view; that it has a title and a link in the
navigation; that the search box finds it; and that the dark-mode toggle
switches the theme. One more test checks that every page is made for
reading, as measured when it was opened: figures shown at 0.8x of their size or
more and at 2 pixels per CSS px, no block wider than the column at 1280 px or
on a 400 px phone, and no page loading more than 5 MB on opening. A
screenshot of each page's first screen is saved in ``_build/screenshots/``
for people to look at (of the whole page with ``TEXTBOOK_FULL_SCREENSHOTS=1``:
several seconds a page, so not by default).

Chromium comes from Debian (the README's test command installs it). Playwright
never downloads a browser here: the ``browser`` fixture (tests/conftest.py,
shared with the JupyterLab tests) points it at ``/usr/bin/chromium`` (or
``$CHROMIUM``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import PIL.Image
import pytest
import yaml

from textbook_utils.figures.plotting import TEXT_SIZE_KEY  # the PNG chunk: smallest text, pt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from toc import toc_entries  # noqa: E402  (scripts/toc.py: the one TOC reader)
SCREENSHOTS = REPO / "_build" / "screenshots"
TIMEOUT_MS = 60_000  # generous: CI machines may be busy
FULL_SCREENSHOTS = os.environ.get("TEXTBOOK_FULL_SCREENSHOTS") == "1"


def _toc_entries() -> list[str]:
    entries = toc_entries(REPO / "_toc.yml")
    return [str(Path(e).with_suffix("")) if Path(e).suffix in (".md", ".ipynb") else e for e in entries]


PAGES = _toc_entries()
CHAPTERS = [p for p in PAGES if (REPO / f"{p}.ipynb").is_file()]


# --------------------------------------------------------------------------- build and serve


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The book built strictly, as the README's build command builds it, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(REPO), "-W", "-n", "--keep-going", "--path-output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        output = result.stdout + "\n" + result.stderr
        problems = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line or "Error" in line]
        pytest.fail(f"the site build failed (exit {result.returncode}); warnings and errors:\n"
                    + "\n".join(problems[:60]) + f"\n\nend of the output:\n{result.stderr[-3000:]}")
    html = out / "_build" / "html"
    assert (html / "index.html").is_file()
    return html


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        # As GitHub Pages serves the book: a browser keeps what it fetched
        # for 10 minutes, so the site's scripts load once for all its pages.
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site_context(browser):
    """One browser context for every page, as one reader's browser: its HTTP
    cache fetches and compiles MathJax, the theme's scripts and the fonts once.

    Requests leaving 127.0.0.1 cannot get out: the ``browser`` fixture starts
    Chromium with no name resolution and a proxy that refuses everything but
    127.0.0.1 (``OFFLINE_ARGS`` in tests/conftest.py). Each ``Visit`` records
    them by URL as they are made, so a page asking for one fails its test.
    """
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, color_scheme="light")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


class Visit:
    """One page opened offline: what it logged, which requests failed, and the page itself."""

    def __init__(self, context, base_url: str):
        self.base_url = base_url
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.blocked_requests: list[str] = []
        self.weight: int | None = None  # bytes loaded on opening, before any scrolling
        self._requests_made = 0
        self._in_flight: set = set()
        self.page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.page.on("request", self._on_request)
        self.page.on("requestfinished", self._on_request_finished)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)

    def _on_request(self, request):
        url = request.url
        if not (url.startswith(self.base_url) or url.startswith("data:") or url.startswith("blob:")):
            self.blocked_requests.append(url)
        self._requests_made += 1
        self._in_flight.add(request)

    def _on_request_finished(self, request):
        self._in_flight.discard(request)

    def _on_request_failed(self, request):
        self._in_flight.discard(request)
        self.failed_requests.append(f"{request.url} ({request.failure})")

    def _on_console(self, message):
        if message.type == "error":
            location = message.location or {}
            if location.get("url") == self.base_url + "favicon.ico":
                return  # the browser's own guess at an icon (the site has none)
            self.console_errors.append(f"{message.text} [{location.get('url', '')}:{location.get('lineNumber', '')}]")

    def _on_response(self, response):
        if response.status >= 400:
            self.failed_requests.append(f"{response.url} (HTTP {response.status})")

    def open(self, path: str, settle: bool = True) -> "Visit":
        self.page.goto(self.base_url + path, wait_until="load" if settle else "domcontentloaded")
        if settle:
            self.wait_until_quiet()
            self.weight = self.page.evaluate(_BYTES_LOADED)
            self.settle()
        return self

    def wait_until_quiet(self):
        """Until MathJax has typeset the page, its fonts are in, and no request
        is in flight or starts through two frames: what the page loads by itself.

        Playwright's "networkidle" means the same, but waits 500 ms of quiet
        every time; it is still the answer if the page is not quiet in 10 s.
        (The bytes on opening, measured after this, are the same to the byte
        as after "networkidle" on every page.)
        """
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            made = self._requests_made
            self.page.evaluate(_AT_REST)
            if not self._in_flight and self._requests_made == made:
                return
        self.page.wait_for_load_state("networkidle")

    def settle(self):
        """Wait for what renders after "load": widget views, lazy images, MathJax.

        The widget manager is fetched when a widget output nears the screen
        (scripts/nbwidgets-loader.js), so the page is scrolled to the first one
        and back; then every image, frames included, is loaded.
        """
        self.page.evaluate(_SCROLL_TO_FIRST_WIDGET)
        try:
            self.page.wait_for_function(_WIDGETS_RENDERED, timeout=TIMEOUT_MS // 2)
        except Exception:  # reported by test_every_widget_output_has_a_rendered_view
            pass
        self.page.evaluate("() => window.scrollTo(0, 0)")
        self.page.evaluate(_LOAD_ALL_IMAGES)
        self.page.evaluate(_MATHJAX_DONE)
        self.wait_until_quiet()

    def close(self):
        self.page.close()


_AT_REST = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  await document.fonts.ready;
  for (let frame = 0; frame < 2; frame++) { await new Promise(done => requestAnimationFrame(done)); }
}"""

_LOAD_ALL_IMAGES = """async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null :
    new Promise(done => { img.addEventListener("load", done); img.addEventListener("error", done); })));
}"""

_MATHJAX_DONE = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  if (mj && mj.typesetPromise) { await mj.typesetPromise(); }
}"""

_WIDGET_VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]'

_SCROLL_TO_FIRST_WIDGET = """() => {
  const view = document.querySelector('%s');
  if (view) { view.parentElement.scrollIntoView(); }
}""" % _WIDGET_VIEWS

_WIDGETS_RENDERED = """() => [...document.querySelectorAll('%s')].every(script => {
  const view = script.parentElement.querySelector('.widget-subarea .jupyter-widgets');
  return view !== null && view.getBoundingClientRect().height > 0;
})""" % _WIDGET_VIEWS


def _page_file(page: str) -> str:
    return f"{page}.html"


def _screenshot_name(page: str) -> str:
    return page.replace("/", "__") + ".png"


@pytest.fixture(scope="session")
def visits(site_context, base_url):
    """Each page opened once (lazily) and kept open for the checks that only read it.

    On opening, before any test touches the page, its first screen is saved
    and what the reading test checks is measured (``_measure_for_reading``).
    """
    opened: dict[str, Visit] = {}

    def visit(page: str) -> Visit:
        if page not in opened:
            v = Visit(site_context, base_url).open(_page_file(page))
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            # caret="initial": no style sheet injected to hide a text cursor
            # (none shows: nothing is focused), which restyled the whole page.
            v.page.screenshot(path=str(SCREENSHOTS / _screenshot_name(page)), full_page=FULL_SCREENSHOTS,
                              caret="initial")
            _measure_for_reading(v)
            opened[page] = v
        return opened[page]

    yield visit
    for v in opened.values():
        v.close()


def test_the_toc_lists_pages():
    assert PAGES and PAGES[0] == yaml.safe_load((REPO / "_toc.yml").read_text())["root"]


# --------------------------------------------------------------------------- per page, offline


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_with_no_console_errors_and_no_failed_requests(visits, page):
    v = visits(page)
    assert v.blocked_requests == [], \
        f"{page} asked for files outside the site (offline they fail): {v.blocked_requests}"
    assert v.failed_requests == [], f"{page}: failed requests"
    assert v.console_errors == [], f"{page}: console errors"
    assert (SCREENSHOTS / _screenshot_name(page)).is_file()


_RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac|(?<![\w\\])\$[^$\s][^$\n]*\$")

_ARTICLE_TEXT_WITHOUT_CODE = """() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .cell_input, .highlight').forEach(e => e.remove());
  document.body.appendChild(copy);   // innerText needs a rendered element
  copy.style.position = 'absolute'; copy.style.left = '-99999px';
  const text = copy.innerText;
  copy.remove();
  return text;
}"""


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset_and_no_raw_tex_is_left(visits, page):
    v = visits(page)
    text = v.page.evaluate(_ARTICLE_TEXT_WITHOUT_CODE)
    leftovers = sorted({m.group(0)[:60] for m in _RAW_TEX.finditer(text)})
    assert leftovers == [], f"{page}: raw TeX in the rendered text: {leftovers}"
    counts = v.page.evaluate("""() => ({
      math: document.querySelectorAll('article .math').length,
      untypeset: [...document.querySelectorAll('article .math')].filter(e => !e.querySelector('mjx-container')).length,
      errors: document.querySelectorAll('mjx-merror').length,
    })""")
    assert counts["untypeset"] == 0, f"{page}: {counts['untypeset']} of {counts['math']} math elements not typeset"
    assert counts["errors"] == 0, f"{page}: MathJax reported {counts['errors']} errors"


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loaded_and_has_alt_text(visits, page):
    v = visits(page)
    images = v.page.evaluate("""() => [...document.images].map(img => ({
      src: img.currentSrc.slice(0, 120), alt: (img.getAttribute('alt') || '').trim(),
      loaded: img.complete && img.naturalWidth > 0 }))""")
    broken = [img["src"] for img in images if not img["loaded"]]
    no_alt = [img["src"] for img in images if not img["alt"]]
    assert broken == [], f"{page}: images that did not load"
    assert no_alt == [], f"{page}: images without alt text"


@pytest.mark.parametrize("page", PAGES)
def test_every_widget_output_has_a_rendered_view(visits, page):
    v = visits(page)
    views = v.page.evaluate("""() => [...document.querySelectorAll('%s')].map(script => {
      const view = script.parentElement.querySelector('.widget-subarea .jupyter-widgets');
      return view === null ? 0 : view.getBoundingClientRect().height;
    })""" % _WIDGET_VIEWS)
    has_state = v.page.evaluate("document.querySelector('script[type=\"application/vnd.jupyter.widget-state+json\"]') !== null")
    assert all(height > 0 for height in views), f"{page}: widget views not rendered (heights {views})"
    assert has_state == bool(views), f"{page}: widget state and widget views must come together"


def _chapter_mentions_widgets(page: str) -> bool:
    path = REPO / f"{page}.ipynb"
    return path.is_file() and "application/vnd.jupyter.widget-view+json" in path.read_text()


def test_some_page_has_widgets_so_the_widget_check_is_exercised(visits):
    # Guards against the widget test passing only because no page has widgets.
    with_widgets = [p for p in PAGES if _chapter_mentions_widgets(p)]
    assert with_widgets, "no chapter in the TOC has widget outputs"
    v = visits(with_widgets[0])
    assert v.page.locator(_WIDGET_VIEWS).count() > 0


_VISIBLE_FIGURES = """(view) => [...view.querySelectorAll('img')]
  .filter(img => img.offsetParent !== null && img.getBoundingClientRect().height > 0)
  .map(img => img.currentSrc.length + ':' + img.currentSrc.slice(-64))"""

_CONTROLS = ".noUi-handle, select"


def _move(v: Visit, control) -> str:
    """Move one control as a reader would: a slider one step on, a menu to another choice."""
    if control.evaluate("e => e.tagName") == "SELECT":
        options = control.evaluate("s => [...s.options].map(o => o.value)")
        current = control.evaluate("s => s.value")
        target = next(o for o in reversed(options) if o != current)
        control.select_option(target)
        return f"menu -> {target}"
    control.focus()
    at_end = control.evaluate("h => h.getAttribute('aria-valuenow') === h.getAttribute('aria-valuemax')")
    v.page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
    return "slider one step"


@pytest.mark.parametrize("page", [p for p in PAGES if (REPO / f"{p}.ipynb").is_file()])
def test_every_control_changes_its_figure_with_no_kernel(visits, page):
    """On the static page, moving any slider or menu must change the figure it belongs to."""
    v = visits(page)
    v.page.bring_to_front()  # a tab behind others draws its frames late: the waits below wait on them
    views = v.page.locator(".widget-subarea > .jupyter-widgets")
    checked = 0
    for k in range(views.count()):
        view = views.nth(k)
        controls = view.locator(_CONTROLS)
        for j in range(controls.count()):
            before = view.evaluate(_VISIBLE_FIGURES)
            assert before, f"{page}: widget {k} shows no figure"
            how = _move(v, controls.nth(j))
            try:
                v.page.wait_for_function(
                    "([view, before]) => JSON.stringify((%s)(view)) !== JSON.stringify(before)" % _VISIBLE_FIGURES,
                    arg=[view.element_handle(), before], timeout=5_000)
            except Exception:
                pytest.fail(f"{page}: widget {k}, control {j} ({how}) did not change the figure")
            after = view.evaluate(_VISIBLE_FIGURES)
            assert len(after) == len(before), f"{page}: widget {k} shows {len(after)} figures after a move"
            checked += 1
    assert v.blocked_requests == [] and v.console_errors == []
    if _chapter_mentions_widgets(page):
        assert checked > 0, f"{page} has widgets but no control was found to move"


@pytest.mark.parametrize("page", PAGES)
def test_code_and_its_output_fit_the_column_without_sideways_scrolling(visits, page):
    """At the theme's normal width (1280 px window) no code cell or printed output scrolls sideways."""
    v = visits(page)
    wide = v.page.evaluate("""() => [...document.querySelectorAll('div.cell_input pre, div.cell_output pre')]
      .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
      .map(pre => pre.textContent.split('\\n').reduce((a, b) => b.length > a.length ? b : a, '').slice(0, 100))""")
    assert wide == [], f"{page}: lines wider than the column (shorten them in the notebook): {wide}"


@pytest.mark.parametrize("page", PAGES)
def test_page_has_a_title_and_is_in_the_navigation(visits, page):
    v = visits(page)
    heading = v.page.locator("article h1").first.inner_text().strip().rstrip("#").strip()
    title = v.page.title()
    assert heading, f"{page}: no h1 heading"
    assert title.startswith(heading) and "<no title>" not in title, (page, title, heading)
    here = v.page.url.split("#")[0]
    nav_links = v.page.evaluate("""() => [...document.querySelectorAll('.bd-sidebar-primary nav a')]
      .map(a => a.href.split('#')[0])""")
    assert here in nav_links, f"{page} is not linked from the navigation: {nav_links}"


def _search_term(heading: str) -> str:
    """The longest word of the page's heading: a term the page is sure to contain."""
    words = re.findall(r"[A-Za-z][A-Za-z\-]{3,}", heading)
    assert words, f"no searchable word in the heading {heading!r}"
    return max(words, key=len)


class _Heading(HTMLParser):
    """The text of a built page's first <h1> (without its "#" permalink)."""

    def __init__(self):
        super().__init__()
        self.depth, self.text = 0, ""

    def handle_starttag(self, tag, attrs):
        if tag == "h1" and not self.text:
            self.depth = 1
        elif self.depth and tag == "a" and "headerlink" in (dict(attrs).get("class") or ""):
            self.depth += 100  # skip the permalink's text

    def handle_endtag(self, tag):
        if tag == "a" and self.depth > 100:
            self.depth -= 100
        elif tag == "h1" and self.depth:
            self.depth = 0

    def handle_data(self, data):
        if 0 < self.depth < 100:
            self.text += data


def _heading(site: Path, page: str) -> str:
    parser = _Heading()
    parser.feed((site / _page_file(page)).read_text())
    return parser.text.strip()


@pytest.fixture(scope="module")
def search_tab(site_context, base_url):
    """One tab for the searches: a reader's search ends on search.html, whatever page it began on."""
    v = Visit(site_context, base_url)
    yield v
    v.close()


def _search_results(v: Visit) -> list[str]:
    v.page.wait_for_function(
        "() => /found/i.test((document.querySelector('#search-results .search-summary') || {}).textContent || '')")
    return v.page.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href)")


def test_the_search_box_on_a_page_opens_the_results(site_context, base_url):
    """Typed into the search dialog of a chapter, a word lists the chapter among the results."""
    page = CHAPTERS[0]
    v = Visit(site_context, base_url).open(_page_file(page), settle=False)
    try:
        heading = v.page.locator("article h1").first.inner_text().strip().rstrip("#").strip()
        v.page.locator("button.search-button__button:visible").first.click()
        box = v.page.locator("#pst-search-dialog input[name='q']")
        box.fill(_search_term(heading))
        box.press("Enter")
        v.page.wait_for_url(re.compile(r"search\.html\?q="))
        target = urlsplit(base_url + _page_file(page)).path
        assert any(urlsplit(href).path == target for href in _search_results(v))
        v.page.wait_for_load_state("networkidle")
        # (Leaving the page mid-load aborts its requests, so only errors and blocked requests count here.)
        http_errors = [f for f in v.failed_requests if "(HTTP " in f]
        assert v.console_errors == [] and http_errors == [] and v.blocked_requests == []
    finally:
        v.close()


@pytest.mark.parametrize("page", PAGES)
def test_search_finds_the_page(site, search_tab, base_url, page):
    """The longest word of each page's title finds that page (the search box's request, sent directly)."""
    heading = _heading(site, page)
    term = _search_term(heading)
    v = search_tab
    v.open(f"search.html?q={quote(term)}", settle=False)
    results = _search_results(v)
    target = urlsplit(base_url + _page_file(page)).path
    assert any(urlsplit(href).path == target for href in results), \
        f"searching {term!r} (from the title {heading!r}) did not find {page}: {results}"
    http_errors = [f for f in v.failed_requests if "(HTTP " in f]
    assert v.console_errors == [] and http_errors == [] and v.blocked_requests == []


@pytest.mark.parametrize("page", CHAPTERS)
def test_figures_are_numbered_per_chapter_and_captioned_for_reading(visits, page):
    """"Fig. 12.3" is chapter 12's third figure; captions in the body's colour, at 85% of its size or more."""
    v = visits(page)
    figures = v.page.evaluate("""() => [...document.querySelectorAll('article figure')].map(f => {
        const caption = f.querySelector('figcaption');
        const style = caption ? getComputedStyle(caption) : null;
        return {number: caption ? (caption.querySelector('.caption-number') || {}).textContent || '' : '',
                text: caption ? caption.textContent.trim() : '',
                size: style ? parseFloat(style.fontSize) : 0,
                weight: style ? parseInt(style.fontWeight) : 0,
                color: style ? style.color : ''};
    })""")
    body = v.page.evaluate("() => { const s = getComputedStyle(document.querySelector('article p'));"
                           " return {size: parseFloat(s.fontSize), color: s.color}; }")
    numbers = [re.fullmatch(r"Fig\. (\d+)\.(\d+)\s*", f["number"]) for f in figures]
    assert all(numbers), f"figures without a chapter-numbered caption: {[f['number'] for f in figures]}"
    assert len({m.group(1) for m in numbers}) <= 1, "figure numbers from more than one chapter"
    assert [int(m.group(2)) for m in numbers] == list(range(1, len(figures) + 1))
    for f in figures:
        assert len(f["text"]) > len(f["number"]) + 10, f"figure {f['number']} has no caption text"
        assert f["size"] >= 0.85 * body["size"] and f["weight"] >= 400 and f["color"] == body["color"], \
            f"caption of {f['number']} is hard to read: {f}"


# --------------------------------------------------------------------------- reading: figures, width, weight

#: every figure is a 2x PNG shown at half its pixel width; shrunk to fit the
#: column, it may lose at most a fifth of its size (its labels with it)
MIN_FIGURE_SCALE = 0.8
#: the heaviest page, in bytes loaded on opening it (HTML and all it loads
#: before the reader scrolls); was 9.99 MB before frames became lazy files
MAX_PAGE_BYTES = 5_000_000
WIDTHS = (1280, 400)  # the theme's normal width, and a phone
PAGE_WEIGHTS = REPO / "_build" / "page_weights.json"
FIGURE_TEXT = REPO / "_build" / "figure_text_px.json"  # each page's smallest figure text

# (Not the browser's own guess at an icon, /favicon.ico: the site has none,
# and the server's "not found" page is no part of the book.)
_BYTES_LOADED = """() => [performance.getEntriesByType('navigation')[0],
                          ...performance.getEntriesByType('resource')]
  .filter(e => e.name !== location.origin + '/favicon.ico')
  .reduce((sum, e) => sum + e.decodedBodySize, 0)"""

# Figures in the article that show (static figures and the explorers' frames):
# rendered width against natural width, both in CSS px.
_FIGURE_SCALES = """() => [...document.querySelectorAll('article img')]
  .filter(img => img.offsetParent !== null && img.naturalWidth > 0)
  .map(img => ({src: img.currentSrc.split('/').pop().slice(0, 40),
                url: img.currentSrc,
                rendered: img.getBoundingClientRect().width,
                pixels: img.naturalWidth}))"""

# The page's small print: a footnote mark, in the theme's own style, in px.
_SMALL_PRINT_PX = """() => {
  const mark = document.createElement('a');
  mark.className = 'footnote-reference';
  mark.textContent = '1';
  document.querySelector('article p').appendChild(mark);
  const px = parseFloat(getComputedStyle(mark).fontSize);
  mark.remove();
  return px;
}"""


def _smallest_text_px(site: Path, figure: dict) -> float | None:
    """How many CSS px the figure's smallest text is as shown; None if it has none.

    The PNG says the smallest text's size in points; the figure was drawn at
    200 pixels per inch (2x of 100 dpi), and the browser shows ``rendered``
    CSS px of its ``pixels``.
    """
    path = site / urlsplit(figure["url"]).path.lstrip("/")
    with PIL.Image.open(path) as image:
        points = image.text.get(TEXT_SIZE_KEY)
    if points is None:
        raise AssertionError(f"{figure['src']} does not record its smallest text: draw it with "
                             f"the book's figures (plotting.book_style, figure_html, widgets)")
    if points == "none":
        return None
    return float(points) / 72 * 200 * figure["rendered"] / figure["pixels"]

# Blocks wider than the article, unless inside a box that scrolls sideways
# (and fits); and whether the whole page scrolls sideways.
_OVERFLOWS = """() => {
  const article = document.querySelector('article.bd-article');
  const box = article.getBoundingClientRect();
  const inside = r => r.left >= box.left - 1 && r.right <= box.right + 1;
  const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const blocks = article.querySelectorAll(
    'table, pre, figure, img, .math, mjx-container[display="true"], .cell_output > *, .admonition');
  const wide = [];
  for (const e of blocks) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || inside(r)) { continue; }
    let up = e, ok = false;
    while (up && up !== article) {
      if (scrolls(up) && inside(up.getBoundingClientRect())) { ok = true; break; }
      up = up.parentElement;
    }
    if (!ok) { wide.push(e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ': '
                         + e.textContent.trim().slice(0, 50)); }
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) {
    wide.push(`the page scrolls sideways (${page.scrollWidth} px in ${page.clientWidth})`);
  }
  return wide;
}"""


def _measure_for_reading(v: Visit):
    """What the reading test checks, measured on the page just opened and
    settled at the theme's normal width: its small print, its figures, and
    what overflows the column at each width (the page is left at the first)."""
    v.small_print = v.page.evaluate(_SMALL_PRINT_PX)
    v.figures = v.page.evaluate(_FIGURE_SCALES)
    v.overflows = {}
    for width in WIDTHS:
        v.page.set_viewport_size({"width": width, "height": 900})
        v.page.evaluate(_MATHJAX_DONE)
        v.overflows[width] = v.page.evaluate(_OVERFLOWS)
    v.page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_figures_read_at_their_size_nothing_overflows_and_pages_are_light(visits, site):
    """Every page: what it loads on opening, its figures, its blocks.

    * Bytes loaded on opening the page (before scrolling; images and the
      widget manager come lazily) stay under ``MAX_PAGE_BYTES``; the numbers
      are written to ``_build/page_weights.json``.
    * Every figure is shown at ``MIN_FIGURE_SCALE`` of its size or more at the
      theme's normal width, and is at least twice as sharp as it is shown
      (2x PNG: 2 pixels per CSS px).
    * The smallest text of every figure, as shown at that width, is no
      smaller than the page's small print (a footnote mark, measured on the
      page: 13 px in this theme); each PNG records its smallest text's size.
      Each page's smallest figure text, in px, goes to
      ``_build/figure_text_px.json``.
    * No table, display math, code, output or figure is wider than the text
      column, at 1280 px and on a 400 px phone, except inside a box that
      scrolls sideways; the page itself never does.

    Each page is measured once, as the ``visits`` fixture opens it.
    """
    weights, small, blurred, overflows, tiny_text = {}, [], [], [], []
    smallest_text = {}  # page -> its figures' smallest text as shown, px
    for page in PAGES:
        v = visits(page)
        weights[page] = v.weight
        for f in v.figures:
            text_px = _smallest_text_px(site, f)
            if text_px is not None:
                smallest_text[page] = round(min(smallest_text.get(page, text_px), text_px), 2)
                if text_px < v.small_print - 0.05:
                    tiny_text.append(f"{page} {f['src']}: {text_px:.1f} px, small print {v.small_print:g} px")
            natural = f["pixels"] / 2
            if f["rendered"] < MIN_FIGURE_SCALE * natural - 0.5:
                small.append(f"{page} {f['src']}: {f['rendered'] / natural:.2f}x")
            if f["pixels"] < 1.95 * f["rendered"]:
                blurred.append(f"{page} {f['src']}: {f['pixels'] / f['rendered']:.2f} px per CSS px")
        for width in WIDTHS:
            overflows += [f"{page} at {width} px: {w}" for w in v.overflows[width]]
    PAGE_WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    PAGE_WEIGHTS.write_text(json.dumps(dict(sorted(weights.items(), key=lambda kv: -kv[1])), indent=1))
    FIGURE_TEXT.write_text(json.dumps(dict(sorted(smallest_text.items(), key=lambda kv: kv[1])), indent=1))
    heavy = {p: b for p, b in weights.items() if b > MAX_PAGE_BYTES}
    assert heavy == {}, f"pages heavier than {MAX_PAGE_BYTES:,} bytes on opening: {heavy}"
    assert small == [], f"figures shown below {MIN_FIGURE_SCALE}x of their size (make them narrower): {small}"
    assert blurred == [], f"figures blurred on high-density screens (draw them as 2x PNGs): {blurred}"
    assert tiny_text == [], f"figures whose smallest text is smaller than the page's small print: {tiny_text}"
    assert len(smallest_text) >= len(CHAPTERS) // 2, f"figures with text measured on {list(smallest_text)} only"
    assert overflows == [], f"blocks wider than the column: {overflows}"
    troubled = {p: visits(p).console_errors + visits(p).blocked_requests for p in PAGES}
    assert {p: t for p, t in troubled.items() if t} == {}, "console errors or requests leaving the site"


@pytest.mark.parametrize("term", ["backpropagation", "softmax"])
def test_search_lists_each_page_once_with_a_snippet_of_its_text(site_context, base_url, term):
    """Glossary terms are index entries too; snippets come from the text, not the buttons."""
    v = Visit(site_context, base_url).open(f"search.html?q={term}", settle=False)
    try:
        v.page.wait_for_function(
            "() => /found/i.test((document.querySelector('#search-results .search-summary') || {}).textContent || '')")
        v.page.wait_for_load_state("networkidle")
        results = v.page.evaluate("""() => [...document.querySelectorAll('#search-results ul.search li')].map(li => ({
            page: li.querySelector('a').href.split('#')[0],
            snippet: (li.querySelector('p.context') || {}).textContent || ''}))""")
        pages = [r["page"] for r in results]
        assert len(results) >= 3 and len(pages) == len(set(pages)), f"a page listed twice: {pages}"
        assert any("glossary" in p for p in pages)
        for r in results:
            assert r["snippet"], f"no snippet for {r['page']}"
            assert not re.search(r"\.ipynb|\.pdf|Binder|Colab|Contents", r["snippet"]), \
                f"snippet of {r['page']} shows button or contents text: {r['snippet'][:120]!r}"
    finally:
        v.close()


@pytest.mark.parametrize("page", PAGES)
def test_dark_mode_toggle_switches_the_theme(visits, page):
    v = visits(page)
    v.page.bring_to_front()  # a tab behind others draws its frames late: the wait below waits on them

    def theme():
        return v.page.evaluate("""() => [document.documentElement.dataset.theme,
          getComputedStyle(document.body).backgroundColor]""")

    before = theme()
    assert before[0] == "light", f"{page}: a light-scheme reader should start in the light theme: {before}"
    errors_before = list(v.console_errors)
    try:
        v.page.locator(".theme-switch-button:visible").first.click()
        v.page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    finally:
        # The theme stores the choice for the whole site, and the pages share
        # one browser context: forget it, so pages opened later start light.
        v.page.evaluate("() => { localStorage.removeItem('mode'); localStorage.removeItem('theme'); }")
    after = theme()
    assert after[0] == "dark" and after[1] != before[1], f"{page}: {before} -> {after}"
    assert v.console_errors == errors_before


# --------------------------------------------------------------------------- launch and source buttons


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []   # (title, href)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(((attrs.get("title") or "").strip(), attrs["href"]))


def _repository():
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repo = config["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main"), config


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_colab_binder_download_and_source_buttons(site, chapter):
    url, branch, config = _repository()
    owner_repo = urlsplit(url).path.strip("/")
    notebook = f"{chapter}.ipynb"
    parser = _Links()
    parser.feed((site / _page_file(chapter)).read_text())
    by_title = {title: href for title, href in parser.links if title}

    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    binder = config["launch_buttons"]["binderhub_url"].rstrip("/")
    assert by_title.get("Launch on Colab") == f"{colab}/github/{owner_repo}/blob/{branch}/{quote(notebook)}"
    assert by_title.get("Launch on Binder", "").startswith(f"{binder}/v2/gh/{owner_repo}/{branch}?urlpath=")
    assert by_title["Launch on Binder"].endswith(f"/tree/{notebook}")
    assert by_title.get("Show source") == f"{url}/blob/{branch}/{notebook}?plain=1"
    download = by_title.get("Download source file")
    assert download is not None and download.endswith(f"_sources/{notebook}")
    downloaded = (site / _page_file(chapter)).parent / download
    assert downloaded.resolve().read_bytes() == (REPO / notebook).read_bytes()
