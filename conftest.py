"""Root pytest configuration, shared by the unit tests and the nbval notebook runs."""

import os
import tempfile

import nbval.kernel
import pytest
from nbval.kernel import RunningKernel


def _execute_like_jupyter(self, cell_input, allow_stdin=None):
    """Run a cell as Jupyter does, with ``store_history=True``.

    nbval sends cells with ``store_history=False``, and IPython then ignores a
    trailing ``;``, so a plotting cell ending in ``ax.legend(...);`` would print
    ``<matplotlib.legend.Legend at 0x...>`` under nbval but not in Jupyter. The
    book writes plotting cells the Jupyter way, so nbval must run them that way.
    """
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


RunningKernel.execute_cell_input = _execute_like_jupyter


_nbval_start_new_kernel = nbval.kernel.start_new_kernel


def _start_kernel_saying_why_it_died(*args, **kwargs):
    """nbval's kernel start, but a kernel that dies before it answers says why.

    nbval sends a kernel's stderr to /dev/null, so "Kernel died before replying
    to kernel_info" is all a failed start reports (seen once in CI, cause
    unknown). Here the stderr goes to a temporary file instead, and a failed
    start's error ends with the last of what the kernel printed there.
    """
    stderr = tempfile.TemporaryFile(mode="w+")  # deleted when closed
    kwargs["stderr"] = stderr
    try:
        return _nbval_start_new_kernel(*args, **kwargs)
    except RuntimeError as error:
        stderr.seek(0)
        printed = stderr.read()[-4000:].strip() or "(nothing)"
        raise RuntimeError(f"{error}. The kernel's stderr:\n{printed}") from error
    finally:
        stderr.close()  # a running kernel keeps writing to its own copy


nbval.kernel.start_new_kernel = _start_kernel_saying_why_it_died
collect_ignore_glob = ["_build/*", ".venv/*", "node_modules/*"]


# ----------------------------------------------------------------------------- running in parallel
# The suite runs under pytest-xdist (``-n auto --dist loadfile`` in pyproject.toml): every
# test file, and so every notebook with its one kernel, goes whole to one worker process.
# Most of the book's work is small tensors on one thread, so workers side by side pay, but
# only if each leaves the other cores alone: a worker's PyTorch, NumPy and kernels get
# cores / workers threads (a value already in $OMP_NUM_THREADS wins). CONTRIBUTING.md,
# "Running the tests", explains the numbers and how to run without workers (``-n 0``).

MAX_WORKERS = 4  # 20 notebooks; past four workers the longest notebook sets the pace


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per CPU this process may use, at most MAX_WORKERS."""
    chosen = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if chosen:
        return int(chosen)
    return max(1, min(_cpus(), MAX_WORKERS))


def pytest_configure(config):
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")  # set in xdist's workers only
    if workers:
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _cpus() // int(workers))))
    _numpy_on_ordinary_pages()


def _numpy_on_ordinary_pages():
    """NumPy's large arrays on ordinary pages, in the test processes and all they start.

    NumPy asks Linux for transparent huge pages for every array of 4 MB or
    more (``madvise``). Where the kernel then defragments memory before it
    answers (``/sys/kernel/mm/transparent_hugepage/defrag`` set to
    ``madvise``, as on the 2-core machine where the suite was timed), a fresh
    float array of the 60,000 training digits took 1.7-2.8 s, mostly system
    time, instead of 0.4 s. ``NUMPY_MADVISE_HUGEPAGE=0`` is NumPy's documented
    switch (https://numpy.org/doc/2.0/reference/global_state.html), read when
    NumPy is imported: the chapters' kernels and every process a test starts
    get it from the environment; this process, whose NumPy is already
    imported, is switched directly. Results are the same either way; the
    chapters alone took 153 s instead of 158 s (system time 28 s instead of
    45 s). A value already in ``$NUMPY_MADVISE_HUGEPAGE`` wins.
    """
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    import numpy as np

    os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
    np._core.multiarray._set_madvise_hugepage(False)
