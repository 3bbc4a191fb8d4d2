"""Parameters of a `def` as tree-sitter parses them, and their rendering as a signature."""

from __future__ import annotations

from tree_sitter import Node

from tether.index.models import Parameter, ParamKind
from tether.index.parsing import named_children, text

MAX_VALUE_CHARS = 80


def parameters_of(node: Node | None) -> list[Parameter]:
    """A `parameters` node's parameters, kinds set by the `/` and `*` separators."""
    if node is None:
        return []
    params: list[Parameter] = []
    seen_star = False
    for child in named_children(node):
        kind = ParamKind.KEYWORD_ONLY if seen_star else ParamKind.POSITIONAL_OR_KEYWORD
        ctype = child.type
        if ctype == "positional_separator":
            params = [Parameter(p.name, ParamKind.POSITIONAL_ONLY, p.annotation, p.default)
                      for p in params]
        elif ctype == "keyword_separator":
            seen_star = True
        elif ctype == "identifier":
            params.append(Parameter(text(child), kind))
        elif ctype in ("list_splat_pattern", "dictionary_splat_pattern"):
            params.append(_splat(child, None))
            seen_star = seen_star or ctype == "list_splat_pattern"
        elif ctype == "typed_parameter":
            annotation = text(child.child_by_field_name("type")) or None
            inner = next(named_children(child), None)
            if inner is not None and inner.type in ("list_splat_pattern",
                                                    "dictionary_splat_pattern"):
                params.append(_splat(inner, annotation))
                seen_star = seen_star or inner.type == "list_splat_pattern"
            elif inner is not None:
                params.append(Parameter(text(inner), kind, annotation))
        elif ctype in ("default_parameter", "typed_default_parameter"):
            params.append(Parameter(
                text(child.child_by_field_name("name")), kind,
                text(child.child_by_field_name("type")) or None,
                short_value(text(child.child_by_field_name("value")))))
    return params


def _splat(node: Node, annotation: str | None) -> Parameter:
    kind = ParamKind.VAR_POSITIONAL if node.type == "list_splat_pattern" else ParamKind.VAR_KEYWORD
    name = text(next(named_children(node), None))
    return Parameter(name, kind, annotation)


def rendered_parameters(params: list[Parameter]) -> list[str]:
    """Each parameter as written, with a bare `*` and a `/` where the kinds change."""
    rendered: list[str] = []
    has_var_positional = any(p.kind == ParamKind.VAR_POSITIONAL for p in params)
    for index, param in enumerate(params):
        previous = params[index - 1] if index else None
        if (param.kind == ParamKind.KEYWORD_ONLY and not has_var_positional
                and (previous is None or previous.kind != ParamKind.KEYWORD_ONLY)):
            rendered.append("*")
        rendered.append(param.render())
        following = params[index + 1] if index + 1 < len(params) else None
        if param.kind == ParamKind.POSITIONAL_ONLY and (
                following is None or following.kind != ParamKind.POSITIONAL_ONLY):
            rendered.append("/")
    return rendered


def short_value(value: str) -> str:
    """An expression's text on one line, cut at MAX_VALUE_CHARS."""
    value = " ".join(value.split())
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"
