"""Where a receiver stands in the syntax tree: the function and class around it, and the
last binding of a name above it (index.receiver reads types from these)."""

from __future__ import annotations

from tree_sitter import Node

from tether.index.parsing import named_children, text


def enclosing_function(root: Node, offset: int) -> Node | None:
    node = root.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type == "function_definition":
            return node
        node = node.parent
    return None


def enclosing_class(function: Node) -> Node | None:
    node = function.parent
    while node is not None:
        if node.type == "class_definition":
            return node
        if node.type == "function_definition":
            return None
        node = node.parent
    return None


def defined_in_function(cls: Node) -> bool:
    """Whether a class is local to a function (the index holds module-level classes and the
    classes nested in them only)."""
    node = cls.parent
    while node is not None:
        if node.type == "function_definition":
            return True
        node = node.parent
    return False


def takes_the_class(function: Node) -> bool:
    """Whether a method's first parameter is its class, not an instance: `__new__`,
    `__prepare__`, `__init_subclass__`, `__class_getitem__`, or a classmethod."""
    name = text(function.child_by_field_name("name"))
    if name in ("__new__", "__prepare__", "__init_subclass__", "__class_getitem__"):
        return True
    decorated = function.parent
    return decorated is not None and decorated.type == "decorated_definition" and any(
        text(child).lstrip("@").strip() == "classmethod" for child in named_children(decorated)
        if child.type == "decorator")


def local_binding(scope: Node, name: str, offset: int,
                   module_level: bool = False) -> tuple[str | None, Node | None]:
    """The annotation or assigned value of the last binding of `name` before `offset` in a
    scope (parameters included for functions)."""
    annotation: str | None = None
    value: Node | None = None
    if scope.type == "function_definition":
        params = scope.child_by_field_name("parameters")
        for param in named_children(params) if params is not None else []:
            pname = param.child_by_field_name("name") or next(named_children(param), None)
            if pname is not None and text(pname) == name:
                annotation = text(param.child_by_field_name("type")) or None
    body = scope.child_by_field_name("body") if not module_level else scope
    stack = list(body.children) if body is not None else []
    assignments: list[Node] = []
    while stack:
        node = stack.pop()
        if node.start_byte >= offset or node.type in ("function_definition",
                                                      "class_definition", "lambda"):
            continue
        if node.type == "assignment":
            left = node.child_by_field_name("left")
            if (left is not None and left.type == "identifier" and text(left) == name
                    and node.end_byte <= offset):
                assignments.append(node)
        stack.extend(node.children)
    for node in sorted(assignments, key=lambda n: n.start_byte):
        found_annotation = text(node.child_by_field_name("type")) or None
        right = node.child_by_field_name("right")
        if found_annotation:
            annotation, value = found_annotation, None
        elif right is not None and annotation is None:
            value = right
    return annotation, value
