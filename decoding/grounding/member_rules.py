"""What the code around a member position says about its names beyond the receiver's
type: `super().` in an override calls the overridden method, `hasattr` guards and reads
higher up in the class make names legal that no analysis lists, and an initializer may
assign attributes nobody has seen yet (code that catches AttributeError:
decoding.grounding.error_guards).
"""

from __future__ import annotations

import re

from tether.decoding.bracket_scanner import BracketScanner
from tether.index.models import Symbol, SymbolKind

# a line that so far holds only assignment targets, then a receiver's dot: `self.`,
# `self.a, self.`, `x, self.`
_TARGET_LIST_THEN = re.compile(r"[ \t]*(?:\*?[A-Za-z_][\w.]*[ \t]*,[ \t]*)*\*?(\w+)\.")
_DEF_LINE = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
INITIALIZERS = frozenset({"__init__", "__post_init__", "__new__", "__init_subclass__",
                          "__enter__", "__aenter__", "__setstate__", "setUp", "setup",
                          "setup_method", "reset", "initialize", "init"})
CLASS_LEVEL_BONUS = 1.5
OVERRIDDEN_BONUS = 4.0
PROPERTY_ON_CLASS_PENALTY = -3.0


def is_super(receiver: str | None) -> bool:
    return receiver is not None and re.fullmatch(r"super\([^()]*\)", receiver) is not None


def enclosing_function(text: str) -> str | None:
    """The name of the function whose body the last line of `text` is in."""
    found = _enclosing_def(text.split("\n"))
    return found[1] if found is not None else None


def _enclosing_def(lines: list[str]) -> tuple[int, str] | None:
    """The line number and name of the `def` whose body the last of `lines` is in."""
    current = lines[-1]
    indent = len(current) - len(current.lstrip())
    for number in range(len(lines) - 2, -1, -1):
        match = _DEF_LINE.match(lines[number])
        if match is not None and len(match.group(1)) < indent:
            return number, match.group(2)
    return None


def overridden_bonus(text: str, names: frozenset[str]) -> dict[str, float]:
    """`super().` inside `def save` almost always calls the parent's `save` (and inside
    `__init__`, `__init__`): a ranking bonus for the overridden method, where it is legal."""
    name = enclosing_function(text)
    return {name: OVERRIDDEN_BONUS} if name is not None and name in names else {}


def statement_function(receiver: str | None, text: str) -> str | None:
    """The name of the function in which `self.`/`cls.` (`text`'s last line) starts a
    statement, or goes on with its target list (`self.a, self.`), where it may begin a new
    attribute's assignment; None elsewhere."""
    if receiver not in ("self", "cls"):
        return None
    targets = _TARGET_LIST_THEN.fullmatch(text.rsplit("\n", 1)[-1])
    if targets is None or targets.group(1) != receiver:
        return None
    lines = text.split("\n")
    found = _enclosing_def(lines)
    if found is None or not _starts_a_statement(lines[found[0]:]):
        return None
    return found[1]


def _starts_a_statement(lines: list[str]) -> bool:
    """The last of `lines` (its function's, from the `def` on) is not inside a bracket
    opened above it, nor after a backslash."""
    above = "\n".join(lines[:-1]) + "\n"
    if above.rstrip().endswith("\\"):
        return False
    scanner = BracketScanner(comments=True)
    for _ in scanner.events(above):
        pass
    return not scanner.stack


def narrowed_above(text: str, receiver: str) -> bool:
    """Whether the code above in the same function narrows `receiver` to a subtype
    (`isinstance(event, Request)`, `type(event) is Request`, `match event:`): its declared
    type, all the index reads, lacks the subtype's members; pyright follows the narrowing."""
    lines = text.split("\n")
    found = _enclosing_def(lines)
    body = "\n".join(lines[found[0]:] if found is not None else lines)
    name = re.escape(receiver)
    return re.search(rf"\b(?:isinstance|issubclass)\(\s*{name}\s*,"
                     rf"|\btype\(\s*{name}\s*\)\s*(?:is|==|!=|in)\b"
                     rf"|^[ \t]*match[ \t]+{name}[ \t]*:", body, re.M) is not None


def hasattr_guarded(text: str, receiver: str) -> frozenset[str]:
    """Names the code above checks with `hasattr(receiver, "name")`: pyright narrows the
    receiver to a type that has them (duck typing: `hasattr(o, "seek")` on `bytes | Unknown`)
    but does not list them among its completions."""
    pattern = rf"\bhasattr\(\s*{re.escape(receiver)}\s*,\s*[\"']([A-Za-z_]\w*)[\"']\s*\)"
    return frozenset(re.findall(pattern, text))


def assigned_above(text: str, receiver: str) -> frozenset[str]:
    """Names the code above assigns on `receiver` in statements of their own
    (`G.population = {}`, `G.pos: dict = {}`): Python sets them on any object without
    `__slots__`, so later reads find them, though pyright's checker rejects them."""
    pattern = rf"^[ \t]*{re.escape(receiver)}\.([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)"
    return frozenset(re.findall(pattern, text, re.MULTILINE))


def read_in_class(text: str, receiver: str, qualname: str) -> frozenset[str]:
    """Names read as `receiver.name` in the class body above the cursor (`self.helper()`
    calls a method that may be defined below)."""
    class_name = re.escape(qualname.rsplit(".", 1)[-1])
    starts = [m.end() for m in re.finditer(rf"^[ \t]*class[ \t]+{class_name}\b", text, re.M)]
    body = text[starts[-1]:] if starts else ""
    pattern = rf"(?<![\w.]){re.escape(receiver)}\.([A-Za-z_]\w*)"
    return frozenset(re.findall(pattern, body))


def class_access_prior(members: list[Symbol]) -> dict[str, float]:
    """On the class object itself (`Text.`), code calls alternative constructors and static
    helpers or reads class attributes; a property there yields the property object and an
    instance method needs an explicit instance, so those are unlikely (not illegal)."""
    prior: dict[str, float] = {}
    for member in members:
        if member.kind == SymbolKind.PROPERTY:
            prior[member.name] = PROPERTY_ON_CLASS_PENALTY
        elif member.kind == SymbolKind.CLASS or (
                member.kind == SymbolKind.METHOD
                and {"classmethod", "staticmethod"} & set(member.decorators)):
            prior[member.name] = CLASS_LEVEL_BONUS
    return prior
