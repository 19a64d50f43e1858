"""The package's layout by role (CONTRIBUTING.md, "The package").

Every module lives in a role subpackage; the package never imports from
``book/``; lesson code imports no validation helpers, and its math (forward
passes, backpropagation, update rules) raises nothing. Checked on the
source with ``ast``, so a violation fails here whatever imports it at run
time.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "textbook_utils"
ROLES = {"lessons", "training", "runs", "commands", "figures", "tools"}
VALIDATION = {"textbook_utils.tools.checks", "textbook_utils.tools.cli",
              "textbook_utils.tools.safe_write"}
#: lesson modules whose doors (a constructor, a training entry a reader
#: calls) still live beside their math and use the shared checks; the
#: list may only shrink, and it is empty: the doors moved to training/
#: (network_doors, gpt_doors, descend) or were dropped where NumPy and
#: torch already refuse
DOORS_STILL_IN_LESSONS = set()
#: the math a page prints: no raise, no check inside
MATH = {"forward", "feedforward", "backprop", "output_error",
        "update_mini_batch", "step", "heads", "pattern", "mlp"}


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


def validation_imports(tree, relative):
    """The validation helpers a lesson module (path under lessons/) imports."""
    names = imported(tree, package_of(Path("lessons") / relative))
    return sorted(n for n in names
                  if any(n == v or n.startswith(v + ".") for v in VALIDATION))


def lesson_violations(root=PACKAGE, allowed=DOORS_STILL_IN_LESSONS):
    """Lesson modules importing validation helpers; raises inside the math."""
    found = []
    for relative, tree in modules(root / "lessons"):
        name = relative.as_posix()
        helpers = validation_imports(tree, relative)
        if helpers and name not in allowed:
            found.append(f"lessons/{name}: imports {helpers[0]}")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in MATH \
                    and any(isinstance(n, ast.Raise) for n in ast.walk(node)):
                found.append(f"lessons/{name}: {node.name} raises")
    return found


def test_lessons_import_no_validation_helpers_and_their_math_raises_nothing():
    assert any(modules(PACKAGE / "lessons"))
    assert lesson_violations() == []
    still = {r.as_posix() for r, tree in modules(PACKAGE / "lessons")
             if validation_imports(tree, r)}
    assert still == DOORS_STILL_IN_LESSONS  # a cleaned module leaves the list


@pytest.mark.parametrize("source", [
    "from textbook_utils.tools.checks import positive_int\n",
    "from ..tools import safe_write\n",
    "import textbook_utils.tools.cli\n",
    "class Net:\n    def forward(self, x):\n        raise ValueError(x)\n",
])
def test_a_lesson_violation_is_reported(tmp_path, source):
    root = tmp_path / "textbook_utils"
    (root / "lessons").mkdir(parents=True)
    (root / "lessons" / "bad.py").write_text(source)
    assert len(lesson_violations(root, allowed=set())) == 1


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
