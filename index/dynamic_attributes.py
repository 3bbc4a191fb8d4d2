"""Attributes set at run time, found in one module's parse tree.

On instances: `setattr(self, ...)`, `self.__dict__.update(...)`, `vars(self).update(...)`,
`self.__dict__[key] = value` in a method. On classes: `setattr(cls, ...)` in a classmethod
(`cls` its first parameter: attrs' `_ClassBuilder` patches the class it builds through a
local `cls = self._cls`), `setattr(type(self), ...)` in a method, `setattr(Client, ...)`
anywhere in the module that defines `Client`, and a class decorator of the same module that
calls `setattr` on the class it is given (`@with_verbs` over `class Client`). A literal name
defines an attribute; a computed one means nobody can list what the instances (or the
class) have. On a module-level object (`codes = LookupDict()` filled by
`setattr(codes, title, code)`, requests' status codes) any such write marks the variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from tether.index.parsing import class_path, named_children, string_literal_value, text, walk

_OWN_CLASS = ("cls", "type(self)", "self.__class__")
_DICT_WRITES = ("self.__dict__.update", "vars(self).update", "self.__dict__.setdefault")
# Methods that put back attributes the object already had (pickling, copying) or route every
# write (`__setattr__`): a computed name there adds nothing new to list.
RESTORING_METHODS = frozenset({"__setstate__", "__getstate__", "__copy__", "__deepcopy__",
                               "__reduce__", "__reduce_ex__", "__setattr__", "__delattr__"})


@dataclass(frozen=True, slots=True)
class SetAttribute:
    owner: str  # the class's qualname
    name: str | None  # None: a computed name
    on_class: bool  # set on the class (seen by its instances too), not on one instance
    line: int
    end_line: int


def set_on_self(node: Node, class_qualname: str, method: str) -> SetAttribute | None:
    """What a call or an assignment in `method` of the class sets on `self`. Copying
    another object's attributes (`self.__dict__.update(other.__dict__)`, usually an
    instance of the same class) and the RESTORING_METHODS add no attribute to list."""
    if method in RESTORING_METHODS:
        return None
    span = node.start_point[0], node.end_point[0]
    if node.type == "assignment":
        left = node.child_by_field_name("left")
        if left is not None and left.type == "subscript" \
                and text(left.child_by_field_name("value")) == "self.__dict__":
            return SetAttribute(class_qualname, None, False, *span)
        return None
    if node.type != "call":
        return None
    function = text(node.child_by_field_name("function"))
    arguments = node.child_by_field_name("arguments")
    args = list(named_children(arguments)) if arguments is not None else []
    if function in _DICT_WRITES:
        copied = text(args[0]) if len(args) == 1 else ""
        if copied.endswith(".__dict__") or copied.startswith("vars("):
            return None
        return SetAttribute(class_qualname, None, False, *span)
    if function != "setattr" or len(args) < 2 or text(args[0]) != "self":
        return None
    return SetAttribute(class_qualname, _literal_name(args[1]), False, *span)


def set_on_classes(root: Node, module: str, classes: set[str]) -> list[SetAttribute]:
    """What `setattr` calls in the tree rooted at `root` set on the classes in `classes`
    (qualnames of classes this module defines)."""
    found: list[SetAttribute] = []
    decorators: dict[str, list[tuple[str | None, Node]]] = {}  # function -> what it sets
    for call in walk(root):
        if call.type != "call" or text(call.child_by_field_name("function")) != "setattr":
            continue
        arguments = call.child_by_field_name("arguments")
        args = list(named_children(arguments)) if arguments is not None else []
        if len(args) < 2:
            continue
        target, name = text(args[0]), _literal_name(args[1])
        function = _enclosing(call, "function_definition")
        owner = _enclosing(function, "class_definition") if function is not None else None
        qualname: str | None = None
        if target in _OWN_CLASS and owner is not None and function is not None \
                and first_parameter(function) == ("cls" if target == "cls" else "self"):
            qualname = f"{module}.{class_path(owner)}"
        elif f"{module}.{target}" in classes:
            qualname = f"{module}.{target}"
        elif function is not None and owner is None and target == first_parameter(function):
            decorators.setdefault(text(function.child_by_field_name("name")), []).append(
                (name, call))
        if qualname in classes:
            found.append(SetAttribute(qualname, name, True, call.start_point[0],
                                      call.end_point[0]))
    if decorators:
        found.extend(_decorated(root, module, classes, decorators))
    return found


def set_on_variables(root: Node, variables: set[str]) -> set[str]:
    """The module-level `variables` that the module gives attributes by `setattr(name, ...)`,
    `name.__dict__.update(...)`, `vars(name).update(...)` or `name.__dict__[key] = value`,
    at module level or in a function (a local of the same name only makes the object free,
    the safe direction)."""
    found: set[str] = set()
    for node in walk(root):
        if node.type == "call":
            function = text(node.child_by_field_name("function"))
            arguments = node.child_by_field_name("arguments")
            args = list(named_children(arguments)) if arguments is not None else []
            if function == "setattr" and len(args) >= 2:
                found.add(text(args[0]))
            elif function.endswith((".__dict__.update", ".__dict__.setdefault")):
                found.add(function.rsplit(".", 2)[0])
            elif function.startswith("vars(") and function.endswith(").update"):
                found.add(function[len("vars("):-len(").update")].strip())
        elif node.type == "assignment":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "subscript":
                written = text(left.child_by_field_name("value"))
                if written.endswith(".__dict__"):
                    found.add(written.removesuffix(".__dict__"))
    return found & variables


def assigned_on_classes(root: Node, module: str, classes: set[str]) -> list[SetAttribute]:
    """Attributes that assignments in the module write on its classes from outside their
    bodies: `Counter.value = 0` after `class Counter: pass`, at module level or in a
    function (pyparsing's examples keep state that way)."""
    found: list[SetAttribute] = []
    for node in walk(root):
        if node.type != "assignment":
            continue
        for target in _assigned(node.child_by_field_name("left")):
            owner = target.child_by_field_name("object")
            name = target.child_by_field_name("attribute")
            if owner is not None and name is not None and owner.type == "identifier" \
                    and f"{module}.{text(owner)}" in classes:
                found.append(SetAttribute(f"{module}.{text(owner)}", text(name), True,
                                          node.start_point[0], node.end_point[0]))
    return found


def _assigned(left: Node | None) -> list[Node]:
    """The attribute targets of an assignment's left side, tuples unpacked."""
    if left is None:
        return []
    if left.type == "attribute":
        return [left]
    if left.type in ("pattern_list", "tuple_pattern", "list_pattern", "expression_list"):
        return [node for child in named_children(left) for node in _assigned(child)]
    return []


def _decorated(root: Node, module: str, classes: set[str],
               decorators: dict[str, list[tuple[str | None, Node]]]) -> list[SetAttribute]:
    found = []
    for node in walk(root):
        if node.type != "decorated_definition":
            continue
        definition = node.child_by_field_name("definition")
        if definition is None or definition.type != "class_definition":
            continue
        qualname = f"{module}.{class_path(definition)}"
        if qualname not in classes:
            continue
        for decorator in named_children(node):
            if decorator.type != "decorator":
                continue
            expression = text(decorator).lstrip("@").strip()
            for name, call in decorators.get(expression.split("(", 1)[0], []):
                found.append(SetAttribute(qualname, name, True, call.start_point[0],
                                          call.end_point[0]))
    return found


def _literal_name(node: Node) -> str | None:
    name = string_literal_value(node)
    return name if name is not None and name.isidentifier() else None


def _enclosing(node: Node | None, kind: str) -> Node | None:
    """The nearest ancestor of `kind`, not looking past a function or class definition."""
    current = node.parent if node is not None else None
    while current is not None:
        if current.type == kind:
            return current
        if current.type in ("function_definition", "class_definition"):
            return None
        current = current.parent
    return None


def first_parameter(function: Node) -> str:
    """The name of a function's first parameter ("" where it has none)."""
    parameters = function.child_by_field_name("parameters")
    first = next(named_children(parameters), None) if parameters is not None else None
    if first is None:
        return ""
    if first.type == "typed_parameter":
        first = next(named_children(first), None)
    return text(first) if first is not None and first.type == "identifier" else ""
