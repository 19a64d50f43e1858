"""Writing a result without losing one: check before the work, write whole or not at all.

Every command of the book that writes a file (the trainers, the runs that
write a chapter's committed results, the two scripts under ``book/``) writes
it through this module, in two steps::

    out = check_output(args.out, overwrite=args.overwrite)   # before any work
    ...                                                       # minutes of training
    out.write_json(results)                                   # whole, or not at all

:func:`check_output` refuses, before anything is computed, an output that
could not be written or that would replace something unasked: a folder, a
missing folder, a file that is not a regular file (``/dev/full``), an
existing file without ``--overwrite``, a folder this process cannot write to
(a probe file is created there and deleted), and two places that hold
committed files — inside the ``textbook_utils`` package or the book's
``data/``, and beside a ``SHA256SUMS`` that git tracks — unless
``--overwrite`` says that is meant.

:meth:`Output.write` writes under a fresh temporary name in the same folder,
flushes it to the disk, then puts it in place in one step:

- without ``--overwrite`` by a hard link, which fails if the file appeared
  in the meantime (another run finished first): it is not replaced;
- with ``--overwrite`` by a rename, after checking that the file is still
  the one :func:`check_output` saw (another run did not replace it meanwhile).

A full disk, an error or SIGINT/SIGTERM during the write removes the
temporary file and leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

__all__ = ["Output", "PACKAGE", "SUMS", "check_output", "write_atomic"]

#: the installed package's folder: committed checkpoints live here
PACKAGE = Path(__file__).resolve().parents[1]
SUMS = "SHA256SUMS"  # a folder with this file holds committed, hashed files


def _signature(path: Path):
    """What identifies the file at ``path`` now (``None``: there is none)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _protected(folder: Path) -> str | None:
    """Why ``folder`` holds committed files, or ``None``: the package (its
    checkpoints), the book's data folder, or a folder whose ``SHA256SUMS``
    is tracked by git."""
    from textbook_utils.tools.data import DataError, data_dir

    resolved = folder.resolve()
    if resolved == PACKAGE or PACKAGE in resolved.parents:
        return f"is inside the textbook_utils package ({PACKAGE})"
    with contextlib.suppress(DataError):
        data = data_dir()
        if data is not None and (resolved == data.resolve() or data.resolve() in resolved.parents):
            return f"is inside the book's data folder ({data})"
    sums = folder / SUMS
    if sums.exists() and _tracked_by_git(sums):
        return f"is beside {sums}, which records committed files"
    return None


def _tracked_by_git(path: Path) -> bool:
    try:
        done = subprocess.run(["git", "-C", str(path.parent), "ls-files", "--error-unmatch", path.name],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False  # no git: the package and data folders are still protected
    return done.returncode == 0


class Output:
    """A file a command will write, checked by :func:`check_output`."""

    def __init__(self, path, *, overwrite: bool, flag: str, seen):
        self.path, self.overwrite, self.flag = Path(path), overwrite, flag
        self.seen = seen  # the file's signature when checked (None: absent)

    def __repr__(self):
        return f"Output({str(self.path)!r}, overwrite={self.overwrite})"

    def write(self, write_to) -> Path:
        """Call ``write_to(f)`` on a binary file, then put it at the path."""
        path, tmp = self.path, None
        try:
            with _signals_clean_up():
                try:
                    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp",
                                               prefix=f".{path.name}.")
                    umask = os.umask(0)
                    os.umask(umask)
                    os.fchmod(fd, 0o666 & ~umask)  # an ordinary file
                    with os.fdopen(fd, "wb") as f:
                        write_to(f)
                        f.flush()
                        os.fsync(f.fileno())
                    self._commit(tmp)
                finally:
                    if tmp is not None:
                        Path(tmp).unlink(missing_ok=True)
        except FileExistsError:
            raise
        except OSError as e:
            kept = "the old file was left as it was" if self.seen else "nothing was written"
            raise OSError(e.errno, f"could not write {self.flag} {path} "
                          f"({e.strerror or e}); {kept}") from e
        self.seen, self.overwrite = _signature(path), True  # ours now
        with contextlib.suppress(OSError):  # the rename itself, on disk
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return path

    def _commit(self, tmp: str) -> None:
        path, where = self.path, f"{self.flag} {self.path}"
        lost = "; this run's result was not saved"
        if self.overwrite and self.seen is not None:
            if _signature(path) != self.seen:
                raise FileExistsError(
                    f"{where} changed while this run worked (did another run write it?); "
                    f"it was not replaced{lost}")
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # fails if the file exists: no clobbering
        except FileExistsError:
            raise FileExistsError(
                f"{where} appeared while this run worked (did another run write it?); "
                f"it was not replaced{lost}. Pass --overwrite to replace it") from None
        except OSError as e:  # a file system without hard links
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if path.exists():
                raise FileExistsError(f"{where} appeared while this run worked; "
                                      f"it was not replaced{lost}") from None
            os.replace(tmp, path)

    def write_bytes(self, data: bytes) -> Path:
        return self.write(lambda f: f.write(data))

    def write_text(self, text: str) -> Path:
        return self.write_bytes(text.encode("utf-8"))

    def write_json(self, obj, *, indent: int | None = 1) -> Path:
        """``obj`` as JSON; NaN and infinities are refused (they are not JSON)."""
        try:
            text = json.dumps(obj, indent=indent, allow_nan=False)
        except ValueError:
            raise ValueError(f"the results for {self.flag} {self.path} hold NaN or "
                             f"infinite numbers; nothing was written") from None
        return self.write_text(text + "\n")

    def save_result(self, obj, *, indent: int | None = 1) -> Path:
        """What a command ends with: :meth:`write_json`, or the program
        exits with the reason nothing was written."""
        try:
            return self.write_json(obj, indent=indent)
        except (OSError, ValueError) as error:
            raise SystemExit(str(error)) from None


def check_output(path, *, overwrite: bool = False, flag: str = "--out") -> Output:
    """``path`` as an :class:`Output` if a result can be written there; call it
    before any work. Raises an ``OSError`` or ``ValueError`` naming ``flag``."""
    path = Path(path)
    where = f"{flag} {path}"
    if path.is_dir():
        raise IsADirectoryError(f"{where} is a folder; give a file name such as "
                                f"{path / 'results.json'}")
    if path.exists() and not path.is_file():
        raise ValueError(f"{where} is not a regular file")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{where} exists; pass --overwrite to replace it")
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{where}: the folder {folder} does not exist; create it first")
    why = _protected(folder)
    if why and not overwrite:
        raise PermissionError(f"{where} {why}; write elsewhere, or pass --overwrite "
                              f"if you mean to write there")
    try:  # can this process create a file there? (read-only mounts, /proc ...)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise PermissionError(f"{where}: cannot write into {folder} ({e.strerror or e})") from None
    return Output(path, overwrite=overwrite, flag=flag, seen=_signature(path))


def write_atomic(path, data: bytes | str, *, overwrite: bool = False) -> Path:
    """Check ``path`` and write ``data`` to it at once (for small files)."""
    out = check_output(path, overwrite=overwrite, flag="file")
    return out.write_text(data) if isinstance(data, str) else out.write_bytes(data)


class _Interrupted(BaseException):
    def __init__(self, signum):
        self.signum = signum


@contextlib.contextmanager
def _signals_clean_up():
    """While writing, SIGINT and SIGTERM raise, so that ``finally`` removes the
    temporary file; the signal is then delivered again to its old handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise _Interrupted(signum)

    old = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)
           if signal.getsignal(s) is not signal.SIG_IGN}  # ignored stays ignored
    try:
        yield
    except _Interrupted as e:
        _restore(old)
        old = {}
        signal.raise_signal(e.signum)  # default SIGTERM: the process ends here
        raise KeyboardInterrupt from None  # a handler that returned
    finally:
        _restore(old)


def _restore(handlers: dict) -> None:
    for s, handler in handlers.items():
        signal.signal(s, signal.SIG_DFL if handler is None else handler)
