"""The small LRU cache shared by the token counts and the query embeddings."""

from __future__ import annotations

import pytest

from tether.index.lru import LruCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # read: "b" is now the oldest
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_get_or_compute_computes_a_missing_value_once() -> None:
    cache: LruCache[str, int] = LruCache(4)
    calls: list[str] = []

    def compute() -> int:
        calls.append("x")
        return 7

    assert cache.get_or_compute("x", compute) == 7
    assert cache.get_or_compute("x", compute) == 7
    assert calls == ["x"]
    cache.clear()
    assert cache.get("x") is None and len(cache) == 0


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LruCache(0)


def test_drop_where_forgets_only_the_matching_keys() -> None:
    cache: LruCache[tuple[str, int], int] = LruCache(8)
    for uri, line in (("a", 1), ("a", 2), ("b", 1)):
        cache.put((uri, line), line)
    cache.drop_where(lambda key: key[0] == "a")
    assert cache.get(("a", 1)) is None and cache.get(("a", 2)) is None
    assert cache.get(("b", 1)) == 1 and len(cache) == 1
