"""One workspace's index: full and incremental indexing, buffer overrides, embeddings."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import platformdirs

from tether.index.chunking import code_chunks, doc_chunks
from tether.index.config import IndexConfig
from tether.index.dependencies import DependencyDeprecations, SitePackagesError, find_site_packages
from tether.index.embeddings import MODEL_ID, Embedder
from tether.index.installed_packages import InstalledPackages
from tether.index.lookups import SymbolLookup
from tether.index.models import Chunk
from tether.index.module_names import module_name
from tether.index.python_symbols import ModuleSymbols, extract_module
from tether.index.search import HybridSearcher
from tether.index.secrets import should_index_content
from tether.index.store import IndexStore, content_hash
from tether.index.syntax_recovery import with_lost_definitions
from tether.index.textfile import SourceText, read_source
from tether.index.walker import FileKind, WalkReport, Workspace, WorkspaceFile, classify

log = logging.getLogger(__name__)
EMBED_BATCH = 64
_ATTRIBUTE_USE = re.compile(r"(?<=[\w)\]])\.([A-Za-z_]\w*)")


@dataclass(slots=True)
class IndexProgress:
    phase: str  # scan | symbols | embeddings | done
    done: int
    total: int
    message: str = ""

    @property
    def percent(self) -> int:
        return 100 if self.total <= 0 else min(100, int(100 * self.done / self.total))


ProgressCallback = Callable[[IndexProgress], None]


@dataclass(slots=True)
class IndexSummary:
    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    chunks_embedded: int = 0
    symbols_seconds: float = 0.0
    embedding_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def cache_root() -> Path:
    override = os.environ.get("TETHER_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("tether"))


def database_path(root: Path, cache_dir: Path | None = None) -> Path:
    resolved = root.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    return (cache_dir or cache_root()) / "indexes" / f"{resolved.name}-{digest}" / "index.sqlite"


class WorkspaceIndex:
    """The index of one workspace folder. Safe to share between threads."""

    def __init__(self, root: Path, config: IndexConfig | None = None,
                 embedder: Embedder | None = None) -> None:
        self.root = root.resolve()
        self.config = config or IndexConfig()
        self.store = IndexStore(database_path(self.root, self.config.cache_dir))
        self.embedder = embedder if embedder is not None else Embedder()
        self.lookup = SymbolLookup(self.store, InstalledPackages(self._site_packages))
        self.searcher = HybridSearcher(self.store, self.embedder)
        self._buffers: dict[str, str] = {}
        self._write_lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    # -- full indexing ----------------------------------------------------------------------

    def index_all(self, progress: ProgressCallback | None = None,
                  embeddings: bool | None = None) -> IndexSummary:
        summary = IndexSummary()
        started = time.perf_counter()
        report = progress or (lambda _p: None)
        report(IndexProgress("scan", 0, 0, "scanning workspace"))
        walk_report = WalkReport()
        files = list(Workspace(self.root, self.config, walk_report).walk())
        summary.files_seen = len(files)
        known = self.store.files()
        present = {f.rel for f in files}
        for rel in sorted(set(known) - present - set(self._buffers)):
            self.store.remove_file(rel)
            summary.files_removed += 1
        for position, entry in enumerate(files, start=1):
            record = known.get(entry.rel)
            unchanged = record is not None and (record.mtime_ns, record.size) == (
                entry.mtime_ns, entry.size)
            if entry.rel in self._buffers or unchanged:
                summary.files_unchanged += 1
            elif self._index_from_disk(entry.rel, entry.kind,
                                       record.content_hash if record else None):
                summary.files_indexed += 1
            else:
                summary.files_unchanged += 1
            if position % 25 == 0 or position == len(files):
                report(IndexProgress("symbols", position, len(files), entry.rel))
        summary.skipped = {reason.value: count for reason, count in walk_report.skipped.items()
                           if reason.value != "unsupported"}
        summary.symbols_seconds = time.perf_counter() - started
        if embeddings if embeddings is not None else self.config.embeddings:
            embed_started = time.perf_counter()
            summary.chunks_embedded = self.embed_pending(report)
            summary.embedding_seconds = time.perf_counter() - embed_started
        summary.counts = self.store.counts()
        report(IndexProgress("done", 1, 1, "index ready"))
        return summary

    # -- incremental updates ----------------------------------------------------------------

    def update_file(self, rel: str) -> bool:
        """Re-read one file from disk (unless an open buffer overrides it). Returns whether
        the index changed; a file that vanished or is no longer indexable is removed."""
        if rel in self._buffers:
            return False
        checked = Workspace(self.root, self.config).check_file(rel)
        if not isinstance(checked, WorkspaceFile):
            return self.store.remove_file(rel)
        record = self.store.file(rel)
        return self._index_from_disk(rel, checked.kind, record.content_hash if record else None)

    def remove_file(self, rel: str) -> bool:
        self._buffers.pop(rel, None)
        return self.store.remove_file(rel)

    def rename_file(self, old: str, new: str) -> None:
        self.remove_file(old)
        self.update_file(new)

    def set_buffer(self, rel: str, text: str) -> bool:
        """An unsaved editor buffer overrides the disk copy everywhere until closed."""
        kind = classify(rel, self.config) or (FileKind.PYTHON if rel.endswith((".py", ".pyi"))
                                              else None)
        self._buffers[rel] = text
        if kind is None or not should_index_content(rel, text):
            return self.store.remove_file(rel)
        digest = content_hash(text)
        record = self.store.file(rel)
        if record and record.content_hash == digest and record.origin == "buffer":
            return False
        self._store_text(rel, kind, text, digest, mtime_ns=0, size=len(text), origin="buffer",
                         lossy=False)
        return True

    def close_buffer(self, rel: str) -> None:
        if self._buffers.pop(rel, None) is not None:
            self.store.remove_file(rel)
            self.update_file(rel)

    def buffer(self, rel: str) -> str | None:
        return self._buffers.get(rel)

    def _index_from_disk(self, rel: str, kind: FileKind, record_hash: str | None) -> bool:
        path = self.root / rel
        try:
            mtime_ns = path.stat().st_mtime_ns
        except OSError:
            return self.store.remove_file(rel)
        loaded = read_source(path, self.config.max_file_bytes)
        if not isinstance(loaded, SourceText) or not should_index_content(rel, loaded.text):
            return self.store.remove_file(rel)
        digest = content_hash(loaded.text)
        if digest == record_hash:
            self._touch(rel, mtime_ns, loaded.size)
            return False
        self._store_text(rel, kind, loaded.text, digest, mtime_ns, loaded.size, "disk",
                         loaded.lossy)
        return True

    def _touch(self, rel: str, mtime_ns: int, size: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?",
                         (mtime_ns, size, rel))

    def _store_text(self, rel: str, kind: FileKind, text: str, digest: str, mtime_ns: int,
                    size: int, origin: str, lossy: bool) -> None:
        chunks: list[Chunk]
        uses: dict[str, int] = {}
        if kind == FileKind.PYTHON:
            module, is_package = module_name(self.root, rel)
            parsed = extract_module(text.encode("utf-8", errors="surrogatepass"), rel, module,
                                    is_package)
            chunks = code_chunks(rel, text, parsed.symbols)  # of the text as it is
            if parsed.has_errors and origin == "buffer":  # an edit under way
                parsed.symbols = with_lost_definitions(
                    parsed.symbols, self.store.symbols_where("f.path = ?", (rel,)),
                    text.count("\n") + 1)
            uses = dict(Counter(_ATTRIBUTE_USE.findall(text)))
        else:
            module = None
            parsed = ModuleSymbols(module="", path=rel)
            chunks = doc_chunks(rel, text)
        with self._write_lock:
            self.store.replace_file(
                path=rel, module=module, kind=kind.value, mtime_ns=mtime_ns, size=size,
                digest=digest, origin=origin, lossy=lossy, has_errors=parsed.has_errors,
                exports=parsed.exports, star_imports=parsed.star_imports,
                symbols=parsed.symbols, chunks=chunks, attribute_uses=uses)

    # -- third-party deprecations ----------------------------------------------------------

    def imported_top_level_modules(self) -> set[str]:
        """Top-level modules the repository imports that it does not define itself."""
        rows = self.store.query("SELECT DISTINCT target FROM symbols WHERE kind='import' "
                                "AND target IS NOT NULL")
        own = set(self.lookup.top_level_modules())
        return {row[0].split(".")[0] for row in rows if row[0] and not row[0].startswith(".")
                and row[0].split(".")[0] not in own}

    def _site_packages(self) -> list[Path]:
        try:
            return find_site_packages(self.root, self.config.interpreter)
        except SitePackagesError as error:
            log.warning("installed packages not read: %s", error)
            return []

    def scan_dependencies(self) -> int:
        """Deprecation facts of the installed packages the repository imports (each package
        version is scanned once and cached). Returns how many facts are stored."""
        try:
            site_packages = find_site_packages(self.root, self.config.interpreter)
        except SitePackagesError as error:
            log.warning("dependency deprecations skipped: %s", error)
            return 0
        cache = (self.config.cache_dir or cache_root()) / "dependencies"
        facts = DependencyDeprecations(cache).scan_imports(self.imported_top_level_modules(),
                                                           site_packages)
        self.store.replace_external_deprecations(facts)
        return len(facts)

    # -- embeddings -------------------------------------------------------------------------

    def embed_pending(self, progress: ProgressCallback | None = None,
                      stop: threading.Event | None = None) -> int:
        """Embed every chunk whose content hash has no vector yet. Returns how many. The
        embedder is loaded even when none is missing: searches use vectors only once it is
        (it is never loaded on a latency-sensitive path), so after a session whose chunks
        were all embedded before, retrieval would otherwise stay lexical."""
        pending = self.store.chunk_hashes_missing_embedding(MODEL_ID)
        if stop is None or not stop.is_set():
            self.embedder.load()
        report = progress or (lambda _p: None)
        done = 0
        for start in range(0, len(pending), EMBED_BATCH):
            if stop is not None and stop.is_set():
                break
            batch = pending[start:start + EMBED_BATCH]
            vectors = self.embedder.embed([body for _, body in batch])
            self.store.store_embeddings(MODEL_ID, [
                (digest, np.ascontiguousarray(vector, dtype=np.float32).tobytes())
                for (digest, _), vector in zip(batch, vectors, strict=True)])
            done += len(batch)
            report(IndexProgress("embeddings", done, len(pending), "embedding chunks"))
        return done
