"""Definitions a buffer keeps while it does not parse.

Mid-edit a buffer often has a syntax error (an `if` line rewritten above its indented block,
a bracket not yet closed), and tree-sitter's recovery may then drop much of what follows:
a class's later attributes and methods vanish from the index, and the monitor would block
them. Until the buffer parses again, definitions its last version had are kept where the
new parse lost them, as long as they lie within the text the buffer still has (a buffer cut
short does not keep what was below the cut) and what they belong to still exists.
"""

from __future__ import annotations

from tether.index.models import Symbol


def with_lost_definitions(parsed: list[Symbol], previous: list[Symbol],
                          line_count: int) -> list[Symbol]:
    """`parsed` (the new parse, which has errors) plus the symbols of `previous` it lost."""
    known = {symbol.qualname for symbol in parsed}
    kept: list[Symbol] = []
    for symbol in sorted(previous, key=lambda symbol: symbol.qualname.count(".")):
        if symbol.qualname in known or symbol.line >= line_count:
            continue
        if symbol.parent is None or symbol.parent in known:
            kept.append(symbol)
            known.add(symbol.qualname)
    return parsed + kept
