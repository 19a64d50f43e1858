"""textbook_utils.tools.data: real MNIST and tiny Shakespeare, verified and parsed correctly."""

import gzip
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from textbook_utils.tools import data
from textbook_utils.tools.data import (DataError, load_mnist, load_text,
                                       parse_idx)

REPO = Path(__file__).resolve().parents[1]

# Per-digit label counts 0..9 as published with the data (data/mnist/SOURCE.md).
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("split, counts, first", [("train", TRAIN_COUNTS, 5), ("test", TEST_COUNTS, 7)])
def test_label_counts_and_first_label(split, counts, first):
    images, labels = load_mnist(split)
    assert len(images) == len(labels) == sum(counts)
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert labels[0] == first


@pytest.mark.parametrize("split, mean, std", [("train", 33.3184, 78.5675), ("test", 33.7912, 79.1725)])
def test_images_are_784_columns_in_unit_range(split, mean, std):
    images, labels = load_mnist(split)
    assert images.dtype == np.float32 and images.shape[1] == 784
    assert labels.dtype == np.int64 and labels.ndim == 1
    assert images.min() == 0.0 and images.max() == 1.0
    # Statistics on the 0..255 scale, as published in data/mnist/SOURCE.md.
    as64 = images.astype(np.float64)  # one copy (376 MB for the training set), not one per statistic
    assert as64.mean() * 255 == pytest.approx(mean, abs=1e-3)
    assert as64.std() * 255 == pytest.approx(std, abs=1e-3)


def test_raw_images_are_the_original_bytes():
    raw, labels_raw = load_mnist("test", raw=True)
    flat, labels = load_mnist("test")
    assert raw.dtype == np.uint8 and raw.shape == (10000, 28, 28)
    assert not raw.flags.writeable, "the cached array must be protected from callers"
    np.testing.assert_array_equal(labels_raw, labels)
    np.testing.assert_allclose(flat, raw.reshape(-1, 784) / np.float32(255), rtol=0, atol=1e-7)
    # The IDX payload read by hand: 16-byte header, then the pixels row by row.
    payload = gzip.decompress((REPO / "data/mnist/t10k-images-idx3-ubyte.gz").read_bytes())
    assert payload[:4] == b"\x00\x00\x08\x03"
    np.testing.assert_array_equal(raw[1], np.frombuffer(payload[16 + 784: 16 + 2 * 784], np.uint8).reshape(28, 28))


def test_parsed_arrays_are_cached_for_the_process(fresh_data_cache):
    first = load_mnist("test", raw=True)[0]
    again = load_mnist("test", raw=True)[0]
    assert again is first
    assert data._mnist_uint8.cache_info().hits >= 1


def test_returned_float_images_are_the_callers_own():
    images, _ = load_mnist("test")
    images[0, 0] = 0.5  # must not raise, and must not leak into the next call
    assert load_mnist("test")[0][0, 0] == 0.0


@pytest.mark.parametrize("folder", ["mnist", "tinyshakespeare"])
def test_hashes_in_the_package_match_the_vendored_sums(folder):
    sums = dict(
        reversed(line.split()) for line in (REPO / "data" / folder / "SHA256SUMS").read_text().splitlines() if line
    )
    specs = {**data._MNIST_FILES, **{f.name: f for f in data.TEXT_CORPORA.values()}}
    for name, digest in sums.items():
        assert specs[name].sha256 == digest
        assert data.sha256_of((REPO / "data" / folder / name).read_bytes()) == digest


def test_tiny_shakespeare():
    text = load_text("tinyshakespeare")
    assert isinstance(text, str)
    assert len(text) == 1_115_394
    assert len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


# --------------------------------------------------------------------------- bad input

def test_unknown_split_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown MNIST split 'validation'.*\['test', 'train'\]"):
        load_mnist("validation")
    with pytest.raises(TypeError, match="split must be a string"):
        load_mnist(0)
    with pytest.raises(TypeError, match="raw must be True or False"):
        load_mnist("test", raw="yes")


def test_unknown_corpus_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown corpus 'hamlet'.*\['tinyshakespeare'\]"):
        load_text("hamlet")


def test_altered_file_names_file_and_both_hashes(data_copy):
    target = data_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    blob = bytearray(target.read_bytes())
    blob[100] ^= 0xFF
    target.write_bytes(bytes(blob))
    expected = data._MNIST_FILES[target.name].sha256
    with pytest.raises(DataError) as info:
        load_mnist("test")
    message = str(info.value)
    assert str(target) in message
    assert f"expected {expected}" in message
    assert f"got {data.sha256_of(bytes(blob))}" in message
    assert "git checkout -- data/mnist/t10k-labels-idx1-ubyte.gz" in message


def test_truncated_file_is_refused(data_copy):
    target = data_copy / "mnist" / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"failed its SHA-256 check.*1,000 bytes"):
        load_mnist("train")


def test_missing_file_is_refused(data_copy):
    (data_copy / "tinyshakespeare" / "input.txt").unlink()
    with pytest.raises(DataError, match=r"input.txt is missing.*86c4e6aa.*git checkout"):
        load_text("tinyshakespeare")


def test_data_dir_override_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="not a folder"):
        load_text()


def test_malformed_idx_is_refused():
    with pytest.raises(DataError, match="bad magic number"):
        parse_idx(b"\x01\x02\x03\x04rest")
    header = b"\x00\x00\x08\x01" + (5).to_bytes(4, "big")
    np.testing.assert_array_equal(parse_idx(header + bytes([1, 2, 3, 4, 5])), [1, 2, 3, 4, 5])
    with pytest.raises(DataError, match=r"declares shape \(5,\).*has 12 bytes"):
        parse_idx(header + bytes([1, 2, 3, 4]))
    with pytest.raises(TypeError, match="expects bytes"):
        parse_idx("not bytes")


# --------------------------------------------------------------------------- downloads

def _no_partial_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_download_keeps_only_a_verified_file(tmp_path):
    source = REPO / "data" / "tinyshakespeare" / "input.txt"
    good = data.TEXT_CORPORA["tinyshakespeare"].sha256
    dest = tmp_path / "cache" / "input.txt"

    bad_source = tmp_path / "bad.txt"
    bad_source.write_bytes(source.read_bytes()[:5000])  # a truncated download
    with pytest.raises(DataError, match=r"(?s)every mirror failed.*does not match.*No such file"):
        data.download_verified([bad_source.as_uri(), (tmp_path / "absent.txt").as_uri()], dest, good)
    assert not dest.exists()
    assert _no_partial_files(dest.parent) == []

    # The first mirror is bad, the second good: the good copy lands, nothing else.
    data.download_verified([bad_source.as_uri(), source.as_uri()], dest, good)
    assert data.sha256_of(dest.read_bytes()) == good
    assert _no_partial_files(dest.parent) == []


def test_without_vendored_data_the_loader_downloads_to_the_cache(monkeypatch, tmp_path, fresh_data_cache):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "input.txt").write_bytes((REPO / "data/tinyshakespeare/input.txt").read_bytes())
    spec = data.TEXT_CORPORA["tinyshakespeare"]
    monkeypatch.setitem(data.TEXT_CORPORA, "tinyshakespeare",
                        data.DataFile(spec.folder, spec.name, spec.sha256, (mirror.as_uri() + "/",)))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "_checkout_data_dir", lambda: None)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))

    assert data.data_dir() is None
    assert len(load_text()) == 1_115_394
    cached = tmp_path / "cache" / "tinyshakespeare" / "input.txt"
    assert cached.is_file()

    # A damaged cache copy is refused with a way out, never trusted.
    cached.write_bytes(b"tampered")
    with pytest.raises(DataError, match=rf"Delete {re.escape(str(cached))}"):
        load_text()


def test_download_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="non-empty list"):
        data.download_verified("https://example.org/x", tmp_path / "x", "0" * 64)
    with pytest.raises(ValueError, match="64-character"):
        data.download_verified(["file:///x"], tmp_path / "x", "abc")


# --------------------------------------------------------------------------- bad servers and checkouts

class _BadServer:
    """A one-connection-at-a-time TCP server on 127.0.0.1 that answers every request with ``reply(conn)``."""

    def __init__(self, reply):
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/input.txt"
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    self.reply(conn)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def _garbage_status(conn):
    conn.sendall(b"THIS IS NOT HTTP\r\n\r\n")  # http.client raises BadStatusLine


def _cut_off(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10)  # IncompleteRead


def _drip(conn):
    import time

    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):  # one byte every 50 ms: 50 s in all, far past the deadline
        conn.sendall(b"x")
        time.sleep(0.05)


@pytest.mark.parametrize("reply, reason", [(_garbage_status, "BadStatusLine"), (_cut_off, "IncompleteRead"),
                                           (_drip, "TimeoutError")])
def test_a_broken_mirror_is_skipped_for_the_next_one(tmp_path, reply, reason):
    import time

    source = REPO / "data" / "tinyshakespeare" / "input.txt"
    good = data.TEXT_CORPORA["tinyshakespeare"].sha256
    server = _BadServer(reply)
    try:
        dest = tmp_path / "cache" / "input.txt"
        start = time.monotonic()
        with pytest.raises(DataError, match=reason):
            data.download_verified([server.url], dest, good, timeout_s=1.0)
        assert time.monotonic() - start < 10, "the whole download must give up near its deadline"
        assert not dest.exists() and _no_partial_files(dest.parent) == []
        data.download_verified([server.url, source.as_uri()], dest, good, timeout_s=1.0)
        assert data.sha256_of(dest.read_bytes()) == good
    finally:
        server.close()


def test_a_checkout_is_recognised_by_its_layout_not_by_its_data_files(tmp_path, monkeypatch):
    """Deleting data/mnist/SHA256SUMS (or any data file) must not switch the loaders to downloading."""
    import importlib.util

    root = tmp_path / "book"
    (root / "src" / "textbook_utils" / "tools").mkdir(parents=True)
    (root / "data").mkdir()  # no SHA256SUMS, no data files at all
    (root / "pyproject.toml").write_text("")
    copy = root / "src" / "textbook_utils" / "tools" / "data.py"
    copy.write_text((REPO / "src" / "textbook_utils" / "tools" / "data.py").read_text())
    spec = importlib.util.spec_from_file_location("data_in_a_checkout", copy)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    assert module._checkout_data_dir() == root / "data"

    (root / "pyproject.toml").unlink()  # an installed package: no checkout around it
    assert module._checkout_data_dir() is None


def test_without_sha256sums_the_vendored_files_are_still_used_and_verified(data_copy, monkeypatch):
    (data_copy / "mnist" / "SHA256SUMS").unlink()
    (data_copy / "tinyshakespeare" / "SHA256SUMS").unlink()
    monkeypatch.setattr(data, "download_verified", lambda *a, **k: pytest.fail("must not download"))
    assert len(load_text()) == 1_115_394
    assert load_mnist("test")[0].shape == (10000, 784)
