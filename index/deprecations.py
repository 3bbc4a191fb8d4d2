"""Static deprecation facts from Python source: decorators, warnings and docstrings.

Pure tree-sitter analysis; the analysed code is never imported or run. Message text is
recovered from string literals (f-strings keep `{expr}` placeholders, `%`/`.format` templates
keep theirs), then the replacement API and the deprecation version are read out of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from tether.index.deprecation_text import (
    docstring_deprecation,
    make_fact,
    mentions,
    merge_facts,
    parse_replacement,
)
from tether.index.models import Deprecation
from tether.index.parsing import named_children, text

_DECORATOR_NAMES = frozenset({"deprecated", "deprecate"})
_MESSAGE_KEYWORDS = ("message", "msg", "reason", "details", "addendum")
_VERSION_KEYWORDS = ("version", "deprecated_in", "since")
_REPLACEMENT_KEYWORDS = ("alternative", "replacement", "instead", "use_instead", "new_name")
_DEFINITIONS = ("function_definition", "class_definition", "decorated_definition")
NESTED_SCOPES = (*_DEFINITIONS, "lambda")
_CONDITIONAL = frozenset({"if_statement", "elif_clause", "else_clause", "for_statement",
                          "while_statement", "match_statement", "except_clause",
                          "conditional_expression", "boolean_operator"})
_CONTAINERS = frozenset({"if_statement", "elif_clause", "else_clause", "try_statement",
                         "except_clause", "finally_clause", "with_statement", "block"})
_PARAMETER_WORDS = re.compile(r"\b(?:argument|parameter|keyword|kwarg|arg)s?\b", re.I)

_ESCAPES = {"n": "\n", "t": "\t", "r": "", "\\": "\\", "'": "'", '"': '"', "\n": "", "0": ""}


def _unescape(raw: str) -> str:
    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body[0] in "xuU" and len(body) > 1:
            try:
                return chr(int(body[1:], 16))
            except ValueError:
                return match.group(0)
        return _ESCAPES.get(body, match.group(0))
    return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.|\n)", one, raw)


def render_message(node: Node, names: dict[str, str] | None = None) -> str:
    """Best-effort literal text of a message expression; `names` substitutes identifiers."""
    names = names or {}
    kind = node.type
    if kind == "string":
        return _render_string(node, names)
    if kind == "concatenated_string":
        return "".join(render_message(child, names) for child in named_children(node))
    if kind == "parenthesized_expression" and node.named_child_count == 1:
        return render_message(node.named_children[0], names)
    if kind == "binary_operator":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left is not None and right is not None and operator is not None:
            if operator.type == "+":
                return render_message(left, names) + render_message(right, names)
            return render_message(left, names)
    if kind == "call":
        return _render_call(node, names)
    if kind == "identifier" and text(node) in names:
        return names[text(node)]
    return "{" + text(node) + "}"


def _render_call(node: Node, names: dict[str, str]) -> str:
    function = node.child_by_field_name("function")
    arguments = positional_arguments(node)
    if function is not None and function.type == "attribute":
        receiver = function.child_by_field_name("object")
        if receiver is not None and text(function.child_by_field_name("attribute")) == "format":
            return render_message(receiver, names)
    if text(function) in ("_", "gettext", "gettext_lazy", "ngettext") and arguments:
        return render_message(arguments[0], names)
    return "{" + text(node) + "}"


def _render_string(node: Node, names: dict[str, str]) -> str:
    start = next((c for c in node.children if c.type == "string_start"), None)
    prefix = text(start).lower()
    raw, is_f = "r" in prefix, "f" in prefix
    pieces: list[str] = []
    for child in node.children:
        if child.type == "string_content":
            content = text(child)
            content = content if raw else _unescape(content)
            pieces.append(content.replace("{{", "{").replace("}}", "}") if is_f else content)
        elif child.type == "interpolation":
            value = text(child.child_by_field_name("expression"))
            pieces.append(names.get(value, text(child)))
    return "".join(pieces)


# -- call arguments --------------------------------------------------------------------------

def positional_arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [a for a in named_children(arguments) if a.type not in
            ("keyword_argument", "comment", "list_splat", "dictionary_splat")]


def _keywords(call: Node) -> dict[str, Node]:
    arguments = call.child_by_field_name("arguments")
    found: dict[str, Node] = {}
    for argument in named_children(arguments) if arguments is not None else ():
        name, value = argument.child_by_field_name("name"), argument.child_by_field_name("value")
        if argument.type == "keyword_argument" and name is not None and value is not None:
            found[text(name)] = value
    return found


def last_segment(node: Node | None) -> str:
    return text(node).rsplit(".", 1)[-1].strip()


def _is_deprecation_category(node: Node | None) -> bool:
    name = last_segment(node.child_by_field_name("function") if node is not None
                         and node.type == "call" else node)
    return (name == "FutureWarning" or (name.endswith("Warning") and "Deprecat" in name)
            or (name.startswith("Removed") and name.endswith("Warning")))


# -- decorators --------------------------------------------------------------------------------

def _decorator_fact(decorator: Node, names: dict[str, str]) -> Deprecation | None:
    expression = next(named_children(decorator), None)
    if expression is None:
        return None
    call = expression if expression.type == "call" else None
    target = expression.child_by_field_name("function") if call is not None else expression
    if last_segment(target) not in _DECORATOR_NAMES:
        return None
    if call is None:
        return make_fact("", "decorator")
    positional, keywords = positional_arguments(call), _keywords(call)
    version_node = next((keywords[k] for k in _VERSION_KEYWORDS if k in keywords), None)
    message_node = next((keywords[k] for k in _MESSAGE_KEYWORDS if k in keywords), None)
    strings = [p for p in positional if p.type in ("string", "concatenated_string")]
    if strings and version_node is None and re.fullmatch(r"v?\d+(\.\w+)*",
                                                         render_message(strings[0])):
        version_node, strings = strings[0], strings[1:]  # matplotlib style: ("3.6", ...)
    message = render_message(message_node or strings[0], names) if (
        message_node is not None or strings) else ""
    replacement_node = next((keywords[k] for k in _REPLACEMENT_KEYWORDS if k in keywords), None)
    version = render_message(version_node, names) if version_node is not None else None
    replacement = render_message(replacement_node, names) if replacement_node else None
    if replacement is not None and not re.fullmatch(r"[\w.]+", replacement):
        replacement = parse_replacement(replacement)
    if version is not None and not re.search(r"\d", version):
        version = None
    return make_fact(message, "decorator", version, replacement)


# -- warnings.warn calls -----------------------------------------------------------------------

def _walk_calls(body: Node) -> Iterator[tuple[Node, bool]]:
    """Calls under `body` outside nested scopes, with whether they sit under a condition."""
    stack: list[tuple[Node, bool]] = [(body, False)]
    while stack:
        node, conditional = stack.pop()
        if node.type == "call":
            yield node, conditional
        inner = conditional or node.type in _CONDITIONAL
        stack.extend((child, inner) for child in reversed(node.children)
                     if child.type not in NESTED_SCOPES)


def _warning_message(call: Node, names: dict[str, str]) -> str | None:
    """The message of a deprecation `warn(...)` call, None if it is not one or has no text."""
    if last_segment(call.child_by_field_name("function")) != "warn":
        return None
    positional, keywords = positional_arguments(call), _keywords(call)
    message = keywords.get("message") or (positional[0] if positional else None)
    category = keywords.get("category") or (positional[1] if len(positional) > 1 else None)
    if message is not None and message.type == "call" and _is_deprecation_category(message):
        category, message = message, next(iter(positional_arguments(message)), None)
    if message is None or not _is_deprecation_category(category):
        return None
    rendered = render_message(message, names)
    return rendered if re.sub(r"\{[^{}]*\}", "", rendered).strip() else None


def _string_constants(body: Node) -> dict[str, str]:
    """`NAME = "literal"` assignments directly in a body: messages are often built that way."""
    constants: dict[str, str] = {}
    for statement in named_children(body):
        assignment = next(named_children(statement), None)
        if statement.type != "expression_statement" or assignment is None \
                or assignment.type != "assignment":
            continue
        left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name(
            "right")
        if left is not None and right is not None and left.type == "identifier" and \
                right.type in ("string", "concatenated_string", "binary_operator"):
            constants[text(left)] = render_message(right, constants)
    return constants


def warning_facts(body: Node, owner: str, names: dict[str, str] | None = None,
                   strict: bool = False) -> list[Deprecation]:
    """Deprecation warnings raised by a body. Unconditional ones deprecate the owner; a
    conditional one only when its message names the owner and no parameter (`strict` drops
    conditional ones entirely)."""
    calls = [(call, conditional) for call, conditional in _walk_calls(body)
             if last_segment(call.child_by_field_name("function")) == "warn"]
    if not calls:
        return []
    scope = {**_module_constants(body), **_string_constants(body), **(names or {})}
    facts = []
    for call, conditional in calls:
        message = _warning_message(call, scope)
        if message is None:
            continue
        if conditional and (strict or not mentions(message, owner) or "deprecat" not in
                            message.lower() or _PARAMETER_WORDS.search(message)):
            continue
        facts.append(make_fact(message, "warning"))
    return facts


def _module_constants(node: Node) -> dict[str, str]:
    root = node
    while root.parent is not None:
        root = root.parent
    return _string_constants(root) if root is not node else {}


def deprecation_for_definition(node: Node, source: bytes,
                               docstring: str | None) -> Deprecation | None:
    """The deprecation fact of a function or class definition (or the `decorated_definition`
    around it): decorators first, then deprecation warnings its body raises, then docstring."""
    definition, decorated = node, node.parent
    if node.type == "decorated_definition":
        definition, decorated = node.child_by_field_name("definition"), node
    if definition is None or definition.type not in ("function_definition", "class_definition"):
        return None
    facts: list[Deprecation] = []
    if decorated is not None and decorated.type == "decorated_definition":
        facts += [fact for child in decorated.children if child.type == "decorator"
                  and (fact := _decorator_fact(child, {})) is not None]
    name = text(definition.child_by_field_name("name"))
    body = definition.child_by_field_name("body")
    if body is not None and not re.search(r"deprecat|warn", name, re.I):
        if definition.type == "function_definition":
            facts += warning_facts(body, name)
        else:
            facts += _constructor_warnings(body)
    if (doc_fact := docstring_deprecation(docstring)) is not None:
        facts.append(doc_fact)
    return merge_facts(facts)


def _constructor_warnings(class_body: Node) -> list[Deprecation]:
    """An unconditional deprecation warning in `__init__`/`__new__` deprecates the class."""
    for definition in definitions(class_body):
        body = definition.child_by_field_name("body")
        name = text(definition.child_by_field_name("name"))
        if body is not None and name in ("__init__", "__new__") and (
                facts := warning_facts(body, name, strict=True)):
            return facts
    return []


def statements(block: Node) -> Iterator[Node]:
    """Statements of a block, looking through if/try/with blocks but not into definitions."""
    stack = list(reversed(block.named_children))
    while stack:
        node = stack.pop()
        if node.type in _CONTAINERS:
            stack.extend(reversed(node.named_children))
        else:
            yield node


def definitions(block: Node) -> Iterator[Node]:
    for statement in statements(block):
        if statement.type == "decorated_definition":
            statement = statement.child_by_field_name("definition") or statement
        if statement.type in ("function_definition", "class_definition"):
            yield statement


def is_variant(definition: Node) -> bool:
    """An `@overload` or a property setter/deleter: its deprecation is not the name's."""
    decorated = definition.parent
    return decorated is not None and decorated.type == "decorated_definition" and any(
        last_segment(next(named_children(child), None)) in ("overload", "setter", "deleter")
        for child in decorated.children if child.type == "decorator")
