"""The book's table of contents as a list: one place that reads _toc.yml.

Used by scripts/check_pdf.py and by the tests that visit every page.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def toc_entries(toc_path: Path = REPO / "_toc.yml", *, include_root: bool = True) -> list[str]:
    """Every ``file`` entry of the TOC in reading order, as written (usually without suffix)."""
    toc = yaml.safe_load(Path(toc_path).read_text())
    entries = [toc["root"]] if include_root else []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                entries.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return entries
