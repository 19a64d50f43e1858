"""The data the book learns from: MNIST digits and the tiny-Shakespeare corpus.

Every file is checked against its SHA-256 before a single byte of it is used,
so a chapter can never train on a truncated or altered copy without saying so.
The first chapter to use this module is "But what is a neural network?"
(``book/3b1b/01_what_is_a_neural_network.ipynb``).

Where the files come from, in order:

1. ``$TEXTBOOK_DATA_DIR`` if it is set (a folder laid out like ``data/``);
2. the ``data/`` folder of the book's checkout (the vendored copies);
3. otherwise (the package was installed without ``data/``) a per-user cache,
   ``$TEXTBOOK_CACHE_DIR`` or ``~/.cache/textbook_utils``, filled on first use
   by downloading from a well-known mirror. A download goes to a temporary file
   that is renamed into place only after its hash checks out, so an interrupted
   or corrupted download never leaves a file that a later call would trust.

MNIST is parsed from the original IDX files (no pickle): a 4-byte magic number
whose third byte is the element type (0x08 = unsigned byte) and fourth the
number of dimensions, then one big-endian uint32 per dimension, then the data.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DataError",
    "MNIST_SPLITS",
    "TEXT_CORPORA",
    "data_dir",
    "download_verified",
    "load_mnist",
    "load_text",
    "parse_idx",
    "read_sha256sums",
    "sha256_file",
    "sha256_line",
    "sha256_of",
]

DATA_DIR_ENV = "TEXTBOOK_DATA_DIR"
CACHE_DIR_ENV = "TEXTBOOK_CACHE_DIR"


class DataError(RuntimeError):
    """A data file is missing, damaged, or does not match its published SHA-256."""


class _MirrorFailed(Exception):
    """One mirror of a download failed (the next is tried)."""


@dataclass(frozen=True)
class DataFile:
    """One vendored file: where it lives under ``data/``, its hash, its mirrors."""

    folder: str  # sub-folder of data/, e.g. "mnist"
    name: str  # file name, e.g. "train-images-idx3-ubyte.gz"
    sha256: str
    mirrors: tuple[str, ...]  # base URLs; the file is at base + name

    @property
    def relpath(self) -> str:
        return f"{self.folder}/{self.name}"


_MNIST_MIRRORS = (
    # The original yann.lecun.com server has answered 403 Forbidden for the .gz files
    # since 2024 (pytorch/vision issue #8568); these two mirrors serve the same bytes.
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_SHAKESPEARE_MIRRORS = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",
)

_MNIST_FILES = {
    f.name: f
    for f in (
        DataFile("mnist", "train-images-idx3-ubyte.gz",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", _MNIST_MIRRORS),
        DataFile("mnist", "train-labels-idx1-ubyte.gz",
                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", _MNIST_MIRRORS),
        DataFile("mnist", "t10k-images-idx3-ubyte.gz",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", _MNIST_MIRRORS),
        DataFile("mnist", "t10k-labels-idx1-ubyte.gz",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", _MNIST_MIRRORS),
    )
}

#: split name -> (images file, labels file)
MNIST_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: corpus name -> its file
TEXT_CORPORA = {
    "tinyshakespeare": DataFile(
        "tinyshakespeare", "input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", _SHAKESPEARE_MIRRORS),
}


# --------------------------------------------------------------------------- where files live

def _checkout_data_dir() -> Path | None:
    """The ``data/`` folder of the book's checkout, if this package runs from one.

    A checkout is recognised by its layout — ``<root>/src/textbook_utils/`` beside
    ``<root>/pyproject.toml`` and a ``<root>/data/`` folder — never by the data
    files themselves: a deleted or damaged file in a checkout must be reported,
    not silently replaced by a download.
    """
    root = Path(__file__).resolve().parents[3]
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root / "data"
    return None


def data_dir() -> Path | None:
    """The folder that holds the vendored data, or ``None`` when there is none.

    ``$TEXTBOOK_DATA_DIR`` wins when set (it must then exist); otherwise the
    checkout's ``data/``. ``None`` means files come from the download cache.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise DataError(
                f"${DATA_DIR_ENV} is set to {override!r}, which is not a folder. "
                f"Point it at a folder laid out like the book's data/ (mnist/, tinyshakespeare/) "
                f"or unset it to use the book's own data/."
            )
        return path
    return _checkout_data_dir()


def _cache_dir() -> Path:
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        path = Path(override).expanduser()
        if path.exists() and not path.is_dir():
            raise DataError(f"${CACHE_DIR_ENV} is set to {override!r}, which is not a folder. "
                            f"Point it at a folder (it is created if missing) or unset it.")
        return path
    return Path.home() / ".cache" / "textbook_utils"


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    """Hex SHA-256 of the file at ``path``, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


_SUMS_LINE = re.compile(r"(?P<esc>\\?)(?P<hex>[0-9a-fA-F]{64}) [ *](?P<name>.+)")
_SUMS_TAG = re.compile(r"(?P<esc>\\?)SHA256 \((?P<name>.+)\) = (?P<hex>[0-9a-fA-F]{64})")


def sha256_line(line: str) -> tuple[str, str] | None:
    """``(file name, hex SHA-256)`` of one line of a ``SHA256SUMS`` file as
    ``sha256sum`` writes it, ``None`` for a blank line or a ``#`` comment;
    ``ValueError`` for anything else.

    Both of its formats: ``HEX  name`` (``HEX *name`` in binary mode) and
    ``--tag``'s ``SHA256 (name) = HEX``, names with spaces, and the
    backslash escapes it uses for names with a newline or a backslash.
    """
    if not line.strip() or line.startswith("#"):
        return None
    match = _SUMS_LINE.fullmatch(line) or _SUMS_TAG.fullmatch(line)
    if match is None:
        raise ValueError(f"not a SHA-256 line as sha256sum writes them "
                         f"('HEX  name' or 'SHA256 (name) = HEX'): {line[:80]!r}")
    name = match["name"]
    if match["esc"]:
        name = re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)
    return name, match["hex"].lower()


def read_sha256sums(path) -> dict[str, str]:
    """``{file name: hex SHA-256}`` from a ``SHA256SUMS`` file (:func:`sha256_line`).

    A line it cannot read, a name given two hashes, or a path that is not a
    regular file is a :class:`DataError`, never a skipped check.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} is not a regular file; a hash file must be one")
    sums: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entry = sha256_line(line)
        except ValueError as e:
            raise DataError(f"{path}, line {number}: {e}") from None
        if entry is not None and sums.setdefault(*entry) != entry[1]:
            raise DataError(f"{path}, line {number}: {entry[0]!r} is given two different hashes")
    return sums


def _read_verified(path: Path, spec: DataFile, how_to_restore: str) -> bytes:
    """Read ``path`` whole and check it against ``spec.sha256``; return its bytes."""
    if not path.is_file():
        raise DataError(
            f"data file {path} is missing (expected SHA-256 {spec.sha256}). {how_to_restore}"
        )
    raw = path.read_bytes()
    actual = sha256_of(raw)
    if actual != spec.sha256:
        raise DataError(
            f"data file {path} failed its SHA-256 check: expected {spec.sha256}, "
            f"got {actual} ({len(raw):,} bytes). The file is truncated, altered or not the "
            f"original. {how_to_restore}"
        )
    return raw


def _restore_hint(spec: DataFile, where: Path, vendored: bool) -> str:
    if vendored:
        return (
            f"Restore it with `git checkout -- data/{spec.relpath}` in the book's checkout "
            f"(or copy it back from a fresh clone); if ${DATA_DIR_ENV} is set, check the copy there."
        )
    return (
        f"Delete {where} and call again to download a verified copy "
        f"from {spec.mirrors[0]}."
    )


def download_verified(urls: list[str] | tuple[str, ...], dest: str | Path, sha256: str, *,
                      timeout_s: float = 300.0) -> Path:
    """Download the first of ``urls`` whose content has SHA-256 ``sha256`` to ``dest``.

    The bytes go to a temporary file beside ``dest``, which is renamed to
    ``dest`` only after the hash matches; on any failure the temporary file is
    removed, so nothing untrusted is ever left at ``dest``. Each URL gets at
    most ``timeout_s`` seconds for the whole download (a server that stalls or
    drips bytes is abandoned for the next one). Any failure of one mirror — a
    refused connection, a malformed HTTP answer, a cut-off transfer, a wrong
    hash — moves on to the next. Raises :class:`DataError` listing every URL
    tried and why it failed.

    The book keeps this to the standard library rather than depending on a
    download manager: it is a fallback for installs without ``data/`` (the
    vendored files are the normal path), it needs exactly these guarantees and
    no more, and it stays readable in one screen.
    """
    if isinstance(urls, str) or not urls:
        raise ValueError(f"urls must be a non-empty list of URLs, got {urls!r}")
    if not (isinstance(sha256, str) and len(sha256) == 64):
        raise ValueError(f"sha256 must be a 64-character hex string, got {sha256!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) \
            or not 0 < timeout_s < float("inf"):
        raise ValueError(f"timeout_s must be a finite number of seconds > 0, got {timeout_s!r}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    from textbook_utils.tools.safe_write import check_output

    failures = []
    for url in urls:
        deadline = time.monotonic() + timeout_s

        def fetch(out, url=url, deadline=deadline):
            digest = hashlib.sha256()
            per_read = min(60.0, timeout_s)  # no single read may block past this
            try:
                with urllib.request.urlopen(url, timeout=per_read) as response:
                    while chunk := response.read1(1 << 16):  # whatever has arrived: the deadline is checked often
                        digest.update(chunk)
                        out.write(chunk)
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"download took longer than {timeout_s:g} s")
                    if getattr(response, "length", None):  # the server closed before sending it all
                        raise http.client.IncompleteRead(b"", response.length)
            except (OSError, http.client.HTTPException, ValueError) as err:
                # OSError covers URLError, HTTPError, timeouts and refused connections;
                # HTTPException covers malformed answers (BadStatusLine, IncompleteRead).
                raise _MirrorFailed(f"{type(err).__name__}: {err}") from err
            if digest.hexdigest() != sha256:
                raise _MirrorFailed(f"SHA-256 {digest.hexdigest()} does not match {sha256}")

        try:  # the one atomic writer: nothing is renamed to dest unless fetch returned
            check_output(dest, overwrite=True, flag="download").write(fetch)
            return dest
        except _MirrorFailed as err:
            failures.append(f"{url}: {err}")
        except FileExistsError:  # another process downloaded it meanwhile
            if sha256_file(dest) == sha256:
                return dest
            raise
    raise DataError(
        f"could not download {dest.name}; every mirror failed:\n  " + "\n  ".join(failures)
        + f"\nCopy the file (SHA-256 {sha256}) to {dest} by hand, or set ${DATA_DIR_ENV} "
        f"to a folder that has it."
    )


def _file_bytes(spec: DataFile) -> bytes:
    """The verified bytes of one data file, from the vendored data or the cache."""
    vendored = data_dir()
    if vendored is not None:
        path = vendored / spec.folder / spec.name
        return _read_verified(path, spec, _restore_hint(spec, path, vendored=True))
    path = _cache_dir() / spec.folder / spec.name
    if not path.exists():
        download_verified([base + spec.name for base in spec.mirrors], path, spec.sha256)
    return _read_verified(path, spec, _restore_hint(spec, path, vendored=False))


# --------------------------------------------------------------------------- MNIST

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(raw: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Parse an uncompressed IDX file (the MNIST format) into a NumPy array.

    ``name`` only labels error messages. Raises :class:`DataError` when the
    header is malformed or the payload is not exactly as long as it declares.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_idx expects bytes, got {type(raw).__name__}")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{name} is not an IDX file: bad magic number {bytes(raw[:4]).hex()}")
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: IDX header declares {ndim} dimensions but the file ends early")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"{name}: IDX header declares shape {shape} ({expected:,} bytes in all) "
            f"but the file has {len(raw):,} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _check_split(split: str) -> None:
    if split not in MNIST_SPLITS:
        raise ValueError(
            f"unknown MNIST split {split!r}; valid splits are {sorted(MNIST_SPLITS)}"
        )


@functools.lru_cache(maxsize=None)
def _mnist_uint8(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Parsed, verified (images, labels) of one split, cached for the process.

    Both arrays are read-only so that no caller can change the cached copy.
    """
    images_name, labels_name = MNIST_SPLITS[split]
    images = parse_idx(gzip.decompress(_file_bytes(_MNIST_FILES[images_name])), name=images_name)
    labels = parse_idx(gzip.decompress(_file_bytes(_MNIST_FILES[labels_name])), name=labels_name)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise DataError(
            f"MNIST {split}: unexpected shapes images {images.shape}, labels {labels.shape}; "
            f"expected (N, 28, 28) and (N,)"
        )
    images.flags.writeable = False  # np.frombuffer on bytes is read-only already; be explicit
    labels.flags.writeable = False
    return images, labels


def load_mnist(split: str = "train", *, raw: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST: ``"train"`` (60,000 images) or ``"test"`` (10,000).

    Returns ``(images, labels)``:

    - by default ``images`` is ``float32`` of shape ``(N, 784)``, each row one
      digit read row by row, scaled from 0..255 to [0, 1] — the 784 input
      activations of the 3Blue1Brown network (0 = black, 1 = white);
    - with ``raw=True`` ``images`` is the original ``uint8`` array of shape
      ``(N, 28, 28)`` (read-only: copy it before changing it);
    - ``labels`` is ``int64`` of shape ``(N,)`` with values 0..9.

    Files are verified by SHA-256 and parsed once per process.
    """
    if not isinstance(split, str):
        raise TypeError(f"split must be a string, got {type(split).__name__}")
    _check_split(split)
    if not isinstance(raw, bool):
        raise TypeError(f"raw must be True or False, got {raw!r}")
    images, labels = _mnist_uint8(split)
    labels = labels.astype(np.int64)  # (N,)
    if raw:
        return images, labels  # (N, 28, 28) uint8, read-only
    flat = images.reshape(len(images), 28 * 28).astype(np.float32)  # (N, 784)
    flat /= 255.0
    return flat, labels


# --------------------------------------------------------------------------- text

def load_text(name: str = "tinyshakespeare") -> str:
    """Load a vendored text corpus, verified by SHA-256, as one ``str``.

    ``"tinyshakespeare"``: 1,115,394 characters of Shakespeare (public domain),
    the corpus of the book's character-level GPT.
    """
    if not isinstance(name, str):
        raise TypeError(f"corpus name must be a string, got {type(name).__name__}")
    if name not in TEXT_CORPORA:
        raise ValueError(f"unknown corpus {name!r}; valid names are {sorted(TEXT_CORPORA)}")
    return _file_bytes(TEXT_CORPORA[name]).decode("utf-8")
