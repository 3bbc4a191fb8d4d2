"""Token-mask benchmark for identifier-constrained decoding (decoding.mask.trie).

    python3 bench/mask_bench.py [--synthetic] [--vocab-size 150000] [--positions 30] [--warm]

Uses the embedded model's real vocabulary when ``decoding.model.runtime`` and the model load (CPU
only), else a synthetic BPE-like vocabulary. Prints the VocabularyTrie build time, then for
legal sets of 10, 100 and 1000 names the per-step mask cost -- allowed_tokens +
TokenMask.apply on a vocabulary-sized float32 row, with a fresh LegalNames per position as in
real decoding, caches evicted before each step as a model forward pass would (``--warm``: not)
-- next to a naive full-vocabulary Python scan with the same rules, and the speedup. The last
row splits the 1000 names into a shared layer reused across positions and a per-position one
(allowed_tokens_union). Finally it compares TokenMask.apply with other masking strategies.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tether.decoding.mask.trie import (
    LegalNames,
    TokenMask,
    VocabularyTrie,
    allowed_tokens,
    allowed_tokens_union,
)

_SYLLABLES = (
    "ad",
    "d",
    "it",
    "em",
    "re",
    "mo",
    "ve",
    "get",
    "set",
    "list",
    "file",
    "path",
    "name",
    "dir",
    "walk",
    "root",
    "res",
    "ult",
    "con",
    "fig",
    "load",
    "save",
    "item",
    "count",
    "num",
    "val",
    "key",
    "data",
    "proc",
    "ess",
    "que",
    "ry",
    "up",
    "date",
    "new",
    "old",
    "sum",
    "max",
    "min",
    "str",
    "int",
    "buf",
    "idx",
    "col",
    "row",
    "tab",
    "par",
    "se",
    "ex",
    "ec",
    "run",
    "out",
    "in",
    "pre",
    "post",
    "cur",
    "sor",
    "node",
    "tree",
    "leaf",
)
_TAILS = ("(", "()", ")", "):", ".", ",", ":", " =", "[", "]", "\n", " (", "=", "):\n", ")\n")
_PUNCT = ("(", ")", ".", ":", " ", "\n", "[", "]", "=", ",", "0")
_UNICODE = ("é", "ü", "ñ", "ß", "данн", "ые", "名前", "变量", "ção", "ö")


def synthetic_vocab(size: int, seed: int = 0) -> tuple[list[bytes], set[int]]:
    """A BPE-like vocabulary: identifier fragments with and without a leading space, fragments
    followed by punctuation, punctuation and whitespace runs, unicode words, byte fragments,
    and 256 control tokens at the front."""
    rng = random.Random(seed)
    pieces: list[bytes] = [b""] * 256
    seen: set[bytes] = set()
    while len(pieces) < size:
        roll = rng.random()
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 1, 2, 2, 3))))
        if rng.random() < 0.2:
            word = word.capitalize()
        if rng.random() < 0.15:
            word = rng.choice(("_", "__", "")) + word + rng.choice(("_", ""))
        if roll < 0.45:
            text = word
        elif roll < 0.75:
            text = " " + word
        elif roll < 0.85:
            text = word + rng.choice(_TAILS)
        elif roll < 0.92:
            text = "".join(rng.choice(_PUNCT) for _ in range(rng.randint(1, 4)))
        elif roll < 0.98:
            text = rng.choice(("", " "))
            text += "".join(rng.choice(_UNICODE) for _ in range(rng.randint(1, 3)))
        else:
            text = ""
            piece = bytes([rng.randint(0x80, 0xFF)])
            if piece not in seen:
                seen.add(piece)
                pieces.append(piece)
            continue
        piece = text.encode()
        if piece not in seen:
            seen.add(piece)
            pieces.append(piece)
    return pieces, set(range(256))


def real_vocab() -> tuple[list[bytes], set[int], str] | None:
    try:
        from tether.decoding.model.files import resolve_model
        from tether.decoding.model.runtime import ModelRuntime
    except ImportError as exc:
        print(f"(runtime unavailable: {exc}; using a synthetic vocabulary)")
        return None
    try:
        runtime = ModelRuntime(resolve_model(None), n_ctx=256, n_gpu_layers=0)
    except Exception as exc:  # missing or unloadable embedded model
        print(f"(embedded model unavailable: {exc}; using a synthetic vocabulary)")
        return None
    pieces = runtime.token_pieces()
    special = set(runtime.vocab.control_ids)
    name = runtime.model_name
    runtime.close()
    return pieces, special, name


def legal_sets(trie: VocabularyTrie, sizes: Sequence[int], seed: int = 1) -> dict[int, list[str]]:
    """Plausible snake_case / CamelCase names built from the vocabulary's own ASCII fragments."""
    rng = random.Random(seed)
    words: list[str] = []
    for tid in range(trie.vocab_size):
        split = trie.split(tid)
        if split and not split[2] and split[1].isascii() and split[1].isalpha():
            words.append(split[1].lower())
    words = sorted(set(w for w in words if 2 <= len(w) <= 8))
    result: dict[int, list[str]] = {}
    for size in sizes:
        names: set[str] = set()
        while len(names) < size:
            parts = rng.sample(words, rng.choice((1, 2, 2, 3)))
            camel = rng.random() < 0.2
            names.add("".join(p.capitalize() for p in parts) if camel else "_".join(parts))
        result[size] = sorted(names)
    return result


def naive_scan(
    texts: Sequence[str | None], legal: set[str], prefixes: set[str], partial: str, lead: bool
) -> np.ndarray:
    """The same rules evaluated token by token over the whole vocabulary (texts precomputed)."""
    out: list[int] = []
    for tid, text in enumerate(texts):
        if not text:
            continue
        spaced = len(text) > 1 and text[0] == " " and ("_" + text[1]).isidentifier()
        if spaced:
            if partial or not lead:
                continue
            text = text[1:]
        i = 0
        while i < len(text) and ("_" + text[i]).isidentifier():
            i += 1
        ident, tail = text[:i], text[i:]
        if tail and any(c.isidentifier() for c in tail):
            continue
        full = partial + ident
        if (full in legal) if tail else (ident and full in prefixes):
            out.append(tid)
    return np.array(out, dtype=np.int32)


def spell_steps(trie: VocabularyTrie, legal: LegalNames, target: str) -> list[str]:
    """The partials seen while greedily spelling ``target`` with the longest allowed token."""
    partials, partial = [""], ""
    while partial != target:
        allowed = allowed_tokens(trie, legal, partial, allow_leading_space=not partial)
        best = ""
        for tid in allowed.tolist():
            split = trie.split(tid)
            if split and not split[2] and target.startswith(partial + split[1]):
                best = max(best, split[1], key=len)
        if not best:
            break
        partial += best
        partials.append(partial)
    return partials[:-1] if partials[-1] == target else partials


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1e6


class Evictor:
    """Touches 64 MiB between measured steps, as a model forward pass would, so per-step
    numbers are cache-cold (``--warm`` turns this off)."""

    def __init__(self, enabled: bool) -> None:
        self._junk = np.ones(8 << 20) if enabled else None

    def __call__(self) -> None:
        if self._junk is not None:
            self._junk[::8] += 1.0


def measure_positions(
    trie: VocabularyTrie,
    mask: TokenMask,
    logits: np.ndarray,
    names: list[str],
    shared: LegalNames | None,
    positions: int,
    evict: Evictor,
    rng: random.Random,
) -> dict[str, list[float]]:
    """Spell random legal names step by step; each position gets a fresh LegalNames (built
    from ``names``, or holding only the local names when ``shared`` carries the rest)."""
    out: dict[str, list[float]] = {"build": [], "first": [], "later": [], "size0": [], "apply": []}
    local = [n for n in names if shared is None or n not in shared]
    spelling = LegalNames(names)
    for _ in range(positions):
        target = rng.choice(names)
        steps = spell_steps(trie, spelling, target)
        evict()
        started = time.perf_counter()
        legal = LegalNames(local)
        out["build"].append((time.perf_counter() - started) * 1e6)
        layers = [legal] if shared is None else [shared, legal]
        for step, partial in enumerate(steps):
            evict()
            started = time.perf_counter()
            allowed = allowed_tokens_union(trie, layers, partial, allow_leading_space=step == 0)
            mask.apply(logits, allowed)
            out["first" if step == 0 else "later"].append((time.perf_counter() - started) * 1e6)
            if step == 0:
                out["size0"].append(allowed.size)
            evict()
            out["apply"].append(timed(lambda a=allowed: mask.apply(logits, a)))
    return out


def naive_cost(
    texts: Sequence[str | None],
    mask: TokenMask,
    logits: np.ndarray,
    trie: VocabularyTrie,
    names: list[str],
    reps: int,
) -> tuple[float, float]:
    """Median µs of the naive scan + apply at partial "" and one token into a name."""
    name_set = set(names)
    prefixes = {n[:k] for n in names for k in range(len(n) + 1)}
    firsts, laters = [], []
    for target in names[:reps]:
        steps = spell_steps(trie, LegalNames(names), target)
        for step, partial in enumerate(steps[:2]):
            started = time.perf_counter()
            mask.apply(logits, naive_scan(texts, name_set, prefixes, partial, step == 0))
            (firsts if step == 0 else laters).append((time.perf_counter() - started) * 1e6)
    nan = float("nan")
    return statistics.median(firsts or [nan]), statistics.median(laters or firsts or [nan])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synthetic", action="store_true", help="skip the real vocabulary")
    parser.add_argument("--vocab-size", type=int, default=150_000)
    parser.add_argument("--positions", type=int, default=30, help="positions per legal set")
    parser.add_argument("--naive-reps", type=int, default=3, help="naive scans per legal set")
    parser.add_argument("--warm", action="store_true", help="do not evict caches between steps")
    args = parser.parse_args()

    loaded = None if args.synthetic else real_vocab()
    if loaded is None:
        pieces, special = synthetic_vocab(args.vocab_size)
        label = "synthetic"
    else:
        pieces, special, label = loaded
    trie = VocabularyTrie(pieces, special)
    builds = [trie.build_seconds]
    for _ in range(2):
        builds.append(VocabularyTrie(pieces, special).build_seconds)
    print(
        f"vocabulary: {label}, {len(pieces)} tokens ({trie.n_identifier_tokens} with an "
        f"identifier part, {trie.n_tail_only_tokens} tail-only)"
    )
    median_build = statistics.median(builds)
    print(f"VocabularyTrie build: min {min(builds):.2f} s, median {median_build:.2f} s")

    texts: list[str | None] = [trie.text(t) for t in range(len(pieces))]
    mask = TokenMask(len(pieces))
    logits = np.random.default_rng(0).standard_normal(len(pieces)).astype(np.float32)
    evict = Evictor(not args.warm)
    sets = legal_sets(trie, (10, 100, 1000))
    rows: list[tuple[str, list[str], LegalNames | None]] = [
        (str(size), names, None) for size, names in sets.items()
    ]
    big = sets[1000]
    shared = LegalNames(n for i, n in enumerate(big) if i % 20)  # builtins, module globals...
    rows.append(("1000 = 950 shared + 50 local", big, shared))
    print(
        f"\nper-step cost = allowed_tokens + TokenMask.apply, µs, median over {args.positions} "
        f"positions, {'warm' if args.warm else 'cache-cold'}; naive = full-vocabulary Python "
        "scan with the same rules + apply\n"
    )
    print(
        '| legal names | LegalNames build | first step (partial "") | ids allowed '
        "| later steps | apply only | naive first / later | speedup first / later |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rng = random.Random(2)
    for label_, names, shared in rows:
        if shared is not None:  # an earlier position already walked the shared layer
            allowed_tokens(trie, shared, "", allow_leading_space=True)
        m = measure_positions(trie, mask, logits, names, shared, args.positions, evict, rng)
        first, later = statistics.median(m["first"]), statistics.median(m["later"] or [0.0])
        n_first, n_later = naive_cost(texts, mask, logits, trie, names, args.naive_reps)
        print(
            f"| {label_} | {statistics.median(m['build']):.0f} | {first:.0f} "
            f"| {statistics.median(m['size0']):.0f} | {later:.0f} "
            f"| {statistics.median(m['apply']):.0f} | {n_first:.0f} / {n_later:.0f} "
            f"| {n_first / first:.0f}x / {n_later / max(later, 1e-9):.0f}x |"
        )

    print("\nTokenMask.apply strategies (µs, 5000 allowed ids, min of 200):")
    allowed = np.sort(np.random.default_rng(1).choice(len(pieces), 5000, replace=False))
    allowed = allowed.astype(np.int32)
    scratch_mask = np.empty(len(pieces), dtype=bool)
    scratch_row = np.empty(len(pieces), dtype=np.float32)

    def boolean_copyto() -> None:
        scratch_mask.fill(True)
        scratch_mask[allowed] = False
        np.copyto(logits, np.float32(-np.inf), where=scratch_mask)

    def full_row_copy() -> None:
        scratch_row.fill(-np.inf)
        scratch_row[allowed] = logits[allowed]
        logits[:] = scratch_row

    strategies: dict[str, Callable[[], None]] = {
        "gather/fill/scatter (used)": lambda: mask.apply(logits, allowed),
        "boolean mask + copyto": boolean_copyto,
        "full scratch row copy": full_row_copy,
    }
    for label, fn in strategies.items():
        print(f"  {label}: {min(timed(fn) for _ in range(200)):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
