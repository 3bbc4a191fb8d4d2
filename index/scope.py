"""Names visible at a position of a Python buffer (locals, parameters, enclosing scopes,
module names, imports, builtins), computed from the live text, not the stored copy."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tree_sitter import Node

from tether.index.parsing import (
    named_children,
    parse,
    parse_with_placeholder,
    text,
    with_placeholder_line,
)

# what every module has, plus `__builtins__` and `__debug__`
MODULE_DUNDERS = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__loader__",
                            "__package__", "__builtins__", "__debug__", "__annotations__"})
BUILTIN_NAMES: frozenset[str] = frozenset(
    name for name in dir(builtins) if not name.startswith("_")) | MODULE_DUNDERS | {"__import__"}
_SCOPE_NODES = ("function_definition", "class_definition", "lambda")
_FUNCTION_NODES = ("function_definition", "lambda")
_COMPREHENSIONS = ("list_comprehension", "set_comprehension", "dictionary_comprehension",
                   "generator_expression")


@dataclass(frozen=True, slots=True)
class ScopedName:
    name: str
    scope: str  # local | parameter | enclosing | class | module | import | builtin
    line: int = -1


def names_in_scope(source: str, line: int, character: int,
                   later_module_names: Iterable[str] = (),
                   bound_later: Callable[[], Iterable[str]] | None = None
                   ) -> list[ScopedName]:
    """Visible names at the start of `line`, innermost scope first, each name once. Scope is
    judged from the lines above the cursor (see `with_placeholder_line`), so `character`
    only documents the position; names bound earlier on the same line are not included.
    `later_module_names`: the module's top-level names in the whole buffer, past `source`'s
    end too; a function body sees them (it runs after the module has bound them), code at
    module level or in a class body at module level does not. `bound_later`: what the
    functions around a nested function and the loops around the line bind below it (see
    `names_bound_later`), asked for only when the line is in one of those."""
    stand_in, offset = with_placeholder_line(source, line)
    root = parse(stand_in.encode("utf-8", errors="surrogatepass")).root_node
    chain = _enclosing_scopes(root, offset)
    seen: set[str] = set()
    found: list[ScopedName] = []

    def add(name: str, scope: str, at: int = -1) -> None:
        if name and name not in seen:
            seen.add(name)
            found.append(ScopedName(name, scope, at))

    for depth, scope_node in enumerate(reversed(chain)):
        innermost = depth == 0
        if scope_node.type == "class_definition" and not innermost:
            continue  # class bodies are not visible from nested functions
        label = "local" if innermost else "enclosing"
        if scope_node.type == "class_definition":
            label = "class"
        if scope_node.type in ("function_definition", "lambda"):
            for param in _parameter_names(scope_node):
                add(param, "parameter" if innermost else "enclosing")
        elif innermost:  # a class body
            add("__qualname__", "class")
            add("__module__", "class")
        for name, kind, at in _bindings(_body(scope_node), offset if innermost else None):
            add(name, "import" if kind == "import" else label, at)
    for name, kind, at in _bindings(root, None):
        add(name, "import" if kind == "import" else "module", at)
    functions = [node for node in chain if node.type in _FUNCTION_NODES]
    nested = len(functions) > 1 and chain[-1].type in _FUNCTION_NODES
    if bound_later is not None and (nested or _loops_around(root, chain, offset)):
        for name in bound_later():
            add(name, "enclosing" if nested else "local")
    if functions:
        for name in later_module_names:
            add(name, "module")
    if any(outer.type == "class_definition" and inner.type == "function_definition"
           for outer, inner in itertools.pairwise(chain)):
        add("__class__", "enclosing")  # the implicit closure of methods (`super()` reads it)
    for name in sorted(BUILTIN_NAMES):
        add(name, "builtin")
    return found


def names_bound_later(source: str, line: int) -> frozenset[str]:
    """Names bound below `line` that code on it may still read. A nested function sees what
    the functions around it bind anywhere: it runs when called, after they are bound
    (tomlkit's `flush()` reads the `i` of a loop written below it). A loop body sees what the
    loops around the line bind anywhere in their bodies, on the next pass (networkx's
    `line = oldline + line` reads the `oldline` set further down the loop). `source` is the
    whole buffer; its `line` is judged as a placeholder statement."""
    root, offset = parse_with_placeholder(source, line)
    chain = _enclosing_scopes(root, offset)
    names: set[str] = set()
    if chain and chain[-1].type in _FUNCTION_NODES:
        for scope_node in chain[:-1]:
            if scope_node.type in _FUNCTION_NODES:
                names.update(_parameter_names(scope_node))
                names.update(name for name, _, _ in _bindings(_body(scope_node), None))
    for loop_body in _loops_around(root, chain, offset):
        names.update(name for name, _, _ in _bindings(loop_body, None))
    return frozenset(names)


def _loops_around(root: Node, chain: list[Node], offset: int) -> list[Node]:
    """The bodies of the `for`/`while` loops around `offset` in its innermost scope."""
    innermost = chain[-1] if chain else None
    bodies: list[Node] = []
    node: Node | None = root.descendant_for_byte_range(offset, offset)
    while node is not None and node != innermost:
        if node.type in ("for_statement", "while_statement"):
            body = node.child_by_field_name("body")
            if body is not None and body.start_byte <= offset <= body.end_byte:
                bodies.append(body)
        node = node.parent
    return bodies


def bound_in_functions(root: Node, offset: int, name: str) -> bool:
    """Whether a function (or lambda) enclosing `offset` binds `name` anywhere in its body or
    parameters: any binding makes the name local there, so a module-level meaning of it does
    not apply."""
    for scope_node in _enclosing_scopes(root, offset):
        if scope_node.type == "class_definition":
            continue
        if name in _parameter_names(scope_node) or any(
                bound == name for bound, _, _ in _bindings(_body(scope_node), None)):
            return True
    return False


def _enclosing_scopes(root: Node, offset: int) -> list[Node]:
    chain: list[Node] = []
    node: Node | None = root.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type in _SCOPE_NODES:
            body = _body(node)
            if node.type == "lambda" or (body is not None and body.start_byte <= offset):
                chain.append(node)
        node = node.parent
    chain.reverse()
    return chain


def _body(node: Node) -> Node:
    return node.child_by_field_name("body") or node


def _parameter_names(node: Node) -> list[str]:
    params = node.child_by_field_name("parameters")
    if params is None:
        return []
    names = []
    for child in named_children(params):
        if child.type == "identifier":
            names.append(text(child))
            continue
        target = child.child_by_field_name("name") or next(named_children(child), None)
        while target is not None and target.type != "identifier":
            target = next(named_children(target), None)
        if target is not None:
            names.append(text(target))
    return names


def _bindings(scope: Node, before: int | None) -> list[tuple[str, str, int]]:
    """(name, kind, line) for names bound directly in a scope body (nested scopes excluded).
    With `before`, only bindings that start before that byte offset (a local is not visible
    above its first assignment in a well-formed function)."""
    found: list[tuple[str, str, int]] = []
    stack = list(reversed(scope.children))
    while stack:
        node = stack.pop()
        if before is not None and node.start_byte >= before:
            continue
        kind = node.type
        at = node.start_point[0]
        if kind in ("function_definition", "class_definition"):
            found.append((text(node.child_by_field_name("name")), "definition", at))
            continue
        if kind == "lambda":
            continue
        if kind == "assignment" or kind == "augmented_assignment":
            found.extend((n, "assignment", at) for n in _targets(node.child_by_field_name("left")))
        elif kind == "named_expression":
            found.append((text(node.child_by_field_name("name")), "assignment", at))
        elif kind in ("for_statement", "for_in_clause"):
            found.extend((n, "assignment", at) for n in _targets(node.child_by_field_name("left")))
        elif kind == "as_pattern":
            alias = node.child_by_field_name("alias")
            found.extend((n, "assignment", at) for n in _targets(alias))
        elif kind in ("import_statement", "import_from_statement"):
            found.extend((n, "import", at) for n in _imported_names(node))
            continue
        elif kind in ("global_statement", "nonlocal_statement"):
            continue
        if kind in _COMPREHENSIONS and before is not None and not (
                node.start_byte <= before <= node.end_byte):
            continue
        stack.extend(reversed(node.children))
    return found


def _targets(node: Node | None) -> list[str]:
    if node is None:
        return []
    if node.type == "identifier":
        return [text(node)]
    if node.type in ("as_pattern_target",):
        return [n for child in named_children(node) for n in _targets(child)]
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern", "expression_list",
                     "tuple", "list", "parenthesized_expression", "list_splat_pattern"):
        return [n for child in named_children(node) for n in _targets(child)]
    return []


def _imported_names(node: Node) -> list[str]:
    names = []
    if node.type == "import_statement":
        for child in named_children(node):
            if child.type == "aliased_import":
                names.append(text(child.child_by_field_name("alias")))
            elif child.type == "dotted_name":
                names.append(text(child).split(".")[0])
        return names
    for child in node.children_by_field_name("name"):
        if child.type == "aliased_import":
            names.append(text(child.child_by_field_name("alias")))
        else:
            names.append(text(child).split(".")[-1])
    return names
