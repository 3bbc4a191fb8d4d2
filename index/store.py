"""The SQLite database behind one workspace's index.

One database per workspace, WAL mode, a schema version (a mismatch rebuilds the database
and says so), FTS5 over chunks. Each file is written in one transaction, so an interrupted
indexing run leaves every file either fully old or fully new.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tether.index.models import Chunk, Deprecation, Symbol, SymbolKind
from tether.index.symbol_rows import row_symbol, stored_bases, symbol_row

SCHEMA_VERSION = 18
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    module TEXT,
    kind TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'disk',
    lossy INTEGER NOT NULL DEFAULT 0,
    has_errors INTEGER NOT NULL DEFAULT 0,
    exports TEXT,
    star_imports TEXT
);
CREATE INDEX IF NOT EXISTS files_module ON files(module);
CREATE TABLE IF NOT EXISTS symbols (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    qualname TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    module TEXT NOT NULL,
    parent TEXT,
    line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    signature TEXT,
    params TEXT,
    returns TEXT,
    annotation TEXT,
    value TEXT,
    bases TEXT,
    decorators TEXT,
    doc TEXT,
    target TEXT,
    dep_message TEXT,
    dep_version TEXT,
    dep_replacement TEXT,
    dep_source TEXT
);
CREATE INDEX IF NOT EXISTS symbols_qualname ON symbols(qualname);
CREATE INDEX IF NOT EXISTS symbols_parent ON symbols(parent);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(content_hash);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, content='chunks', content_rowid='id', tokenize='unicode61'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TABLE IF NOT EXISTS embeddings (
    content_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (content_hash, model)
);
CREATE TABLE IF NOT EXISTS attribute_uses (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attribute_uses_name ON attribute_uses(name);
CREATE INDEX IF NOT EXISTS attribute_uses_file ON attribute_uses(file_id);
CREATE TABLE IF NOT EXISTS external_deprecations (
    qualname TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    version TEXT,
    replacement TEXT,
    source TEXT,
    distribution TEXT
);
"""


class IndexCorruptError(RuntimeError):
    """The database file exists but cannot be used as an index."""


class IndexLockedError(RuntimeError):
    """Another process holds the index database's write lock."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: int
    path: str
    module: str | None
    kind: str
    mtime_ns: int
    size: int
    content_hash: str
    origin: str


def content_hash(data: str | bytes) -> str:
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


class IndexStore:
    """Thread-safe access to the index database (one connection guarded by a lock)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.rebuilt_reason: str | None = None
        self._lock = threading.RLock()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._open_or_rebuild()
        self.generation = 0  # bumps whenever chunks change, so caches can invalidate
        self.class_generation = 0  # bumps when a class, or the bases it names, change

    def _open_or_rebuild(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise IndexLockedError(
                    f"index database {self.db_path} is locked by another process (another "
                    "`tether index` or server on this workspace?); try again when it is done"
                ) from error
            return self._rebuild(error)
        except (sqlite3.DatabaseError, IndexCorruptError) as error:
            return self._rebuild(error)

    def _rebuild(self, error: Exception) -> sqlite3.Connection:
        self.rebuilt_reason = f"index database {self.db_path} was unusable ({error}); rebuilt"
        log.warning(self.rebuilt_reason)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        return self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, check_same_thread=False, timeout=10,
                               isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise IndexCorruptError(f"integrity check failed: {check}")
            version = self._stored_version(conn)
            if version is not None and version != SCHEMA_VERSION:
                conn.close()
                raise IndexCorruptError(
                    f"schema version {version} != {SCHEMA_VERSION}, index will be rebuilt")
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))
        except Exception:
            conn.close()
            raise
        return conn

    @staticmethod
    def _stored_version(conn: sqlite3.Connection) -> int | None:
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if not has_meta:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._conn.execute(sql, tuple(params))
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    # -- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- files ----------------------------------------------------------------------------

    def files(self) -> dict[str, FileRecord]:
        rows = self.query("SELECT id, path, module, kind, mtime_ns, size, content_hash, origin "
                          "FROM files")
        return {row["path"]: FileRecord(*row) for row in rows}

    def file(self, path: str) -> FileRecord | None:
        rows = self.query("SELECT id, path, module, kind, mtime_ns, size, content_hash, origin "
                          "FROM files WHERE path=?", (path,))
        return FileRecord(*rows[0]) if rows else None

    def replace_file(self, *, path: str, module: str | None, kind: str, mtime_ns: int, size: int,
                     digest: str, origin: str, lossy: bool, has_errors: bool,
                     exports: list[str] | None, star_imports: list[str],
                     symbols: list[Symbol], chunks: list[Chunk],
                     attribute_uses: dict[str, int] | None = None) -> None:
        with self.transaction() as conn:
            classes_before = _classes_of(conn, path)
            conn.execute("DELETE FROM files WHERE path=?", (path,))
            cursor = conn.execute(
                "INSERT INTO files (path, module, kind, mtime_ns, size, content_hash, origin, "
                "lossy, has_errors, exports, star_imports) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (path, module, kind, mtime_ns, size, digest, origin, int(lossy), int(has_errors),
                 json.dumps(exports) if exports is not None else None,
                 json.dumps(star_imports)))
            file_id = cursor.lastrowid
            conn.executemany(
                "INSERT INTO symbols (file_id, qualname, name, kind, module, parent, line, "
                "end_line, signature, params, returns, annotation, value, bases, decorators, "
                "doc, target, dep_message, dep_version, dep_replacement, dep_source) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [symbol_row(file_id, symbol) for symbol in symbols])
            conn.executemany(
                "INSERT INTO chunks (file_id, kind, title, text, start_line, end_line, "
                "content_hash) VALUES (?,?,?,?,?,?,?)",
                [(file_id, c.kind, c.title, c.text, c.start_line, c.end_line, c.content_hash)
                 for c in chunks])
            conn.executemany("INSERT INTO attribute_uses VALUES (?, ?, ?)",
                             [(file_id, name, count)
                              for name, count in (attribute_uses or {}).items()])
        self.generation += 1
        if classes_before != {(symbol.qualname, stored_bases(symbol)) for symbol in symbols
                              if symbol.kind == SymbolKind.CLASS}:
            self.class_generation += 1

    def remove_file(self, path: str) -> bool:
        with self.transaction() as conn:
            removed = conn.execute("DELETE FROM files WHERE path=?", (path,)).rowcount
        self.generation += 1
        self.class_generation += 1
        return removed > 0

    # -- symbols ----------------------------------------------------------------------------

    def symbols_where(self, clause: str, params: Iterable[object] = ()) -> list[Symbol]:
        rows = self.query(
            "SELECT s.*, f.path AS path FROM symbols s JOIN files f ON f.id = s.file_id "
            f"WHERE {clause}", params)
        return [row_symbol(row) for row in rows]

    def class_bases(self) -> list[tuple[str, str, list[str]]]:
        """(qualname, name, bases as written) of every class."""
        return [(row[0], row[1], json.loads(row[2] or "[]")) for row in self.query(
            "SELECT qualname, name, bases FROM symbols WHERE kind = 'class'")]

    def member_names_of(self, classes: list[str], kinds: tuple[str, ...]) -> set[str]:
        """Names of the members of those kinds that the classes (qualnames) define."""
        names: set[str] = set()
        kind_marks = ",".join("?" * len(kinds))
        for batch, marks in _in_batches(classes):
            names.update(row[0] for row in self.query(
                f"SELECT DISTINCT name FROM symbols WHERE parent IN ({marks}) "
                f"AND kind IN ({kind_marks})", (*batch, *kinds)))
        return names

    def module_info(self, module: str) -> tuple[list[str] | None, list[str]] | None:
        rows = self.query("SELECT exports, star_imports FROM files WHERE module=? "
                          "ORDER BY path LIKE '%.pyi' DESC LIMIT 1", (module,))
        if not rows:
            return None
        exports = json.loads(rows[0]["exports"]) if rows[0]["exports"] else None
        return exports, json.loads(rows[0]["star_imports"] or "[]")

    def attribute_use_counts(self, names: Iterable[str]) -> dict[str, int]:
        """How often each name is used as an attribute (`x.name`) across the repository."""
        counts: dict[str, int] = {}
        for batch, marks in _in_batches(list(names)):
            for row in self.query(f"SELECT name, SUM(count) FROM attribute_uses "
                                  f"WHERE name IN ({marks}) GROUP BY name", batch):
                counts[row[0]] = int(row[1])
        return counts

    # -- chunks and embeddings --------------------------------------------------------------

    def chunk_hashes_missing_embedding(self, model: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT DISTINCT c.content_hash, c.title || char(10) || c.text AS body FROM chunks c "
            "LEFT JOIN embeddings e ON e.content_hash = c.content_hash AND e.model = ? "
            "WHERE e.content_hash IS NULL", (model,))
        return [(row["content_hash"], row["body"]) for row in rows]

    def store_embeddings(self, model: str, items: list[tuple[str, bytes]]) -> None:
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                             [(digest, model, blob) for digest, blob in items])
        self.generation += 1

    # -- external deprecations --------------------------------------------------------------

    def replace_external_deprecations(self, facts: dict[str, tuple[Deprecation, str]]) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM external_deprecations")
            conn.executemany(
                "INSERT OR REPLACE INTO external_deprecations VALUES (?,?,?,?,?,?)",
                [(name, d.message, d.version, d.replacement, d.source, dist)
                 for name, (d, dist) in facts.items()])

    def counts(self) -> dict[str, int]:
        def count(sql: str) -> int:
            return int(self.query(sql)[0][0])

        return {
            "files": count("SELECT COUNT(*) FROM files"),
            "python_files": count("SELECT COUNT(*) FROM files WHERE kind='python'"),
            "doc_files": count("SELECT COUNT(*) FROM files WHERE kind='docs'"),
            "symbols": count("SELECT COUNT(*) FROM symbols WHERE kind != 'module'"),
            "deprecations": count("SELECT COUNT(*) FROM symbols WHERE dep_message IS NOT NULL"),
            "external_deprecations": count("SELECT COUNT(*) FROM external_deprecations"),
            "chunks": count("SELECT COUNT(*) FROM chunks"),
            "embedded_chunks": count(
                "SELECT COUNT(*) FROM chunks c WHERE EXISTS "
                "(SELECT 1 FROM embeddings e WHERE e.content_hash = c.content_hash)"),
        }


def _classes_of(conn: sqlite3.Connection, path: str) -> set[tuple[str, str | None]]:
    """(qualname, bases as stored) of the file's classes."""
    return {(row[0], row[1]) for row in conn.execute(
        "SELECT s.qualname, s.bases FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE f.path = ? AND s.kind = 'class'", (path,))}


def _in_batches(values: list[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """`values` in slices small enough for one SQL `IN (...)`, each with its placeholders."""
    for start in range(0, len(values), size):
        batch = values[start:start + size]
        yield batch, ",".join("?" * len(batch))
