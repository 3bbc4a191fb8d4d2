"""Completion tasks for the grounding benchmark: holes punched into real source trees.

A task is a call site ``receiver.name(`` where ``name`` is a function or method defined in the
same repository. The document is cut right after the dot, so nothing after the cursor leaks,
and the expected completion is ``name``. Deprecation tasks are call sites of a replacement API
(``add_item``) whose deprecated twin (``add``, "use add_item instead") the model should avoid.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from tree_sitter import Node

from tether.index.parsing import parse, string_literal_value, text, walk

SKIPPED_DIRS = frozenset({"tests", "test", "testing", "docs", "doc", ".git", "build", "dist"})
MIN_PRECEDING_LINES = 5
_STDLIB = frozenset(sys.stdlib_module_names)
_LITERALS = frozenset({"string", "concatenated_string", "integer", "float", "list", "dictionary",
                       "set", "tuple", "list_comprehension", "dictionary_comprehension",
                       "set_comprehension"})
_WARNING_CLASSES = ("DeprecationWarning", "PendingDeprecationWarning", "FutureWarning")
_REPLACEMENT = re.compile(
    r"(?:\buse|\bin favou?r of|\breplaced (?:by|with)|\bprefer)\s+[`'\"]?"
    r"((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)", re.IGNORECASE)


@dataclass(slots=True)
class Task:
    id: str
    kind: str  # "repo" or "deprecation"
    repo: str
    workspace: str
    path: str
    line: int
    character: int
    text: str
    expected: str
    receiver: str
    deprecated: str | None = None

    def contract(self, suffix: str = "") -> dict[str, object]:
        """The `tether eval` input line for this task."""
        return {"id": self.id + suffix, "workspace": self.workspace, "path": self.path,
                "line": self.line, "character": self.character, "text": self.text}

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class CallSite:
    path: str
    line: int
    character: int
    offset: int  # byte offset of `name` in the file
    name: str
    receiver: str
    enclosing: str | None  # name of the innermost enclosing function, if any


@dataclass(slots=True)
class Deprecation:
    name: str
    replacement: str
    message: str
    path: str


def python_files(root: Path, skip_dirs: Iterable[str] = ()) -> list[Path]:
    """Sorted .py files under root, without those inside any folder named in skip_dirs."""
    skipped = set(skip_dirs)
    return sorted(p for p in root.rglob("*.py") if p.is_file()
                  and not skipped.intersection(p.relative_to(root).parts[:-1]))



def defined_functions(sources: Iterable[bytes]) -> set[str]:
    """Names of all functions and methods defined in the sources, dunders excluded."""
    names: set[str] = set()
    for source in sources:
        for node in walk(parse(source).root_node):
            if node.type == "function_definition":
                name = text(node.child_by_field_name("name"))
                if name and not (name.startswith("__") and name.endswith("__")):
                    names.add(name)
    return names


def identifiers(source: bytes) -> set[str]:
    """Every identifier token of a Python source (names, attributes, keyword arguments)."""
    return {text(node) for node in walk(parse(source).root_node) if node.type == "identifier"}


def stdlib_bindings(root: Node) -> set[str]:
    """Local names bound by imports from the standard library (`import os.path as p`, `import
    json`, `from datetime import datetime`)."""
    bound: set[str] = set()
    for node in walk(root):
        if node.type == "import_statement":
            for child in node.named_children:
                if child.type == "aliased_import":
                    module = text(child.child_by_field_name("name"))
                    if module.split(".")[0] in _STDLIB:
                        bound.add(text(child.child_by_field_name("alias")))
                elif child.type == "dotted_name" and text(child).split(".")[0] in _STDLIB:
                    bound.add(text(child).split(".")[0])
        elif node.type == "import_from_statement":
            module = node.child_by_field_name("module_name")
            if module is None or module.type != "dotted_name":
                continue  # relative import: the repository's own code
            if text(module).split(".")[0] not in _STDLIB:
                continue
            for child in node.children_by_field_name("name"):
                target = child.child_by_field_name("alias") if child.type == "aliased_import" \
                    else child
                bound.add(text(target).split(".")[-1])
    return bound


def _root_identifier(node: Node) -> str | None:
    """`a` for a receiver `a.b.c` made of names only; None for calls, subscripts, literals."""
    while node.type == "attribute":
        node = node.child_by_field_name("object")  # type: ignore[assignment]
    return text(node) if node.type == "identifier" else None


def _enclosing_function(node: Node) -> str | None:
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            return text(parent.child_by_field_name("name"))
        parent = parent.parent
    return None


def _code_lines_before(lines: list[str], row: int) -> int:
    return sum(1 for line in lines[:row] if line.strip() and not line.lstrip().startswith("#"))


def call_sites(source: bytes, path: str, names: set[str],
               min_preceding: int = MIN_PRECEDING_LINES) -> list[CallSite]:
    """Call sites `receiver.name(` in one file where `name` is in `names`, the receiver is
    neither a literal (`"".join`) nor a standard-library module (or a name imported from one,
    or an attribute chain rooted there: `os.path.join`), and at least `min_preceding` lines
    of code precede the call line."""
    tree = parse(source)
    stdlib = stdlib_bindings(tree.root_node)
    lines = source.decode("utf-8", errors="replace").splitlines()
    sites: list[CallSite] = []
    for node in walk(tree.root_node):
        if node.type != "call":
            continue
        function = node.child_by_field_name("function")
        if function is None or function.type != "attribute":
            continue
        attribute = function.child_by_field_name("attribute")
        receiver = function.child_by_field_name("object")
        if attribute is None or receiver is None or text(attribute) not in names:
            continue
        if receiver.type in _LITERALS or _root_identifier(receiver) in stdlib:
            continue
        row, column = attribute.start_point
        if row >= len(lines) or _code_lines_before(lines, row) < min_preceding:
            continue
        prefix = source[attribute.start_byte - column:attribute.start_byte]
        sites.append(CallSite(path=path, line=row,
                              character=len(prefix.decode("utf-8", errors="replace")),
                              offset=attribute.start_byte, name=text(attribute),
                              receiver=text(receiver), enclosing=_enclosing_function(node)))
    return sites


def task_for(site: CallSite, source: bytes, root: Path, repo: str, kind: str = "repo",
             deprecated: str | None = None) -> Task:
    cut = source[:site.offset].decode("utf-8", errors="replace")
    label = f"{repo}:{site.path}:{site.line + 1}:{site.name}"
    return Task(id=f"dep:{label}" if kind == "deprecation" else label, kind=kind, repo=repo,
                workspace=str(root.resolve()), path=site.path, line=site.line,
                character=site.character, text=cut, expected=site.name, receiver=site.receiver,
                deprecated=deprecated)


def _rng(seed: int, label: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class Located(Protocol):
    path: str
    line: int
    offset: int


LocatedT = TypeVar("LocatedT", bound=Located)


def spread_sample(sites: list[LocatedT], count: int, seed: int,
                  label: str) -> list[LocatedT]:
    """Deterministic sample of `count` sites, round-robin over shuffled files so that the
    sample is spread over as many files as possible; at most one site per line."""
    rng = _rng(seed, label)
    by_file: dict[str, list[LocatedT]] = {}
    seen_lines: set[tuple[str, int]] = set()
    for site in sorted(sites, key=lambda s: (s.path, s.offset)):
        if (site.path, site.line) in seen_lines:
            continue
        seen_lines.add((site.path, site.line))
        by_file.setdefault(site.path, []).append(site)
    files = sorted(by_file)
    rng.shuffle(files)
    for path in files:
        rng.shuffle(by_file[path])
    picked: list[LocatedT] = []
    while len(picked) < count and any(by_file[path] for path in files):
        for path in files:
            if by_file[path] and len(picked) < count:
                picked.append(by_file[path].pop())
    return picked


def repo_tasks(root: Path, repo: str, per_repo: int, seed: int) -> list[Task]:
    """Sampled call-site tasks from one repository (tests/ and docs/ folders skipped)."""
    names = defined_functions(p.read_bytes() for p in python_files(root))
    sources = {p.relative_to(root).as_posix(): p.read_bytes()
               for p in python_files(root, SKIPPED_DIRS)}
    sites = [site for rel, source in sources.items() for site in call_sites(source, rel, names)]
    picked = spread_sample(sites, per_repo, seed, repo)
    return [task_for(site, sources[site.path], root, repo) for site in picked]


# ---------------------------------------------------------------------------------------------
# Deprecations


def _replacement_in(message: str) -> str | None:
    match = _REPLACEMENT.search(message)
    return match.group(1).split(".")[-1] if match else None


def _message_of(node: Node) -> str:
    value = string_literal_value(node)
    return value if value is not None else text(node)


def deprecations_in(source: bytes, path: str) -> list[Deprecation]:
    """Functions marked deprecated (a `@...deprecated("...")` decorator or a
    `warnings.warn(..., DeprecationWarning)` in their body) whose message names a
    replacement (`use X instead`, `in favour of X`, `replaced by X`)."""
    found: list[Deprecation] = []
    for node in walk(parse(source).root_node):
        if node.type != "function_definition":
            continue
        name = text(node.child_by_field_name("name"))
        messages: list[str] = []
        parent = node.parent
        if parent is not None and parent.type == "decorated_definition":
            for decorator in parent.children:
                call = decorator.named_children[0] if decorator.type == "decorator" and \
                    decorator.named_children else None
                if call is None or call.type != "call":
                    continue
                if not text(call.child_by_field_name("function")).endswith("deprecated"):
                    continue
                arguments = call.child_by_field_name("arguments")
                messages += [_message_of(arg) for arg in (arguments.named_children
                                                          if arguments else [])]
        for inner in walk(node.child_by_field_name("body") or node):
            if inner.type != "call" or not text(inner.child_by_field_name("function")) \
                    .endswith("warn"):
                continue
            arguments = inner.child_by_field_name("arguments")
            args = arguments.named_children if arguments else []
            if any(text(arg).split(".")[-1] in _WARNING_CLASSES for arg in args) and args:
                messages.append(_message_of(args[0]))
        for message in messages:
            replacement = _replacement_in(message)
            if replacement and replacement != name:
                found.append(Deprecation(name, replacement, message, path))
                break
    return found


def deprecation_tasks(root: Path, repo: str, limit: int, seed: int) -> list[Task]:
    """Tasks at call sites of replacement APIs (outside the deprecated functions themselves)."""
    all_sources = {p.relative_to(root).as_posix(): p.read_bytes() for p in python_files(root)}
    names = defined_functions(all_sources.values())
    replaced: dict[str, Deprecation] = {}
    for rel, source in all_sources.items():
        for found in deprecations_in(source, rel):
            if found.replacement in names:
                replaced.setdefault(found.replacement, found)
    if not replaced:
        return []
    deprecated_names = {d.name for d in replaced.values()}
    sources = {p.relative_to(root).as_posix(): p.read_bytes()
               for p in python_files(root, SKIPPED_DIRS)}
    sites = [site for rel, source in sources.items()
             for site in call_sites(source, rel, set(replaced))
             if site.enclosing not in deprecated_names]
    picked = spread_sample(sites, limit, seed, f"deprecation:{repo}")
    return [task_for(site, sources[site.path], root, repo, "deprecation",
                     replaced[site.name].name) for site in picked]
