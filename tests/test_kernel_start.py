"""A chapter's kernel that dies as it starts says why (the root conftest.py)."""

import json
import sys

import nbval.kernel
import pytest


def test_a_kernel_that_dies_at_start_reports_its_stderr(tmp_path, monkeypatch):
    # a kernel spec whose "kernel" prints an error and exits before answering
    spec = tmp_path / "kernels" / "dies-at-start"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c",
            "import sys; sys.stderr.write('ZMQError: Address already in use (port 5555)\\n'); sys.exit(1)",
            "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "dies at start", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    with pytest.raises(RuntimeError) as failure:
        nbval.kernel.start_new_kernel(kernel_name="dies-at-start", startup_timeout=60,
                                      stderr=None, cwd=str(tmp_path))
    message = str(failure.value)
    assert "Kernel died before replying" in message
    assert "ZMQError: Address already in use (port 5555)" in message
