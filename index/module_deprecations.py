"""Deprecation facts of a whole module: its own deprecation (module-level warning or
docstring), every definition in it, and the names a module `__getattr__` warns about."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from tree_sitter import Node

from tether.index.deprecation_text import docstring_deprecation, merge_facts
from tether.index.deprecations import (
    NESTED_SCOPES,
    definitions,
    deprecation_for_definition,
    is_variant,
    last_segment,
    positional_arguments,
    render_message,
    statements,
    warning_facts,
)
from tether.index.models import Deprecation
from tether.index.parsing import docstring_of, named_children, text


def module_deprecations(tree_root: Node, source: bytes, module: str) -> dict[str, Deprecation]:
    """Facts for a parsed module, keyed by qualified name: the module itself (module-level
    warning or docstring), every def/class and method, and names a module `__getattr__` warns
    about. Nested functions are not API and are not visited."""
    facts: dict[str, Deprecation] = {}
    doc_fact = docstring_deprecation(docstring_of(tree_root))
    own = warning_facts(tree_root, module.rsplit(".", 1)[-1], {"__name__": module})
    attribute_facts, any_attribute = _getattr_facts(tree_root, module)
    module_facts = [*own, *any_attribute, *([doc_fact] if doc_fact else [])]
    if (module_fact := merge_facts(module_facts)) is not None:
        facts[module] = module_fact
    _collect(tree_root, source, module, facts)
    for name, fact in attribute_facts.items():
        facts.setdefault(f"{module}.{name}", fact)
    return facts


def _collect(block: Node, source: bytes, prefix: str, facts: dict[str, Deprecation]) -> None:
    for definition in definitions(block):
        name = text(definition.child_by_field_name("name"))
        body = definition.child_by_field_name("body")
        if not name:
            continue
        qualname = f"{prefix}.{name}"
        if not is_variant(definition) and name not in ("__getattr__", "__dir__"):
            fact = deprecation_for_definition(definition, source, docstring_of(body))
            if fact is not None:
                facts.setdefault(qualname, fact)
        if definition.type == "class_definition" and body is not None:
            _collect(body, source, qualname, facts)


def _getattr_facts(root: Node, module: str) -> tuple[dict[str, Deprecation], list[Deprecation]]:
    """Module `__getattr__` warnings: per name from branches like `if name == "old":
    warnings.warn(...)`, and unconditional ones (any attribute access is deprecated)."""
    found: dict[str, Deprecation] = {}
    anything: list[Deprecation] = []
    for definition in definitions(root):
        parameters = definition.child_by_field_name("parameters")
        body = definition.child_by_field_name("body")
        if text(definition.child_by_field_name("name")) != "__getattr__" or body is None \
                or parameters is None or not parameters.named_children:
            continue
        first = parameters.named_children[0]
        param = text(first if first.type == "identifier" else next(named_children(first), None))
        anything += warning_facts(body, "__getattr__", {"__name__": module}, strict=True)
        collections = _module_collections(root)
        for clause in _branches(body):
            condition = clause.child_by_field_name("condition")
            consequence = clause.child_by_field_name("consequence")
            if condition is None or consequence is None:
                continue
            for name, hint in _compared_names(condition, param, collections).items():
                names = {param: name, "__name__": module}
                facts = warning_facts(consequence, name, names, strict=True)
                if facts and name not in found:
                    fact = facts[0]
                    if fact.replacement is None and hint and re.fullmatch(r"[A-Za-z_][\w.]*", hint):
                        fact = replace(fact, replacement=hint)
                    found[name] = fact
    return found, anything


def _branches(body: Node) -> Iterator[Node]:
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type in ("if_statement", "elif_clause"):
            yield node
        stack.extend(child for child in reversed(node.children)
                     if child.type not in NESTED_SCOPES)


def _compared_names(condition: Node, param: str,
                    collections: dict[str, dict[str, str | None]]) -> dict[str, str | None]:
    """Attribute names a condition tests `param` against, each with a replacement hint."""
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return _compared_names(condition.named_children[0], param, collections)
    if condition.type == "boolean_operator":
        names: dict[str, str | None] = {}
        for side in condition.named_children:
            names.update(_compared_names(side, param, collections))
        return names
    operators = [child.type for child in condition.children if not child.is_named]
    operands = condition.named_children
    if condition.type != "comparison_operator" or len(operands) != 2:
        return {}
    left, right = operands
    if operators == ["=="]:
        if text(right) == param:
            left, right = right, left
        value = _literal(right)
        return {value: None} if text(left) == param and value is not None else {}
    if operators == ["in"] and text(left) == param:
        return collections.get(text(right)) or _collection(right)
    return {}


def _literal(node: Node) -> str | None:
    if node.type not in ("string", "concatenated_string"):
        return None
    value = render_message(node)
    return None if "{" in value else value


def _collection(node: Node) -> dict[str, str | None]:
    """String members of a tuple/list/set literal, or a dict literal's keys → string values."""
    items: dict[str, str | None] = {}
    if node.type == "call" and last_segment(node.child_by_field_name("function")) in (
            "frozenset", "set", "tuple") and positional_arguments(node):
        return _collection(positional_arguments(node)[0])
    for child in node.named_children if node.type in ("tuple", "list", "set", "dictionary") \
            else ():
        key, value = (child.child_by_field_name("key"), child.child_by_field_name("value")) \
            if child.type == "pair" else (child, None)
        name = _literal(key) if key is not None else None
        if name is not None:
            items[name] = _literal(value) if value is not None else None
    return items


def _module_collections(root: Node) -> dict[str, dict[str, str | None]]:
    collections: dict[str, dict[str, str | None]] = {}
    for statement in statements(root):
        assignment = next(named_children(statement), None)
        if statement.type == "expression_statement" and assignment is not None \
                and assignment.type == "assignment":
            left, right = assignment.child_by_field_name("left"), \
                assignment.child_by_field_name("right")
            if left is not None and right is not None and left.type == "identifier" and (
                    items := _collection(right)):
                collections[text(left)] = items
    return collections
