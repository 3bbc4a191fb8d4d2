"""Safe text reading (index.textfile): encodings, binary files, size limits, special paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.workspace_files import write

from tether.index.textfile import SkipReason, decode_buffer, decode_bytes, is_binary, read_source


def test_read_plain_utf8(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.py", "s = 'é'\r\n"), 1000)
    assert not isinstance(result, SkipReason)
    assert (result.text, result.encoding, result.lossy) == ("s = 'é'\n", "utf-8", False)
    assert result.size == len("s = 'é'\r\n".encode())  # the file's size on disk


def test_read_utf8_bom_is_stripped(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.md", b"\xef\xbb\xbf# Title\n"), 1000)
    assert not isinstance(result, SkipReason)
    assert (result.text, result.encoding, result.lossy) == ("# Title\n", "utf-8-sig", False)


def test_non_utf8_is_decoded_with_replacement(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.txt", b"caf\xe9 \xff\n"), 1000)
    assert not isinstance(result, SkipReason)
    assert result.lossy
    assert result.text == "caf\ufffd \ufffd\n"


def test_python_coding_cookie_is_honoured(tmp_path: Path) -> None:
    data = b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    result = read_source(write(tmp_path, "a.py", data), 1000)
    assert not isinstance(result, SkipReason)
    assert "café" in result.text and not result.lossy


def test_utf16_with_bom_is_text(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.txt", "hello\n".encode("utf-16")), 1000)
    assert not isinstance(result, SkipReason)
    assert result.text == "hello\n" and not result.lossy


def test_binary_detection(tmp_path: Path) -> None:
    assert read_source(write(tmp_path, "a.py", b"abc\x00def"), 1000) is SkipReason.BINARY
    noisy = bytes(range(1, 9)) * 100
    assert read_source(write(tmp_path, "b.py", noisy), 10_000) is SkipReason.BINARY
    assert not is_binary(b"plain text\twith\ttabs\n\x1b[0m")
    assert not is_binary(b"")


def test_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.py", "x" * 100)
    assert read_source(path, 99) is SkipReason.TOO_LARGE
    assert not isinstance(read_source(path, 100), SkipReason)
    assert not isinstance(read_source(path, None), SkipReason)


def test_read_special_paths_never_raise_or_hang(tmp_path: Path) -> None:
    assert read_source(tmp_path / "missing.py", 1000) is SkipReason.MISSING
    assert read_source(tmp_path, 1000) is SkipReason.UNREADABLE
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert read_source(fifo, 1000) is SkipReason.UNREADABLE
    if os.path.exists("/dev/zero"):
        assert read_source("/dev/zero", 1000) is SkipReason.UNREADABLE


def test_read_permission_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.py")

    def deny(*_args: object, **_kwargs: object) -> int:
        raise PermissionError("denied")

    monkeypatch.setattr(os, "open", deny)
    assert read_source(path, 1000) is SkipReason.PERMISSION


def test_decode_buffer() -> None:
    assert decode_buffer("\ufeffx = 1").text == "x = 1"
    broken = decode_buffer("a\ud800b")
    assert broken.lossy and broken.text.encode("utf-8")
    assert decode_buffer(b"caf\xc3\xa9").text == "café"
    assert decode_bytes(b"\xff", python=True).lossy


def test_line_endings_become_newlines_and_lines_keep_their_numbers() -> None:
    assert decode_bytes(b"a = 1\r\nb = 2\r\n").text == "a = 1\nb = 2\n"
    assert decode_bytes(b"a = 1\rb = 2\r\nc = 3\n").text == "a = 1\nb = 2\nc = 3\n"
    assert decode_buffer("x = 1\r\n").text == "x = 1\n"
    assert decode_bytes("# -*- coding: latin-1 -*-\r\nname = 'é'\r\n".encode("latin-1"),
                        python=True).text == "# -*- coding: latin-1 -*-\nname = 'é'\n"
