"""The repository keeps its promises: README commands, CI script, TOC, pins."""

import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from toc import toc_entries  # noqa: E402


def _readme_commands():
    readme = (REPO / "README.md").read_text()
    return re.findall(r"```bash\n(bash scripts/system_packages\.sh \w+ && python3\.11 -m venv .venv && [^\n]+)\n```",
                      readme)


def test_readme_has_the_build_test_and_pdf_commands_and_ci_runs_test_and_pdf_verbatim():
    commands = _readme_commands()
    pdf = [c for c in commands if "jupyter-book build" in c and "--builder pdflatex" in c]
    build = [c for c in commands if "jupyter-book build" in c and c not in pdf]
    test = [c for c in commands if "pytest" in c]
    assert len(build) == 1 and len(test) == 1 and len(pdf) == 1, commands
    # The site build needs the npm assets; so do the browser tests, which build the site.
    assert "npm ci" in build[0] and "npm ci" in test[0]
    ci = (REPO / ".ci" / "run").read_text()
    assert test[0] in ci.splitlines()
    assert pdf[0] in ci.splitlines()
    assert "jupyter-book build . -W -n --keep-going" in ci
    assert "scripts/check_pdf.py _build/latex/book.pdf" in ci


def test_every_toc_entry_exists_and_every_chapter_is_in_the_toc():
    entries = toc_entries(REPO / "_toc.yml")
    for entry in entries:
        assert any((REPO / f"{entry}{ext}").is_file() for ext in (".md", ".ipynb")), entry
    notebooks = {str(p.relative_to(REPO).with_suffix("")) for p in (REPO / "book").rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts}
    assert notebooks <= set(entries), f"chapters missing from _toc.yml: {notebooks - set(entries)}"


def test_direct_dependencies_are_pinned():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "-e .":
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][^ ]*", line), f"not pinned: {line}"
    assert "torch==2.13.0" in (REPO / "requirements.txt").read_text()


def test_config_keeps_the_jupyter_book_1_rules():
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["only_build_toc_files"] is True
    assert config["execute"]["execute_notebooks"] == "off"
    # One output block per cell on the page, however many times the cell printed.
    assert config["sphinx"]["config"]["nb_merge_streams"] is True


def _root_conftest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", REPO / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_workers_share_the_cores_instead_of_fighting_over_them(monkeypatch):
    conftest = _root_conftest()
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    for cpus, workers in ((1, 1), (2, 2), (16, conftest.MAX_WORKERS)):
        monkeypatch.setattr(conftest, "_cpus", lambda: cpus)
        assert conftest.pytest_xdist_auto_num_workers(None) == workers
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert conftest.pytest_xdist_auto_num_workers(None) == 3

    # In a worker, PyTorch and NumPy get cores / workers threads, unless the caller chose.
    monkeypatch.setattr(conftest, "_cpus", lambda: 16)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    conftest.pytest_configure(None)
    assert conftest.os.environ["OMP_NUM_THREADS"] == "4"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    conftest.pytest_configure(None)
    assert conftest.os.environ["OMP_NUM_THREADS"] == "1"
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT")  # not a worker: nothing is set
    monkeypatch.delenv("OMP_NUM_THREADS")
    conftest.pytest_configure(None)
    assert "OMP_NUM_THREADS" not in conftest.os.environ


def test_each_readme_command_installs_the_debian_packages_it_needs():
    """A fresh Debian 12 machine has no Chromium or TeX: each command installs its own."""
    import functools
    import subprocess

    @functools.cache  # each list is asked for once (the script checks the machine: 0.3 s a run)
    def packages(what):
        out = subprocess.run(["bash", str(REPO / "scripts" / "system_packages.sh"), what, "--list"],
                             capture_output=True, text=True, check=True).stdout
        return set(out.split())

    commands = _readme_commands()
    for what in ("build", "test", "pdf"):
        assert sum(c.startswith(f"bash scripts/system_packages.sh {what} && ") for c in commands) == 1, what
    assert {"python3.11-venv", "nodejs", "npm"} <= packages("build")
    assert {"python3.11-venv", "nodejs", "npm", "chromium"} <= packages("test")
    # make: jupyter-book's PDF builder runs `make all-pdf`; Debian 12 has no make by default.
    assert {"texlive-xetex", "latexmk", "make", "poppler-utils"} <= packages("pdf")
    assert packages("build") | packages("test") | packages("pdf") <= packages("all")
    bad = subprocess.run(["bash", str(REPO / "scripts" / "system_packages.sh"), "everything"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr
