"""Hybrid retrieval over chunks: FTS5 BM25 and embedding similarity fused by reciprocal rank.

Vector search is exact (a dot product against every chunk vector held in one contiguous
float32 matrix). At 384 dimensions that is ~1.5 KB a chunk: 10k chunks take 15 MB and a
query takes about a millisecond. It stops being fine at a few hundred thousand chunks
(hundreds of MB, tens of ms a query), where an approximate index would be needed.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from tether.index.embeddings import EMBEDDING_DIM, MODEL_ID, Embedder
from tether.index.lru import LruCache
from tether.index.store import IndexStore

RRF_K = 60
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+|[0-9]{2,}")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
MAX_QUERY_TERMS = 32
KEPT_QUERY_VECTORS = 64


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: int
    path: str
    kind: str
    title: str
    text: str
    start_line: int
    end_line: int
    score: float
    lexical_rank: int | None = None
    vector_rank: int | None = None


def fts_query(query: str) -> str | None:
    """An FTS5 OR-query of the query's words (identifiers split at underscores and case)."""
    terms: list[str] = []
    for word in _WORD.findall(query):
        for part in {word, *_CAMEL.findall(word)}:
            lowered = part.lower()
            if len(lowered) > 1 and lowered not in terms:
                terms.append(lowered)
    if not terms:
        return None
    return " OR ".join(f'"{term}"' for term in terms[:MAX_QUERY_TERMS])


def _filters(kind: str | None, exclude_path: str | None) -> tuple[str, list[object]]:
    """SQL conditions (on `c` = chunks, `f` = files) for the search filters."""
    sql, params = "", []
    if kind:
        sql += " AND c.kind = ?"
        params.append(kind)
    if exclude_path:
        sql += " AND f.path != ?"
        params.append(exclude_path)
    return sql, params


class VectorMatrix:
    """All chunk vectors of the store in one matrix, rebuilt when the store changes, at most
    once per `refresh_seconds`: every keystroke re-indexes the open buffer, and reloading all
    vectors for each would put tens of milliseconds on the completion path. Between reloads
    a hit may name a chunk that no longer exists; those are dropped when hits are read."""

    def __init__(self, store: IndexStore, refresh_seconds: float = 10.0) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._loaded_at = float("-inf")
        self._generation = -1
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        self._lock = threading.Lock()

    def current(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            stale = self._generation != self.store.generation
            if stale and (len(self._ids) == 0 or
                          time.monotonic() - self._loaded_at >= self.refresh_seconds):
                self._reload()
            return self._ids, self._matrix

    def _reload(self) -> None:
        generation = self.store.generation
        rows = self.store.query(
            "SELECT c.id, e.vector FROM chunks c JOIN embeddings e "
            "ON e.content_hash = c.content_hash AND e.model = ?", (MODEL_ID,))
        self._ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        matrix = np.empty((len(rows), EMBEDDING_DIM), dtype=np.float32)
        for index, row in enumerate(rows):
            matrix[index] = np.frombuffer(row[1], dtype=np.float32)
        self._matrix = matrix
        self._generation = generation
        self._loaded_at = time.monotonic()


class HybridSearcher:
    def __init__(self, store: IndexStore, embedder: Embedder | None) -> None:
        self.store = store
        self.embedder = embedder
        self.vectors = VectorMatrix(store)
        # Completion queries repeat while the user types on one line; embedding one costs
        # tens of milliseconds on a laptop CPU.
        self._query_vectors: LruCache[str, np.ndarray] = LruCache(KEPT_QUERY_VECTORS)

    def search(self, query: str, *, kind: str | None = None, limit: int = 8,
               exclude_path: str | None = None, use_vectors: bool | None = None) -> list[SearchHit]:
        """Top chunks for a query. `use_vectors=None` uses embeddings only when the embedder
        is already loaded, so a latency-sensitive caller never pays for loading it."""
        pool = max(limit * 4, 30)
        lexical = self._lexical(query, kind, pool, exclude_path)
        vector: list[int] = []
        want_vectors = use_vectors if use_vectors is not None else bool(
            self.embedder and self.embedder.is_loaded())
        if want_vectors and self.embedder is not None:
            vector = self._vector(query, kind, pool, exclude_path)
        scores: dict[int, float] = {}
        ranks: dict[int, list[int | None]] = {}
        for position, chunk_id in enumerate(lexical):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + position + 1)
            ranks.setdefault(chunk_id, [None, None])[0] = position + 1
        for position, chunk_id in enumerate(vector):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + position + 1)
            ranks.setdefault(chunk_id, [None, None])[1] = position + 1
        best = sorted(scores, key=lambda cid: -scores[cid])[:limit]
        return self._hits(best, scores, ranks)

    def _lexical(self, query: str, kind: str | None, limit: int,
                 exclude_path: str | None) -> list[int]:
        match = fts_query(query)
        if match is None:
            return []
        filters, params = _filters(kind, exclude_path)
        sql = ("SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
               f"JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ?{filters} "
               "ORDER BY bm25(chunks_fts, 2.0, 1.0) LIMIT ?")
        return [row[0] for row in self.store.query(sql, [match, *params, limit])]

    def _vector(self, query: str, kind: str | None, limit: int,
                exclude_path: str | None) -> list[int]:
        ids, matrix = self.vectors.current()
        if len(ids) == 0 or self.embedder is None:
            return []
        embedder = self.embedder
        query_vector = self._query_vectors.get_or_compute(
            query, lambda: embedder.embed([query])[0])
        similarities = matrix @ query_vector
        order = np.argsort(-similarities)[: limit * 3]
        candidates = [int(ids[i]) for i in order]
        if not kind and not exclude_path:
            return candidates[:limit]
        allowed = self._filter(candidates, kind, exclude_path)
        return [cid for cid in candidates if cid in allowed][:limit]

    def _filter(self, ids: list[int], kind: str | None, exclude_path: str | None) -> set[int]:
        marks = ",".join("?" * len(ids))
        filters, params = _filters(kind, exclude_path)
        sql = (f"SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id "
               f"WHERE c.id IN ({marks}){filters}")
        return {row[0] for row in self.store.query(sql, [*ids, *params])}

    def _hits(self, ids: list[int], scores: dict[int, float],
              ranks: dict[int, list[int | None]]) -> list[SearchHit]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.store.query(
            "SELECT c.id, f.path, c.kind, c.title, c.text, c.start_line, c.end_line FROM chunks c "
            f"JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})", ids)
        by_id = {row[0]: row for row in rows}
        hits = []
        for chunk_id in ids:
            row = by_id.get(chunk_id)
            if row is None:
                continue
            lexical_rank, vector_rank = ranks[chunk_id]
            hits.append(SearchHit(chunk_id, row[1], row[2], row[3], row[4], row[5], row[6],
                                  scores[chunk_id], lexical_rank, vector_rank))
        return hits
