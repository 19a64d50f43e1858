"""The GitHub Actions workflows are valid YAML and run what the README promises.

``book.yml`` publishes the site built by the README's build command on every
push to main; ``tests.yml`` runs ``.ci/run`` (which runs the README's test
command verbatim, as tests/test_repo.py checks) on every pull request.
"""

import re
from pathlib import Path

import pytest
import yaml
from test_repo import _readme_commands  # tests/ is on the import path (not a package)

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"


def _load(name):
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(workflow, dict), name
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _readme_command(word):
    commands = _readme_commands()
    matching = [c for c in commands if word(c)]
    assert len(matching) == 1, commands
    return matching[0]


def _steps(job):
    return job.get("steps", [])


def _runs(workflow):
    return [step["run"] for job in workflow["jobs"].values() for step in _steps(job) if "run" in step]


def _uses(workflow):
    return [step["uses"] for job in workflow["jobs"].values() for step in _steps(job) if "uses" in step]


@pytest.mark.parametrize("name", ["book.yml", "tests.yml"])
def test_workflow_is_valid_yaml_with_jobs_whose_steps_run_or_use_something(name):
    workflow = _load(name)
    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    for job_name, job in workflow["jobs"].items():
        assert job.get("runs-on"), job_name
        assert _steps(job), job_name
        for step in _steps(job):
            assert ("run" in step) != ("uses" in step), step
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), f"pin actions to a major version: {step}"


def test_book_workflow_builds_with_the_readme_command_and_deploys_to_pages_on_push_to_main():
    workflow = _load("book.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    build_command = _readme_command(lambda c: "jupyter-book build" in c and "pdflatex" not in c)
    assert build_command in _runs(workflow)
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"

    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    upload = [s for s in _steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "_build/html"
    # Checkout comes before the build, the build before the upload.
    order = [s.get("uses", s.get("run")) for s in _steps(build)]
    assert order.index("actions/checkout@v4") < order.index(build_command) < order.index(upload[0]["uses"])
    # The PDF is built first, so the published site carries it (scripts/book_pdf.py).
    pdf_command = _readme_command(lambda c: "--builder pdflatex" in c)
    assert order.index("actions/checkout@v4") < order.index(pdf_command) < order.index(build_command)
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in _steps(deploy))


def test_tests_workflow_runs_ci_on_pull_requests_on_debian():
    workflow = _load("tests.yml")
    assert "pull_request" in workflow["on"]
    job = workflow["jobs"]["ci"]
    container = job["container"]
    image = container["image"] if isinstance(container, dict) else container
    assert image.startswith("debian:12"), "Chromium and TeX Live come from Debian's packages"
    assert ".ci/run" in _runs(workflow)
    ci = (REPO / ".ci" / "run").read_text()
    test_command = _readme_command(lambda c: "pytest" in c)
    assert test_command in ci.splitlines()
    # The test command installs what the suite needs itself (Chromium for the
    # browser tests), so it passes on a fresh Debian 12 machine as written.
    assert test_command.startswith("bash scripts/system_packages.sh test && ")
