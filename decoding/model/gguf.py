"""GGUF files: header validation before llama.cpp sees a file, and the model errors.

A missing, truncated or corrupt model must produce a clear error naming the path, never a
crash inside llama.cpp, so the whole header (metadata and tensor table) is read and every
tensor's data is checked to fit in the file.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class ModelError(Exception):
    """Base class for model resolution and loading problems. ``path`` may be ``None``."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class ModelNotFoundError(ModelError, FileNotFoundError):
    """The configured model (name or path) does not exist."""


class ModelLoadError(ModelError):
    """The model file exists but is not a usable GGUF model (corrupt, truncated, unsupported)."""



# --------------------------------------------------------------------------------------------
# GGUF header validation
# --------------------------------------------------------------------------------------------

_GGUF_MAGIC = b"GGUF"
_SUPPORTED_VERSIONS = (2, 3)
_MAX_DIMS = 4
_DEFAULT_ALIGNMENT = 32

# GGUF metadata value types -> fixed byte size (STRING = 8 and ARRAY = 9 are variable).
_VALUE_SIZES: dict[int, int] = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_VALUE_FORMATS: dict[int, str] = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9

# ggml tensor type -> (elements per block, bytes per block), as reported by libggml's
# ggml_blck_size()/ggml_type_size(). Unknown (newer) types skip the data-size check.
_GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17), 40: (64, 36), 41: (128, 18), 42: (64, 18),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GgufInfo:
    """What :func:`validate_gguf` learned from a GGUF header.

    ``metadata`` holds scalar and string values; arrays are summarised as
    ``("array", element_type, length)`` tuples (the vocabulary is not decoded here).
    """

    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, object]
    file_size: int
    data_offset: int
    data_end: int  # highest tensor end offset that could be computed (<= file_size)

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None


class _Truncated(Exception):
    pass


class _Reader:
    __slots__ = ("buf", "pos", "size")

    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)

    def take(self, n: int) -> int:
        start = self.pos
        end = start + n
        if n < 0 or end > self.size:
            raise _Truncated
        self.pos = end
        return start

    def u32(self) -> int:
        return struct.unpack_from("<I", self.buf, self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack_from("<Q", self.buf, self.take(8))[0]

    def string(self) -> bytes:
        n = self.u64()
        start = self.take(n)
        return bytes(self.buf[start : start + n])

    def skip_strings(self, count: int) -> None:
        buf, size, pos = self.buf, self.size, self.pos
        unpack = struct.Struct("<Q").unpack_from
        for _ in range(count):
            if pos + 8 > size:
                raise _Truncated
            pos += 8 + unpack(buf, pos)[0]
        if pos > size:
            raise _Truncated
        self.pos = pos

    def value(self, vtype: int) -> object:
        if vtype == _STRING:
            return self.string().decode("utf-8", errors="replace")
        if vtype == _ARRAY:
            etype = self.u32()
            count = self.u64()
            if etype == _STRING:
                self.skip_strings(count)
            elif etype in _VALUE_SIZES:
                self.take(_VALUE_SIZES[etype] * count)
            else:
                raise ValueError(f"unknown array element type {etype}")
            return ("array", etype, count)
        fmt = _VALUE_FORMATS.get(vtype)
        if fmt is None:
            raise ValueError(f"unknown metadata value type {vtype}")
        return struct.unpack_from(fmt, self.buf, self.take(_VALUE_SIZES[vtype]))[0]


def _load_error(path: Path, problem: str, embedded: str) -> ModelLoadError:
    return ModelLoadError(
        f"Model file {path} is not a usable GGUF model: {problem}. "
        "Re-download or re-export the file, or configure a different model "
        f"(an existing .gguf path or one of: {embedded}).",
        path,
    )


def validate_gguf(path: str | os.PathLike[str], embedded_models: Iterable[str] = ()) -> GgufInfo:
    """Check that ``path`` is a complete GGUF file and return its header information.
    ``embedded_models``: the names an error suggests instead.

    Parses the whole header (metadata and tensor table) with bounds checks and verifies that
    every tensor's data lies inside the file, so truncated downloads are caught here.

    Raises:
        ModelNotFoundError: the path does not exist or is not a regular file.
        ModelLoadError: the file is not GGUF, uses an unsupported version, or is truncated.
    """
    p = Path(path).expanduser()
    embedded = ", ".join(embedded_models) or "none"
    if not p.exists():
        raise ModelNotFoundError(
            f"Model file {p} does not exist. Configure an existing .gguf file or one of the "
            f"embedded models: {embedded}.",
            p,
        )
    if not p.is_file():
        raise ModelNotFoundError(
            f"Model path {p} is not a file. Point it at a .gguf file "
            f"(or use an embedded model: {embedded}).",
            p,
        )
    try:
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < 24:
                raise _load_error(p, f"file is only {size} bytes (truncated or empty)", embedded)
            head = fh.read(4)
            if head != _GGUF_MAGIC:
                if head in (b"lmgg", b"fmgg", b"tjgg", b"ggml", b"ggmf", b"ggjt"):
                    raise _load_error(p, "legacy GGML format; convert it to GGUF", embedded)
                raise _load_error(p, f"bad magic bytes {head!r} (expected b'GGUF')", embedded)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse_gguf(p, buf, size, embedded)
    except ModelError:
        raise
    except OSError as exc:
        raise ModelLoadError(f"Cannot read model file {p}: {exc}", p) from exc


def _parse_gguf(path: Path, buf: mmap.mmap, size: int, embedded: str) -> GgufInfo:
    reader = _Reader(buf)
    reader.take(4)
    try:
        version = reader.u32()
        if version not in _SUPPORTED_VERSIONS:
            raise _load_error(path, f"unsupported GGUF version {version}", embedded)
        n_tensors = reader.u64()
        n_kv = reader.u64()
        if n_tensors > 1_000_000 or n_kv > 1_000_000:
            raise _load_error(path, "implausible header counts (corrupt header)", embedded)
        metadata: dict[str, object] = {}
        for _ in range(n_kv):
            key = reader.string().decode("utf-8", errors="replace")
            metadata[key] = reader.value(reader.u32())
        tensors: list[tuple[list[int], int, int]] = []
        for _ in range(n_tensors):
            reader.string()
            n_dims = reader.u32()
            if n_dims > _MAX_DIMS:
                raise _load_error(
                    path, f"tensor with {n_dims} dimensions (corrupt header)", embedded)
            dims = [reader.u64() for _ in range(n_dims)]
            ttype = reader.u32()
            offset = reader.u64()
            tensors.append((dims, ttype, offset))
    except _Truncated:
        raise _load_error(
            path, f"header ends past the end of the file ({size} bytes)", embedded) from None
    except ValueError as exc:
        raise _load_error(path, f"corrupt header ({exc})", embedded) from None

    alignment = metadata.get("general.alignment", _DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0:
        alignment = _DEFAULT_ALIGNMENT
    data_offset = -(-reader.pos // alignment) * alignment
    data_end = data_offset if tensors else reader.pos
    for dims, ttype, offset in tensors:
        end = data_offset + offset
        sizes = _GGML_TYPE_SIZES.get(ttype)
        if sizes is not None and dims:
            block, block_bytes = sizes
            n_elems = 1
            for d in dims[1:]:
                n_elems *= d
            end += (dims[0] // block) * block_bytes * n_elems
        data_end = max(data_end, end)
    if data_end > size:
        raise _load_error(
            path, f"tensor data needs {data_end} bytes but the file has {size} (truncated)",
            embedded)
    return GgufInfo(
        path=path,
        version=version,
        tensor_count=n_tensors,
        metadata=metadata,
        file_size=size,
        data_offset=data_offset,
        data_end=data_end,
    )
