"""Nothing overwritten, nothing lost: the one atomic writer under faults, signals and races,
and every command's door (its output, its numbers, its resources) checked before any work."""

import errno
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from textbook_utils.tools import cli, safe_write
from textbook_utils.training import gpt_checkpoint, gpt_data
from textbook_utils.runs import (in_context, parallel_cost, scaling_laws,
                                 specialising, video_net)
from textbook_utils.commands import train_gpt, train_mnist
from textbook_utils.tools.safe_write import check_output

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- the writer

def test_a_result_is_written_whole_with_ordinary_permissions(tmp_path):
    out = check_output(tmp_path / "r.json")
    out.write_json({"a": 1})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1}
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~umask
    assert _leftovers(tmp_path) == []


def test_nan_is_not_written_as_json(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        check_output(tmp_path / "r.json").write_json({"loss": float("nan")})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_a_failing_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failing):
    path = tmp_path / "r.json"
    path.write_text("old")
    out = check_output(path, overwrite=True)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if failing == "write":
        writer = lambda f: (f.write(b"x" * 4096), disk_full())  # noqa: E731
    else:
        monkeypatch.setattr(os, failing, disk_full)
        writer = lambda f: f.write(b"new")  # noqa: E731
    with pytest.raises(OSError, match="No space left.*old file was left as it was"):
        out.write(writer)
    assert path.read_text() == "old" and _leftovers(tmp_path) == []


# The writer starts with Python's own SIGINT handler, as a command run from a
# terminal does: a shell's background job inherits SIGINT ignored, and an
# ignored signal stays ignored while safe_write writes.
WRITER = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from textbook_utils.tools.safe_write import check_output
out = check_output(sys.argv[1], overwrite=True)
def slow(f):
    f.write(b"new" * 1000)
    print("writing", flush=True)
    time.sleep(60)
out.write(slow)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_save_leaves_the_old_file_and_no_temporary(tmp_path, signum):
    path = tmp_path / "r.pt"
    path.write_bytes(b"old")
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert child.stdout.readline().strip() == "writing"
    assert len(_leftovers(tmp_path)) == 1  # the temporary file, half written
    child.send_signal(signum)
    child.wait(timeout=30)
    assert child.returncode != 0
    assert path.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_two_writers_of_one_new_file_one_wins_whole_the_other_is_told(tmp_path):
    path = tmp_path / "r.json"
    first, second = check_output(path), check_output(path)  # both checked before either wrote
    first.write_text("first")
    with pytest.raises(FileExistsError, match="appeared while this run worked"):
        second.write_text("second")
    assert path.read_text() == "first" and _leftovers(tmp_path) == []


def test_two_writers_with_overwrite_one_wins_whole_the_other_is_told(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    first, second = check_output(path, overwrite=True), check_output(path, overwrite=True)
    first.write_text("first")
    with pytest.raises(FileExistsError, match="changed while this run worked"):
        second.write_text("second")
    assert path.read_text() == "first"
    first.write_text("again")  # a command may rewrite its own file (nielsen_runs does, after every run)
    assert path.read_text() == "again"


RACER = """
import os, sys, time
from textbook_utils.tools.safe_write import check_output
out = check_output(sys.argv[1])
print("checked", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.001)
try:
    out.write_bytes(sys.argv[3].encode() * 2_000_000)
except FileExistsError as e:
    sys.exit(str(e))
"""


def test_two_processes_racing_for_one_output(tmp_path):
    path, go = tmp_path / "r.bin", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(path), str(go), tag], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in "ab"]
    assert [r.stdout.readline() for r in racers] == ["checked\n"] * 2  # both checked, neither wrote
    go.touch()
    codes = [r.wait(timeout=60) for r in racers]
    errors = [r.stderr.read() for r in racers]
    assert sorted(codes) == [0, 1]
    loser = codes.index(1)
    assert "appeared while this run worked" in errors[loser]
    data = path.read_bytes()
    assert data == ("ab"[1 - loser] * 2_000_000).encode()  # the winner's, whole
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- checked before the work

def test_destinations_that_cannot_be_written_are_refused_first(tmp_path):
    with pytest.raises(PermissionError, match="cannot write into /proc"):
        check_output("/proc/x.pt")
    with pytest.raises(ValueError, match="not a regular file"):
        check_output("/dev/full", overwrite=True)
    with pytest.raises(ValueError, match="not a regular file"):
        check_output("/dev/full")
    with pytest.raises(IsADirectoryError):
        check_output(tmp_path)
    with pytest.raises(FileNotFoundError, match="create it first"):
        check_output(tmp_path / "no" / "r.json")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(PermissionError, match="cannot write into"):
        check_output(tmp_path / "ro" / "r.json")


def test_committed_places_need_overwrite(tmp_path):
    with pytest.raises(PermissionError, match="inside the textbook_utils package"):
        check_output(safe_write.PACKAGE / "checkpoints" / "new.pt")
    with pytest.raises(PermissionError, match="data folder"):
        check_output(REPO / "data" / "mnist" / "model.pt")
    assert check_output(REPO / "data" / "mnist" / "model.pt", overwrite=True).path.name == "model.pt"
    (tmp_path / "SHA256SUMS").write_text("")  # not tracked by git: the user's own
    assert check_output(tmp_path / "r.pt").path == tmp_path / "r.pt"


# --------------------------------------------------------------------------- every command's door

def _script(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _no_work(*args, **kwargs):
    raise AssertionError("work started before the command line was checked")


@pytest.fixture()
def commands(monkeypatch):
    """name -> (main, arguments that would run it); every way into real work fails loudly."""
    nielsen = _script(REPO / "book" / "nielsen" / "nielsen_runs.py")
    curve = _script(REPO / "book" / "orientation" / "learning_curve.py")
    for module, name in [(in_context, "train"), (specialising, "load_checkpoint"), (scaling_laws, "sweep"),
                         (parallel_cost, "measure_all"), (video_net, "load_mnist"), (train_mnist, "load_mnist"),
                         (gpt_data, "shakespeare_data"), (nielsen, "load_mnist"), (curve, "load_mnist")]:
        monkeypatch.setattr(module, name, _no_work)
    return {"in_context": (in_context.main, []), "specialising": (specialising.main, []),
            "scaling_laws": (scaling_laws.main, ["--quick"]), "parallel_cost": (parallel_cost.main, []),
            "video_net": (video_net.main, []), "train_mnist": (train_mnist.main, []),
            "train_gpt": (train_gpt.main, []), "nielsen_runs": (nielsen.main, []),
            "learning_curve": (curve.main, [])}


NAMES = ["in_context", "specialising", "scaling_laws", "parallel_cost", "video_net", "train_mnist", "train_gpt",
         "nielsen_runs", "learning_curve"]


def _refused(main, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2  # argparse's usage error
    return capsys.readouterr().err


@pytest.mark.parametrize("name", NAMES)
def test_every_command_keeps_an_existing_output_and_refuses_unwritable_ones(name, commands, tmp_path, capsys):
    main, argv = commands[name]
    precious = tmp_path / "precious.json"
    precious.write_text("mine")
    assert "exists; pass --overwrite" in _refused(main, [*argv, "--out", str(precious)], capsys)
    assert precious.read_text() == "mine"
    assert "cannot write into /proc" in _refused(main, [*argv, "--out", "/proc/x.json"], capsys)
    assert "not a regular file" in _refused(main, [*argv, "--out", "/dev/full", "--overwrite"], capsys)
    assert "inside the textbook_utils package" in _refused(
        main, [*argv, "--out", str(gpt_checkpoint.CHECKPOINT.with_name("x.json"))], capsys)
    assert _leftovers(tmp_path) == [] and not gpt_checkpoint.CHECKPOINT.with_name("x.json").exists()


BAD = {
    "in_context": [["--eval-every", "0"], ["--steps", "-1"], ["--seed", "-1"]],
    "specialising": [["--steps", "0"], ["--batch-size", "-1"], ["--seed", "-1"],
                     ["--batch-size", "1000000000"]],
    "scaling_laws": [["--jobs", "0"], ["--threads", "-1"], ["--jobs", "100000"], ["--threads", "1000000000"],
                     ["--device", "gpu"]],
    "parallel_cost": [["--steps", "0"], ["--repeats", "-1"], ["--device", "gpu"]],
    "video_net": [["--threads", "100000"], ["--seeds", "-1"]],
    "train_mnist": [["--threads", "1000000000"], ["--hidden", "1000000000"], ["--device", "gpu"]],
    "train_gpt": [["--threads", "100000"], ["--n-layer", "1000000000"], ["--block-size", "1000000000"],
                  ["--d-model", "1000000000"], ["--batch-size", "1000000000"], ["--device", "gpu"]],
    "nielsen_runs": [["--epochs", "0"], ["--train-size", "-5"]],
    "learning_curve": [["--steps", "0"], ["--sizes", "0"]],
}


@pytest.mark.parametrize("name", NAMES)
def test_bad_numbers_and_bombs_are_usage_errors_before_any_work(name, commands, tmp_path, capsys):
    main, argv = commands[name]
    for bad in BAD[name]:
        start = time.perf_counter()
        _refused(main, [*argv, "--out", str(tmp_path / "r.json"), *bad], capsys)
        assert time.perf_counter() - start < 5, f"{bad} took long to refuse"
    assert list(tmp_path.iterdir()) == []


BOMBS = """
import gc, resource, sys, time
from textbook_utils.commands import train_gpt
for bad in sys.argv[1:]:
    flag, value = bad.split("=")
    start = time.perf_counter()
    try:
        train_gpt.main([flag, value])
    except SystemExit as e:
        assert e.code == 2, e.code
    print(bad, round(time.perf_counter() - start, 2), flush=True)
print("peak MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
gc.freeze()  # the process ends here: its exit need not walk PyTorch's objects (about 1 s)
"""


def test_memory_bombs_are_refused_without_allocating(tmp_path):
    """In a fresh process: each refusal is quick, and the process never grows past what importing
    torch takes (a 10**9-layer model would need terabytes)."""
    bombs = ["--n-layer=1000000000", "--block-size=2000000", "--d-model=1000000000", "--batch-size=1000000000"]
    done = subprocess.run([sys.executable, "-c", BOMBS, *bombs], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(SRC)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert all(float(line.split()[1]) < 2 for line in lines[:-1]), lines
    assert int(lines[-1].split()[-1]) < 1500, lines[-1]  # MB: torch's own import, no model
    assert "of memory" in done.stderr and list(tmp_path.iterdir()) == []


def test_block_size_must_fit_the_data(capsys, monkeypatch):
    monkeypatch.setattr(cli, "available_memory", lambda: 10**15)  # past the memory check
    with pytest.raises(SystemExit) as exit_:
        train_gpt.main(["--block-size", "200000", "--n-layer", "1", "--d-model", "8", "--n-head", "1",
                        "--batch-size", "1"])
    assert exit_.value.code == 2 and "does not fit" in capsys.readouterr().err


# --------------------------------------------------------------------------- after the work

def test_in_context_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "icl.json"
    out.write_text('{"old": true}\n')

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: disk_full(fd) if os.fstat(fd).st_size > 0 else real_fsync(fd))
    with pytest.raises(SystemExit) as exit_:
        in_context.main(["--steps", "2", "--eval-every", "2", "--out", str(out), "--overwrite"])
    assert "No space left" in str(exit_.value.code)
    assert json.loads(out.read_text()) == {"old": True} and _leftovers(tmp_path) == []


def test_an_output_that_appears_during_the_run_is_not_replaced(tmp_path, monkeypatch):
    out = tmp_path / "icl.json"
    real_train = in_context.train

    def meanwhile(*args, **kwargs):
        result = real_train(*args, **kwargs)
        out.write_text("another run's result")
        return result

    monkeypatch.setattr(in_context, "train", meanwhile)
    with pytest.raises(SystemExit) as exit_:
        in_context.main(["--steps", "2", "--eval-every", "2", "--out", str(out)])
    assert "appeared while this run worked" in str(exit_.value.code)
    assert out.read_text() == "another run's result"


def test_a_diverged_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(in_context.CONFIG, "lr", 1e308)
    with pytest.raises(SystemExit) as exit_:
        in_context.main(["--steps", "3", "--eval-every", "3", "--out", str(tmp_path / "icl.json")])
    assert "diverged" in str(exit_.value.code)
    assert list(tmp_path.iterdir()) == []


def test_train_gpt_with_a_comment_in_its_hash_file(tmp_path):
    (tmp_path / "SHA256SUMS").write_text(textwrap.dedent("""\
        # hashes of my runs
        SHA256 (old run.pt) = """ + "0" * 64 + "\n"))
    train_gpt.main(["--iters", "1", "--batch-size", "2", "--block-size", "8", "--n-layer", "1", "--n-head", "1",
                    "--d-model", "8", "--eval-blocks", "2", "--out", str(tmp_path / "a.pt")])
    sums = (tmp_path / "SHA256SUMS").read_text()
    assert sums.startswith("# hashes of my runs\nSHA256 (old run.pt)") and "  a.pt\n" in sums
    gpt_checkpoint.load_checkpoint(tmp_path / "a.pt", device="cpu")  # verified against it
    (tmp_path / "SHA256SUMS").write_text("garbage\n")
    with pytest.raises(SystemExit) as exit_:
        train_gpt.main(["--iters", "1", "--out", str(tmp_path / "b.pt")])
    assert exit_.value.code == 2 and not (tmp_path / "b.pt").exists()


def test_save_result_writes_or_exits_with_the_reason(tmp_path):
    out = check_output(tmp_path / "r.json")
    assert json.loads(out.save_result({"loss": 1.5}).read_text()) == {"loss": 1.5}
    nan = check_output(tmp_path / "nan.json")
    with pytest.raises(SystemExit, match="NaN or infinite"):
        nan.save_result({"loss": float("nan")})
    assert not (tmp_path / "nan.json").exists()


def test_command_line_records_module_and_arguments(monkeypatch):
    assert cli.command_line("textbook_utils.runs.x", ["--out", "a b.json"]) == \
        "python -m textbook_utils.runs.x --out a b.json"
    monkeypatch.setattr(sys, "argv", ["prog", "--quick"])
    assert cli.command_line("textbook_utils.runs.x") == "python -m textbook_utils.runs.x --quick"
