"""Split files into retrievable chunks: code at definition granularity, docs by heading."""

from __future__ import annotations

import re

from tether.index.models import Chunk, Symbol, SymbolKind
from tether.index.store import content_hash

MAX_CHUNK_LINES = 60
MAX_DOC_CHARS = 1500
_CODE_KINDS = (SymbolKind.FUNCTION, SymbolKind.METHOD, SymbolKind.PROPERTY, SymbolKind.CLASS)
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+<>_:.])\1{2,}\s*$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def code_chunks(path: str, source: str, symbols: list[Symbol]) -> list[Chunk]:
    """One chunk per function, method and class header (a class's own lines up to its first
    member definition), each capped at MAX_CHUNK_LINES lines."""
    lines = source.splitlines()
    children_start: dict[str, int] = {}
    for symbol in symbols:
        if symbol.kind in _CODE_KINDS and symbol.parent:
            children_start[symbol.parent] = min(children_start.get(symbol.parent, 1 << 30),
                                                symbol.line)
    chunks: list[Chunk] = []
    for symbol in symbols:
        if symbol.kind not in _CODE_KINDS:
            continue
        start = _decorated_start(lines, symbol.line)
        end = symbol.end_line
        if symbol.kind == SymbolKind.CLASS and symbol.qualname in children_start:
            end = max(symbol.line, children_start[symbol.qualname] - 1)
        end = min(end, start + MAX_CHUNK_LINES - 1, len(lines) - 1)
        body = "\n".join(lines[start:end + 1]).strip("\n")
        if not body.strip():
            continue
        title = symbol.qualname
        chunks.append(Chunk(path=path, kind="code", title=title, text=body, start_line=start,
                            end_line=end, content_hash=content_hash(title + "\n" + body)))
    return chunks


def _decorated_start(lines: list[str], line: int) -> int:
    start = line
    while start > 0 and lines[start - 1].lstrip().startswith("@"):
        start -= 1
    return start


def doc_chunks(path: str, text: str) -> list[Chunk]:
    """Markdown / reStructuredText / plain text split at headings, long sections split at
    paragraph boundaries."""
    lines = text.splitlines()
    sections: list[tuple[str, int, int]] = []  # (heading, start, end)
    heading, start = _title_from_path(path), 0
    index = 0
    in_fence = False
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        new_heading = None if in_fence else _heading_at(lines, index)
        if new_heading is not None:
            if index > start:
                sections.append((heading, start, index - 1))
            heading, start = new_heading, index
        index += 1
    if start < len(lines):
        sections.append((heading, start, len(lines) - 1))
    chunks: list[Chunk] = []
    for title, first, last in sections:
        chunks.extend(_split_section(path, title, lines, first, last))
    return chunks


def _heading_at(lines: list[str], index: int) -> str | None:
    line = lines[index]
    match = _MD_HEADING.match(line)
    if match:
        return match.group(2)
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if line.strip() and _RST_UNDERLINE.match(following) and len(following.strip()) >= len(
            line.strip()) - 2:
        return line.strip()
    return None


def _split_section(path: str, title: str, lines: list[str], first: int,
                   last: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    piece_start = first
    size = 0
    for index in range(first, last + 1):
        size += len(lines[index]) + 1
        at_paragraph_end = index == last or not lines[index + 1].strip()
        if (size >= MAX_DOC_CHARS and at_paragraph_end) or index == last:
            body = "\n".join(lines[piece_start:index + 1]).strip()
            if body:
                chunks.append(Chunk(path=path, kind="docs", title=title, text=body,
                                    start_line=piece_start, end_line=index,
                                    content_hash=content_hash(title + "\n" + body)))
            piece_start, size = index + 1, 0
    return chunks


def _title_from_path(path: str) -> str:
    return path.rsplit("/", 1)[-1]
