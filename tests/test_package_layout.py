"""The package's layout by role (CONTRIBUTING.md, "The package").

Every module lives in a role subpackage; the package never imports from
``book/``. Checked on the source with ``ast``, so a violation fails here
whatever imports it at run time.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "textbook_utils"
ROLES = {"lessons", "training", "runs", "commands", "figures", "tools"}


def modules(root=PACKAGE):
    """Every .py file of the package, as (path relative to it, its tree)."""
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root), ast.parse(path.read_text(encoding="utf-8"))


def imported(tree, package):
    """The absolute names a module's imports reach (relative ones resolved)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def package_of(relative):
    return ".".join(("textbook_utils",) + relative.parent.parts)


def layout_violations(root=PACKAGE):
    """Modules outside a role folder, and imports of the book."""
    found = []
    for relative, tree in modules(root):
        if relative.parts == ("__init__.py",):
            continue
        if relative.parts[0] not in ROLES or len(relative.parts) < 2:
            found.append(f"{relative}: not in a role folder {sorted(ROLES)}")
        book = sorted({name for name in imported(tree, package_of(relative))
                       if name == "book" or name.startswith("book.")})
        if book:
            found.append(f"{relative}: imports {book[0]}")
    return found


def test_every_module_lives_in_a_role_folder_and_none_imports_the_book():
    assert PACKAGE.is_dir() and any(modules())
    assert layout_violations() == []


@pytest.mark.parametrize("source, where", [
    ("x = 1\n", "stray.py"),
    ("import book.nielsen.nielsen_runs\n", "lessons/bad.py"),
    ("from book import nielsen\n", "tools/bad.py"),
])
def test_a_violation_is_reported(tmp_path, source, where):
    root = tmp_path / "textbook_utils"
    (root / where).parent.mkdir(parents=True, exist_ok=True)
    (root / where).write_text(source)
    assert len(layout_violations(root)) == 1
