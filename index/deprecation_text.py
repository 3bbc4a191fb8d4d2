"""Deprecation message text: the replacement API and version named by a message, and
deprecation sections of docstrings. Plain string analysis, no parse trees."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace

from tether.index.models import Deprecation


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# -- message text: replacement and version --------------------------------------------------

_VERSION = r"v?(\d+(?:\.\d+)*(?:\.?(?:a|b|rc|dev|post)\d*)?)"
_VERSION_PATTERNS = (
    re.compile(r"\bdeprecated\s+(?:since|in|as\s+of|starting(?:\s+(?:with|in|from))?)\s+"
               r"(?:[A-Za-z][\w-]*\s+)?" + _VERSION, re.I),
    re.compile(r"\b(?i:since)\s+(?:(?i:version|release)\s+|[A-Z][\w-]*\s+)?" + _VERSION),
    re.compile(r"\b(?:since|as\s+of|in|from)\s+(?:version|release)\s+" + _VERSION, re.I),
    re.compile(r"\bas\s+of\s+" + _VERSION, re.I),
    re.compile(r"\bdeprecated\s+(?:[A-Za-z][\w-]*\s+)?" + _VERSION, re.I),
)
_REMOVAL = re.compile(r"\b(?:remov|drop|delet|until|before)\w*\W+(?:\w+\W+)?$", re.I)

_TRIGGERS = (r"use", r"in\s+favou?r\s+of", r"replaced\s+(?:by|with)", r"renamed\s+(?:to|as)",
             r"migrate\s+to", r"call", r"switch\s+to", r"prefer", r"superseded\s+by",
             r"moved\s+to", r"alias\s+(?:for|of)")
_REPLACEMENT = re.compile(
    r"\b(?:please\s+)?(?:" + "|".join(_TRIGGERS) + r")\s+(?:(?:the|a|an|new|newer)\s+)*"
    r"(?P<role>:[\w:]+:)?(?P<quote>[`'\"*]*)~?"
    r"(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?P<call>\(\S*?\))?", re.I)
_STOPWORDS = _words("""a an the of it its this that these those them they instead only other
    another something anything else same different which what your any some all is be case
    to in on at by for with from as or and not no""")
_GENERIC = _words("""api apis function functions method methods class classes module modules
    attribute attributes property argument arguments parameter parameters option options version
    interface approach way one ones alternative alternatives equivalent appropriate corresponding
    latest current proper new builtin standard library package object objects value values
    feature features here""")
_FOLLOWERS = _words("instead function method class attribute property module or rather directly")


def parse_replacement(message: str) -> str | None:
    """The replacement API a deprecation message names ("use X instead", "in favour of X",
    "replaced by :func:`X`", ...), dotted names kept, or None when none is named."""
    for match in _REPLACEMENT.finditer(message):
        name = match.group("name")
        if _plausible_name(name, match, message):
            return name
    return None


def _plausible_name(name: str, match: re.Match[str], message: str) -> bool:
    lowered, rest = name.lower(), message[match.end():]
    if rest.startswith("://"):
        return False
    if match.group("role") or match.group("quote") or match.group("call"):
        return True
    if lowered in _STOPWORDS:
        return False
    if "." in name or "_" in name or any(c.isdigit() for c in name):
        return True
    if name[1:] != name[1:].lower() and name[1:] != name[1:].upper():  # CamelCase
        return True
    if lowered in _GENERIC or re.match(r"-\w", rest):
        return False
    following = re.match(r"\s*([A-Za-z]+)", rest)
    return following is None or following.group(1).lower() in _FOLLOWERS


def parse_version(message: str) -> str | None:
    """The version a message says the deprecation happened in ("since 2.0", "deprecated in
    3.1", "in version 1.3"); removal versions ("removed in 4.0") are not it."""
    for pattern in _VERSION_PATTERNS:
        for match in pattern.finditer(message):
            if not _REMOVAL.search(message[max(0, match.start() - 30):match.start()]):
                return match.group(1)
    return None


def make_fact(message: str, source: str, version: str | None = None,
          replacement: str | None = None) -> Deprecation:
    message = " ".join(message.split())
    version = (version or parse_version(message) or "").rstrip(".,;:") or None
    replacement = replacement or parse_replacement(message)
    if not message:
        message = f"deprecated since {version}" if version else "deprecated"
        if replacement:
            message += f"; use {replacement} instead"
    return Deprecation(message, version, replacement, source)


def merge_facts(facts: list[Deprecation]) -> Deprecation | None:
    """The first fact (decorator, then warning, then docstring), gaps filled by the others."""
    if not facts:
        return None
    first = facts[0]
    version = first.version or next((f.version for f in facts if f.version), None)
    replacement = first.replacement or next((f.replacement for f in facts if f.replacement),
                                            None)
    return replace(first, version=version, replacement=replacement)


# -- rendering message expressions ---------------------------------------------------------

def mentions(message: str, name: str) -> bool:
    return bool(name) and re.search(rf"(?<!\w){re.escape(name)}\b", message) is not None


# -- docstrings ------------------------------------------------------------------------------

_SPHINX = re.compile(r"^\.\.[ \t]+deprecated::[ \t]*(\S*)[ \t]*(.*)$", re.M)
_GOOGLE = re.compile(r"^deprecated[ \t]*:[ \t]*(.*)$", re.M | re.I)
_NUMPY = re.compile(r"^deprecated[ \t]*\n[ \t]*-{3,}[ \t]*$", re.M | re.I)
_SUMMARY = re.compile(r"^\W{0,2}deprecated\b\W{0,2}(?=[.:,;!(\-]|\s+(?:since|in|as|alias|and|"
                      r"for|-)\b|\s*$)|^(?:this|the)\s+(?:\w+\s+){0,2}(?:is|has\s+been)\s+"
                      r"(?:now\s+)?deprecated\b", re.I)


def docstring_deprecation(doc: str | None) -> Deprecation | None:
    """A Sphinx `.. deprecated::` directive, a numpydoc/Google "Deprecated" section, or a
    docstring that opens by saying it is deprecated."""
    if not doc:
        return None
    doc = inspect.cleandoc(doc)  # top-level sections only: nested ones describe parameters
    if match := _SPHINX.search(doc):
        version = match.group(1) if re.search(r"\d", match.group(1)) else None
        first = match.group(2) if version else f"{match.group(1)} {match.group(2)}"
        return make_fact(f"{first} {_indented_after(doc, match.end())}", "docstring", version)
    if match := _NUMPY.search(doc):
        return make_fact(_paragraph(doc[match.end():]), "docstring")
    if match := _GOOGLE.search(doc):
        return make_fact(f"{match.group(1)} {_indented_after(doc, match.end())}", "docstring")
    if _SUMMARY.match(doc.strip()):
        return make_fact(_paragraph(doc), "docstring")
    return None


def _indented_after(doc: str, position: int) -> str:
    """The indented lines after `position` (blank lines allowed)."""
    lines: list[str] = []
    for line in doc[position:].splitlines()[1:]:
        if line.strip() and not line[0].isspace():
            break
        lines.append(line.strip())
    return " ".join(line for line in lines if line)


def _paragraph(doc: str) -> str:
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


# -- definitions -----------------------------------------------------------------------------
