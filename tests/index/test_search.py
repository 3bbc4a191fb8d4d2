"""Hybrid search over the indexed shop fixture with real MiniLM embeddings: code and docs,
query embeddings, embeddings cached by content hash, the embedder loaded on reopening."""

from __future__ import annotations

import numpy as np

from tether.index.workspace import WorkspaceIndex


def test_hybrid_search_code_and_docs(shop: WorkspaceIndex) -> None:
    docs = shop.searcher.search("how do I apply a discount code", kind="docs", limit=3,
                                use_vectors=True)
    assert docs and docs[0].path == "docs/guide.md" and docs[0].title == "Discounts"
    code = shop.searcher.search("pay for the cart receipt", kind="code", limit=3,
                                use_vectors=True)
    assert code[0].title == "shop.service.checkout"
    assert all(hit.kind == "code" for hit in code)
    lexical_only = shop.searcher.search("shipping fee", limit=5, use_vectors=False)
    assert any(hit.title == "shop.service.shipping_cost" for hit in lexical_only)


def test_a_repeated_query_is_embedded_once(shop: WorkspaceIndex) -> None:
    embedder = shop.searcher.embedder
    assert embedder is not None
    embedded: list[list[str]] = []
    real_embed = embedder.embed

    def counting_embed(texts: list[str], batch_size: int = 32) -> np.ndarray:
        embedded.append(texts)
        return real_embed(texts, batch_size)

    embedder.embed = counting_embed  # type: ignore[method-assign]
    try:
        query = "remove an item from the cart while typing"
        first = shop.searcher.search(query, limit=3, use_vectors=True)
        again = shop.searcher.search(query, limit=3, use_vectors=True)
    finally:
        del embedder.embed
    assert embedded == [[query]]
    assert [hit.chunk_id for hit in again] == [hit.chunk_id for hit in first]


def test_embeddings_cached_by_content_hash(shop: WorkspaceIndex) -> None:
    assert shop.embed_pending() == 0
    counts = shop.store.counts()
    assert counts["embedded_chunks"] == counts["chunks"] > 0


def test_reopening_an_embedded_index_loads_the_embedder(shop: WorkspaceIndex) -> None:
    """Searches use vectors only once the embedder is loaded; a session whose chunks were
    all embedded before must still load it, or its retrieval stays lexical."""
    again = WorkspaceIndex(shop.root, shop.config)
    try:
        assert not again.embedder.is_loaded()
        summary = again.index_all()
        assert summary.chunks_embedded == 0
        assert again.embedder.is_loaded()
        hits = again.searcher.search("remove an item from the cart", limit=3)
        assert any(hit.vector_rank is not None for hit in hits)
    finally:
        again.close()
