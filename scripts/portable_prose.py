"""A chapter's prose in Markdown that every renderer shows: numbers written out, links not roles.

**Numbers.**
A chapter's code records each number the prose quotes with MyST-NB's
``glue(name, value, display=False)``. A role such as ``{glue:text}`name``
would insert it on the website only: JupyterLab, Colab and GitHub show the
role itself, so a reader running the chapter would meet markup where a number
belongs. So the prose holds the number as text, inside a span that names its
record::

    each of the network's <span data-glue="n_params_text">13,002</span> parameters

which every Markdown renderer shows as "13,002" (the LaTeX writer drops the
tags and keeps the number). This script writes those numbers from the
committed records, and checks them:

    python scripts/portable_prose.py book/3b1b/01_what_is_a_neural_network.ipynb
    python scripts/portable_prose.py --check            # every chapter; exit 1 on drift

After executing a chapter, run it on that chapter: it turns any
``{glue:text}`name`` an author wrote into a span, and refreshes every span
from the new records. ``tests/test_notebook_policy.py`` fails if the prose
and the records disagree, or if a glue role is left in the prose. Records are
compared with the code's output by nbval (exact values) or checked by the
chapter's assertions (values that depend on training noise), so the prose is
as trustworthy as the records it was written from (CONTRIBUTING.md).

**Links to other chapters.** A ``{doc}`../strang/01_gradient_descent``` role
shows as a bare path in JupyterLab and as markup on Colab. The script writes
it as a Markdown link with the chapter's title,
``[Gradient descent, exactly](../strang/01_gradient_descent.ipynb)``, which
Jupyter Book turns into the same cross-reference and every notebook viewer
follows.
"""

from __future__ import annotations

import argparse
import ast
import html
import json
import re
import sys
from pathlib import Path

from check_pdf import chapter_title  # scripts/: the one reader of a chapter's title

REPO = Path(__file__).resolve().parents[1]
RECORD = "application/papermill.record/text/plain"
ROLE = re.compile(r"\{glue(?::text)?\}`([\w.-]+)`")
SPAN = re.compile(r'<span data-glue="([\w.-]+)">(.*?)</span>')
DOC = re.compile(r"\{doc\}`(?:([^`<]*?)\s*<([^`>]+)>|([^`]+))`")


def records(nb: dict) -> dict[str, str]:
    """The text of every value the notebook's code glued, by name."""
    found = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and RECORD in out.get("data", {}):
                text = out["data"][RECORD]
                text = "".join(text) if isinstance(text, list) else text
                try:  # a glued string is recorded as its repr: '13,002'
                    value = ast.literal_eval(text)
                    text = value if isinstance(value, str) else text
                except (ValueError, SyntaxError):
                    pass
                found[name] = text
    return found


def as_prose(text: str) -> str:
    """A recorded value as Markdown text: HTML-escaped, Markdown's markup characters escaped."""
    return re.sub(r"([*_`$\[\]\\])", r"\\\1", html.escape(text, quote=False))


def span(name: str, text: str) -> str:
    return f'<span data-glue="{name}">{as_prose(text)}</span>'


def link(target: str, text: str | None, path: Path) -> str:
    """A ``{doc}`` role's target as a Markdown link to the chapter's file."""
    for suffix in (".ipynb", ".md"):
        file = (path.parent / target).with_suffix(suffix)
        if file.is_file():
            return f"[{text or chapter_title(file)}]({target}{suffix})"
    raise SystemExit(f"{path}: {{doc}}`{target}` names no chapter (.ipynb or .md) beside it")


def rewrite(nb: dict, path: Path) -> tuple[dict, list[str]]:
    """The notebook with every role and span written from the records; and what changed."""
    values = records(nb)
    changes = []

    def from_doc(m):
        text, target = (m.group(1), m.group(2)) if m.group(2) else (None, m.group(3))
        new = link(target.strip(), text, path)
        changes.append(f"{m.group(0)} written as {new}")
        return new

    def value_of(name: str) -> str:
        if name not in values:
            raise SystemExit(f"{path}: the prose quotes {name!r}, but no cell glues a value of that name; "
                             f"glued names: {sorted(values)}")
        return values[name]

    def from_role(m):
        changes.append(f"{m.group(1)}: glue role written out as {value_of(m.group(1))!r}")
        return span(m.group(1), value_of(m.group(1)))

    def from_span(m):
        new = span(m.group(1), value_of(m.group(1)))
        if new != m.group(0):
            changes.append(f"{m.group(1)}: prose says {m.group(2)!r}, the record {value_of(m.group(1))!r}")
        return new

    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        new = DOC.sub(from_doc, SPAN.sub(from_span, ROLE.sub(from_role, text)))
        if new != text:
            cell["source"] = new.splitlines(keepends=True)
    return nb, changes


def notebooks(paths) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted(p for p in (REPO / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="chapters to write (default: every chapter in book/)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any prose is out of date")
    args = parser.parse_args(argv)
    stale = 0
    for path in notebooks(args.notebooks):
        nb = json.loads(path.read_text())
        nb, changes = rewrite(nb, path)
        for change in changes:
            print(f"{path}: {change}")
        stale += bool(changes)
        if changes and not args.check:
            path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    if args.check and stale:
        print(f"{stale} chapter(s) out of date: run `python scripts/portable_prose.py` on them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
