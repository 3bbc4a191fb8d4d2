"""Repository context for the prompt, within a token budget.

The prompt is laid out for KV-cache reuse: what stays the same between keystrokes comes
first (the signatures of what the file imports, then snippets retrieved for the enclosing
definition), the file's own text after it, and the volatile, cursor-specific hint (the
receiver's members) as a comment right above the cursor line, so that typing re-evaluates
only the last few tokens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from tether.index.lookups import SymbolLookup
from tether.index.lru import LruCache
from tether.index.models import Symbol, SymbolKind
from tether.index.receiver import Receiver
from tether.index.search import HybridSearcher, SearchHit

TokenCounter = Callable[[str], int]
MAX_MEMBERS_IN_HINT = 40
MAX_MEMBERS_PER_CLASS = 25
SNIPPETS = 6
SNIPPETS_KEPT_SECONDS = 300.0
_DEF_LINE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w+.*$", re.MULTILINE)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass(slots=True)
class ContextPack:
    text: str = ""
    sources: list[str] = field(default_factory=list)
    tokens: int = 0


def render_symbol(symbol: Symbol, lookup: SymbolLookup | None = None, indent: str = "") -> str:
    """A stub-like rendering: the definition line, a one-line doc, deprecations marked."""
    summary = f"  # {symbol.summary}" if symbol.summary else ""
    deprecated = ""
    if symbol.deprecation:
        replacement = symbol.deprecation.replacement
        deprecated = f"  # deprecated{': use ' + replacement if replacement else ''}"
    if symbol.kind == SymbolKind.CLASS:
        bases = f"({', '.join(symbol.bases)})" if symbol.bases else ""
        lines = [f"{indent}class {symbol.name}{bases}:{summary or deprecated}"]
        if lookup is not None:
            members = [m for m in lookup.class_members(symbol.qualname)
                       if not m.name.startswith("_") or m.name == "__init__"]
            for member in members[:MAX_MEMBERS_PER_CLASS]:
                lines.append(render_symbol(member, None, indent + "    "))
        if len(lines) == 1:
            lines.append(f"{indent}    ...")
        return "\n".join(lines)
    if symbol.kind in (SymbolKind.FUNCTION, SymbolKind.METHOD, SymbolKind.PROPERTY):
        prefix = "@property\n" + indent if symbol.kind == SymbolKind.PROPERTY else ""
        is_async = "async " if "async" in symbol.decorators else ""
        return (f"{indent}{prefix}{is_async}def {symbol.name}{symbol.signature or '()'}: ..."
                f"{deprecated or summary}")
    annotation = f": {symbol.annotation}" if symbol.annotation else ""
    value = f" = {symbol.value}" if symbol.value and not annotation else ""
    return f"{indent}{symbol.name}{annotation}{value}{deprecated}"


def member_hint(receiver: Receiver, indent: str) -> str:
    """One comment line naming the receiver's members, for right above the cursor line."""
    if not receiver.members:
        return ""
    names = []
    for member in receiver.members:
        if member.name.startswith("_") or member.deprecation:
            continue
        if member.kind in (SymbolKind.METHOD, SymbolKind.FUNCTION):
            names.append(f"{member.name}()")
        else:
            names.append(member.name)
        if len(names) >= MAX_MEMBERS_IN_HINT:
            break
    if not names:
        return ""
    kind = receiver.qualname.rsplit(".", 1)[-1]
    return f"{indent}# {receiver.expression}: {kind} has {', '.join(names)}\n"


SnippetMemo = LruCache[Hashable, tuple[float, list[SearchHit]]]


class ContextBuilder:
    """`snippets` remembers the retrieved snippets per file and enclosing definition: the
    query also reads the last lines, which change with every new line, and new snippets
    early in the prompt would make the model re-read the whole file after each Enter
    (1–5 s on a laptop CPU instead of a few hundred milliseconds). They are searched again
    after a few minutes, so edits elsewhere in the repository reach the prompt."""

    def __init__(self, lookup: SymbolLookup, searcher: HybridSearcher,
                 count_tokens: TokenCounter, snippets: SnippetMemo | None = None) -> None:
        self.lookup = lookup
        self.searcher = searcher
        self.count_tokens = count_tokens
        self.snippets = snippets

    def build(self, module: str, path: str, prefix: str, budget: int) -> ContextPack:
        """Signatures of imported definitions, then retrieved snippets, within `budget`."""
        pack = ContextPack()
        if budget <= 0:
            return pack
        blocks: list[tuple[str, str]] = []
        for symbol in self._imported_definitions(module):
            blocks.append((f"{symbol.path}:{symbol.qualname}",
                           f"# {symbol.path}\n{render_symbol(symbol, self.lookup)}\n"))
        for hit in self._snippets(path, prefix):
            header = f"# {hit.path}" + (f" ({hit.title})" if hit.kind == "docs" else "")
            body = hit.text if hit.kind == "code" else _as_comment(hit.text)
            blocks.append((f"{hit.path}:{hit.start_line}", f"{header}\n{body}\n"))
        seen: set[str] = set()
        parts: list[str] = []
        for source, block in blocks:
            if source in seen:
                continue
            cost = self.count_tokens(block)
            if pack.tokens + cost > budget:
                continue
            seen.add(source)
            parts.append(block)
            pack.sources.append(source)
            pack.tokens += cost
        pack.text = "".join(parts)
        return pack

    def _imported_definitions(self, module: str) -> list[Symbol]:
        definitions: list[Symbol] = []
        seen: set[str] = set()
        imports = self.lookup.store.symbols_where(
            "s.module = ? AND s.parent = ? AND s.kind = 'import' ORDER BY s.line",
            (module, module))
        for imported in imports:
            target = self.lookup.resolve(imported.target or "")
            if target is None or target.qualname in seen or target.kind in (
                    SymbolKind.MODULE, SymbolKind.IMPORT):
                continue
            seen.add(target.qualname)
            definitions.append(target)
        return definitions

    def _snippets(self, path: str, prefix: str) -> list[SearchHit]:
        scope, query = retrieval_query(prefix)
        if self.snippets is None:
            return self.searcher.search(query, limit=SNIPPETS, exclude_path=path)
        vectors = self.searcher.embedder is not None and self.searcher.embedder.is_loaded()
        key = (path, scope, vectors)
        now = time.monotonic()
        kept = self.snippets.get(key)
        if kept is not None and now - kept[0] < SNIPPETS_KEPT_SECONDS:
            return kept[1]
        hits = self.searcher.search(query, limit=SNIPPETS, exclude_path=path)
        self.snippets.put(key, (now, hits))
        return hits


def retrieval_query(prefix: str) -> tuple[tuple[str, ...], str]:
    """(the enclosing definition lines, the query): those lines and the identifiers of the
    last lines, so the query changes rarely while typing within a function."""
    tail = prefix[-1500:]
    defs = tuple(line.strip() for line in _DEF_LINE.findall(tail)[-2:])
    words = _IDENT.findall("\n".join(tail.splitlines()[:-1][-12:]))
    unique = list(dict.fromkeys(words))[-30:]
    return defs, " ".join([*defs, *unique])


def _as_comment(text: str) -> str:
    return "\n".join(f"# {line}".rstrip() for line in text.splitlines())
