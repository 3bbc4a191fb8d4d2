"""Read workspace files as text without ever hanging or raising.

`read_source` opens a path, refuses anything that is not a regular file (directories, FIFOs,
sockets, devices), refuses files over the size limit, refuses binary content, and decodes the
rest. Decoding never fails: UTF-8 (with or without BOM) is tried first, a PEP 263 coding cookie
is honoured for Python files, UTF-16/32 files with a BOM are decoded, and anything else is
decoded as UTF-8 with replacement characters and marked `lossy`.

Line endings are kept as they are on disk so offsets stay true to the file.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import tokenize
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SNIFF_BYTES = 8192
"""How much of the start of a file the binary check looks at."""

CONTROL_RATIO_LIMIT = 0.3
"""Above this share of control bytes in the sniffed prefix, a file counts as binary."""

_READ_CHUNK = 1 << 20
_PYTHON_SUFFIXES = frozenset({".py", ".pyi", ".pyw"})
# Control bytes that do not occur in text: everything below 0x20 except \t \n \v \f \r and ESC.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
# Longer BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_WIDE_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class SkipReason(StrEnum):
    """Why a file was left out of the index. Shared by the walker's report."""

    IGNORED = "ignored"  # .gitignore, excludes, virtualenvs, build output, hidden dirs
    SECRET = "secret"  # secret-looking path or content
    TOO_LARGE = "too_large"
    BINARY = "binary"
    PERMISSION = "permission"
    MISSING = "missing"  # vanished between listing and reading, or a dangling symlink
    UNREADABLE = "unreadable"  # not a regular file, or another OS error
    SYMLINK = "symlink"  # symlinked dir (not followed), or a link leading out of the workspace
    UNSUPPORTED = "unsupported"  # not a Python or docs file


@dataclass(frozen=True, slots=True)
class SourceText:
    """Decoded file contents."""

    text: str
    encoding: str  # codec actually used: "utf-8", "utf-8-sig", "latin-1", "utf-16", ...
    lossy: bool = False  # True when undecodable bytes were replaced with U+FFFD
    size: int = 0  # size in bytes of the raw data


def read_source(
    path: Path | str, max_bytes: int | None, *, python: bool | None = None
) -> SourceText | SkipReason:
    """Read and decode `path`, or say why not. Never raises for OS-level problems.

    `max_bytes=None` means no limit. `python` enables PEP 263 coding cookies; by default it is
    decided from the file suffix.
    """
    data = read_bytes(path, max_bytes)
    if isinstance(data, SkipReason):
        return data
    if is_binary(data):
        return SkipReason.BINARY
    if python is None:
        python = Path(path).suffix.lower() in _PYTHON_SUFFIXES
    return decode_bytes(data, python=python)


def read_bytes(path: Path | str, max_bytes: int | None) -> bytes | SkipReason:
    """Raw contents of a regular file of at most `max_bytes` bytes, or the reason it can't be."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    except OSError as exc:
        return reason_for_error(exc)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return SkipReason.UNREADABLE
        if max_bytes is not None and info.st_size > max_bytes:
            return SkipReason.TOO_LARGE
        data = _read_at_most(fd, None if max_bytes is None else max_bytes + 1)
    except OSError as exc:
        return reason_for_error(exc)
    finally:
        os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:  # the file grew while we read it
        return SkipReason.TOO_LARGE
    return data


def _read_at_most(fd: int, limit: int | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while limit is None or total < limit:
        want = _READ_CHUNK if limit is None else min(_READ_CHUNK, limit - total)
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def reason_for_error(exc: OSError) -> SkipReason:
    """The skip reason matching an OS error."""
    if isinstance(exc, PermissionError):
        return SkipReason.PERMISSION
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return SkipReason.MISSING
    return SkipReason.UNREADABLE


def is_binary(data: bytes) -> bool:
    """True when the start of `data` looks binary: a NUL byte or many control bytes.

    UTF-16/32 text with a BOM is not binary even though it contains NULs.
    """
    head = data[:SNIFF_BYTES]
    if not head or _wide_bom_codec(head) is not None:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > CONTROL_RATIO_LIMIT


def _wide_bom_codec(data: bytes) -> str | None:
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            return codec
    return None


def decode_bytes(data: bytes, *, python: bool = False) -> SourceText:
    """Decode `data` as well as possible. Never raises; `lossy` tells if bytes were replaced."""
    size = len(data)
    wide = _wide_bom_codec(data)
    if wide is not None:
        return _decode_with(data, wide, size)
    if data.startswith(codecs.BOM_UTF8):
        return _decode_with(data, "utf-8-sig", size)
    if python:
        cookie = _coding_cookie(data)
        if cookie is not None and cookie != "utf-8":
            try:
                return _source(data.decode(cookie), cookie, False, size)
            except (UnicodeDecodeError, LookupError):
                pass
    return _decode_with(data, "utf-8", size)


def _decode_with(data: bytes, codec: str, size: int) -> SourceText:
    try:
        return _source(data.decode(codec), codec, False, size)
    except UnicodeDecodeError:
        return _source(data.decode(codec, errors="replace"), codec, True, size)


def _source(text: str, encoding: str, lossy: bool, size: int) -> SourceText:
    return SourceText(normalize_newlines(text), encoding, lossy, size)


def normalize_newlines(text: str) -> str:
    """`\r\n` and lone `\r` as `\n`. Line numbers stay as LSP counts them (all three end a
    line); a model prompted with Windows line endings completes worse, and tree-sitter,
    scope analysis and the token masks all read lines split on `\n`."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _coding_cookie(data: bytes) -> str | None:
    """The PEP 263 encoding declared in the first two lines, normalised, if any."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, LookupError):
        return None
    return codecs.lookup(encoding).name if encoding != "utf-8" else "utf-8"


def decode_buffer(content: str | bytes, *, python: bool = False) -> SourceText:
    """Normalise an editor buffer (already text) or raw bytes into a `SourceText`.

    A leading BOM is dropped, line endings become `\n`, and lone surrogates (possible in
    strings coming from JSON) are replaced so the text can always be encoded as UTF-8
    later.
    """
    if isinstance(content, bytes):
        return decode_bytes(content, python=python)
    text = content.removeprefix("\ufeff")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raw = text.encode("utf-8", errors="replace")
        return _source(raw.decode("utf-8"), "utf-8", True, len(raw))
    return _source(text, "utf-8", False, size)
