"""Extract the symbols of one Python module from its tree-sitter parse tree.

Works on partial trees: a file with syntax errors still yields every definition
tree-sitter could recover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from tether.index.deprecations import deprecation_for_definition
from tether.index.dynamic_attributes import (
    SetAttribute,
    assigned_on_classes,
    set_on_classes,
    set_on_self,
    set_on_variables,
)
from tether.index.models import (
    DYNAMIC_ATTRIBUTES,
    METACLASS,
    SLOTTED,
    Parameter,
    Symbol,
    SymbolKind,
)
from tether.index.parameters import parameters_of, rendered_parameters, short_value
from tether.index.parsing import docstring_of, named_children, parse, string_literal_value, text

_CONTAINER_STATEMENTS = ("if_statement", "try_statement", "with_statement", "else_clause",
                         "elif_clause", "except_clause", "finally_clause", "block")
# cheap byte tests before walking the tree for module-level objects given attributes at run
# time (see set_on_variables)
_RUN_TIME_ATTRIBUTE_MARKERS = (b"setattr", b"__dict__", b"vars(")
_FIELD_DECORATORS = ("dataclass", "dataclasses.dataclass", "attr.s", "attrs.define", "define",
                     "attr.attrs", "attrs.frozen", "frozen", "attr.dataclass", "mutable")


@dataclass(slots=True)
class ModuleSymbols:
    module: str
    path: str
    symbols: list[Symbol] = field(default_factory=list)
    exports: list[str] | None = None  # __all__ when statically known
    star_imports: list[str] = field(default_factory=list)
    has_errors: bool = False


def extract_module(source: bytes, path: str, module: str,
                   is_package: bool = False) -> ModuleSymbols:
    tree = parse(source)
    root = tree.root_node
    result = ModuleSymbols(module=module, path=path, has_errors=root.has_error)
    extractor = _Extractor(source, path, module, is_package, result)
    result.symbols.append(Symbol(
        qualname=module, name=module.rsplit(".", 1)[-1], kind=SymbolKind.MODULE, module=module,
        path=path, line=0, end_line=root.end_point[0], doc=docstring_of(root),
    ))
    extractor.visit_block(root, parent=module, in_class=False)
    classes = {s.qualname: s.name for s in result.symbols if s.kind == SymbolKind.CLASS}
    if b"setattr" in source:
        for found in set_on_classes(root, module, set(classes)):
            extractor.add_set_attribute(found)
    names = "|".join(re.escape(name) for qualname, name in classes.items()
                     if qualname == f"{module}.{name}")
    if names and re.search(rf"\b(?:{names})\.\w+\s*=(?!=)".encode(), source):
        for found in assigned_on_classes(root, module, set(classes)):
            extractor.add_set_attribute(found)
    if any(marker in source for marker in _RUN_TIME_ATTRIBUTE_MARKERS):
        _mark_dynamic_variables(root, result.symbols, module)
    return result


def _mark_dynamic_variables(root: Node, symbols: list[Symbol], module: str) -> None:
    """Tag the module-level variables that get attributes at run time DYNAMIC_ATTRIBUTES."""
    variables = [symbol for symbol in symbols
                 if symbol.kind == SymbolKind.VARIABLE and symbol.parent == module]
    marked = set_on_variables(root, {symbol.name for symbol in variables})
    for symbol in variables:
        if symbol.name in marked:
            symbol.decorators = [*symbol.decorators, DYNAMIC_ATTRIBUTES]


class _Extractor:
    def __init__(self, source: bytes, path: str, module: str, is_package: bool,
                 result: ModuleSymbols) -> None:
        self.source = source
        self.path = path
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.result = result
        self._dynamic_classes: dict[str, Symbol] = {}

    def add(self, **kwargs: object) -> Symbol:
        symbol = Symbol(module=self.module, path=self.path, **kwargs)  # type: ignore[arg-type]
        self.result.symbols.append(symbol)
        return symbol

    def visit_block(self, block: Node, parent: str, in_class: bool,
                    class_symbol: Symbol | None = None) -> None:
        for statement in named_children(block):
            self.visit_statement(statement, parent, in_class, class_symbol)

    def visit_statement(self, node: Node, parent: str, in_class: bool,
                        class_symbol: Symbol | None) -> None:
        kind = node.type
        if kind == "decorated_definition":
            definition = node.child_by_field_name("definition")
            if definition is not None:
                self.visit_definition(definition, parent, in_class, _decorators(node))
        elif kind in ("function_definition", "class_definition"):
            self.visit_definition(node, parent, in_class, [])
        elif kind == "expression_statement":
            for child in named_children(node):
                if child.type == "assignment":
                    self.visit_assignment(child, parent, in_class, class_symbol)
        elif kind in ("import_statement", "import_from_statement") and not in_class:
            self.visit_import(node, parent)
        elif kind in _CONTAINER_STATEMENTS or kind == "ERROR":
            for child in named_children(node):
                if child.type == "block" or child.type in _CONTAINER_STATEMENTS:
                    self.visit_block(child, parent, in_class, class_symbol)
                else:
                    self.visit_statement(child, parent, in_class, class_symbol)

    def visit_definition(self, node: Node, parent: str, in_class: bool,
                         decorators: list[str]) -> None:
        name = text(node.child_by_field_name("name"))
        if not name:
            return
        body = node.child_by_field_name("body")
        doc = docstring_of(body)
        qualname = f"{parent}.{name}"
        deprecation = deprecation_for_definition(node, self.source, doc)
        span = {"line": node.start_point[0], "end_line": node.end_point[0]}
        if node.type == "class_definition":
            bases, metaclass = _class_bases(node)
            if metaclass:
                decorators = [*decorators, METACLASS + metaclass]
            symbol = self.add(qualname=qualname, name=name, kind=SymbolKind.CLASS, parent=parent,
                              bases=bases, decorators=decorators, doc=doc,
                              deprecation=deprecation, **span)
            if body is not None:
                self.visit_block(body, qualname, in_class=True, class_symbol=symbol)
            return
        params = parameters_of(node.child_by_field_name("parameters"))
        returns = text(node.child_by_field_name("return_type")) or None
        is_async = any(child.type == "async" for child in node.children)
        kind = SymbolKind.FUNCTION
        if in_class:
            kind = SymbolKind.PROPERTY if _is_property(decorators) else SymbolKind.METHOD
        signature = "(" + ", ".join(rendered_parameters(params)) + ")"
        if returns:
            signature += f" -> {returns}"
        if is_async:
            decorators = [*decorators, "async"]
        self.add(qualname=qualname, name=name, kind=kind, parent=parent, signature=signature,
                 params=params, returns=returns, decorators=decorators, doc=doc,
                 deprecation=deprecation, **span)
        if in_class and body is not None:
            self.collect_instance_attributes(body, parent, params, name)

    def visit_assignment(self, node: Node, parent: str, in_class: bool,
                         class_symbol: Symbol | None) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        annotation = text(node.child_by_field_name("type")) or None
        if left is None:
            return
        names = _target_names(left)
        if names == ["__all__"] and not in_class and right is not None:
            self.result.exports = _string_list(right)
        if in_class and names == ["__slots__"] and right is not None:
            slots = _string_list(right)
            for slot in slots or []:
                self.add(qualname=f"{parent}.{slot}", name=slot, kind=SymbolKind.ATTRIBUTE,
                         parent=parent, line=node.start_point[0], end_line=node.end_point[0])
            if slots is not None and "__dict__" not in slots and class_symbol is not None:
                class_symbol.decorators = [*class_symbol.decorators, SLOTTED]
            return
        if right is not None and right.type == "assignment":
            self.visit_assignment(right, parent, in_class, class_symbol)
            right = right.child_by_field_name("right")
        value = short_value(text(right)) if right is not None else None
        kind = SymbolKind.ATTRIBUTE if in_class else SymbolKind.VARIABLE
        for name in names:  # dunders too: `pkg.__version__`, `Model.__tablename__`
            self.add(qualname=f"{parent}.{name}", name=name, kind=kind, parent=parent,
                     annotation=annotation, value=value, line=node.start_point[0],
                     end_line=node.end_point[0],
                     decorators=["field"] if in_class and annotation and class_symbol
                     and _is_field_class(class_symbol) else [])

    def collect_instance_attributes(self, body: Node, class_qualname: str,
                                    params: list[Parameter], method: str) -> None:
        receiver = "self" if params and params[0].name == "self" else None
        if method == "__new__":
            receiver = _made_by_new(body) or receiver
        if receiver is None:
            return
        # `self.x = x` where the parameter `x` is annotated: the attribute has that type.
        annotated = {p.name: p.annotation for p in params if p.annotation}
        for node in _walk_without_nested_scopes(body):
            found = set_on_self(node, class_qualname, method)
            if found is not None:
                self.add_set_attribute(found)
            if node.type != "assignment":
                continue
            left = node.child_by_field_name("left")
            if left is None:
                continue
            right = text(node.child_by_field_name("right"))
            annotation = text(node.child_by_field_name("type")) or annotated.get(right.strip())
            for target in _attribute_targets(left, receiver):
                self.add(qualname=f"{class_qualname}.{target}", name=target,
                         kind=SymbolKind.ATTRIBUTE, parent=class_qualname,
                         annotation=annotation or None,
                         value=short_value(right) or None,
                         line=node.start_point[0], end_line=node.end_point[0],
                         decorators=["instance"])

    def add_set_attribute(self, found: SetAttribute) -> None:
        """An attribute set at run time (see index.dynamic_attributes): a literal name is an
        attribute; a computed one marks the class."""
        if found.name is not None:
            self.add(qualname=f"{found.owner}.{found.name}", name=found.name,
                     kind=SymbolKind.ATTRIBUTE, parent=found.owner, line=found.line,
                     end_line=found.end_line, decorators=[] if found.on_class else ["instance"])
        else:
            self.mark_dynamic(found)

    def mark_dynamic(self, found: SetAttribute) -> None:
        """Mark a class whose instances (or the class itself) get attributes by computed
        names: a `__dict__` member tagged DYNAMIC_ATTRIBUTES, "instance" unless on the class."""
        marker = self._dynamic_classes.get(found.owner)
        if marker is None:
            self._dynamic_classes[found.owner] = self.add(
                qualname=f"{found.owner}.__dict__", name="__dict__", kind=SymbolKind.ATTRIBUTE,
                parent=found.owner, line=found.line, end_line=found.end_line,
                decorators=[DYNAMIC_ATTRIBUTES] if found.on_class
                else ["instance", DYNAMIC_ATTRIBUTES])
        elif found.on_class and "instance" in marker.decorators:
            marker.decorators.remove("instance")

    def visit_import(self, node: Node, parent: str) -> None:
        line = {"line": node.start_point[0], "end_line": node.end_point[0]}
        if node.type == "import_statement":
            for child in named_children(node):
                if child.type == "aliased_import":
                    target = text(child.child_by_field_name("name"))
                    alias = text(child.child_by_field_name("alias"))
                    self.add(qualname=f"{parent}.{alias}", name=alias, kind=SymbolKind.IMPORT,
                             parent=parent, target=target, **line)
                elif child.type == "dotted_name":
                    target = text(child)
                    head = target.split(".")[0]
                    self.add(qualname=f"{parent}.{head}", name=head, kind=SymbolKind.IMPORT,
                             parent=parent, target=head, value=target, **line)
            return
        module_node = node.child_by_field_name("module_name")
        source_module = self.resolve_relative(text(module_node))
        if any(child.type == "wildcard_import" for child in node.children):
            self.result.star_imports.append(source_module)
            return
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                original = text(child.child_by_field_name("name"))
                alias = text(child.child_by_field_name("alias"))
            else:
                original = alias = text(child)
            if alias:
                self.add(qualname=f"{parent}.{alias}", name=alias, kind=SymbolKind.IMPORT,
                         parent=parent, target=f"{source_module}.{original}", **line)

    def resolve_relative(self, name: str) -> str:
        if not name.startswith("."):
            return name
        dots = len(name) - len(name.lstrip("."))
        rest = name[dots:]
        base_parts = self.package.split(".") if self.package else []
        if dots > 1:
            base_parts = base_parts[: len(base_parts) - (dots - 1)]
        return ".".join([*base_parts, rest] if rest else base_parts)


def _decorators(node: Node) -> list[str]:
    names = []
    for child in node.children:
        if child.type == "decorator":
            expression = next(named_children(child), None)
            if expression is None:
                continue
            if expression.type == "call":
                expression = expression.child_by_field_name("function") or expression
            names.append(text(expression))
    return names


def _is_property(decorators: list[str]) -> bool:
    return any(d in ("property", "cached_property", "functools.cached_property")
               or d.endswith((".setter", ".getter", ".deleter")) for d in decorators)


def _is_field_class(symbol: Symbol) -> bool:
    return any(d in _FIELD_DECORATORS for d in symbol.decorators) or any(
        base.split("[")[0].rsplit(".", 1)[-1] in ("BaseModel", "NamedTuple", "TypedDict")
        for base in symbol.bases)


def _class_bases(node: Node) -> tuple[list[str], str | None]:
    """The class's bases as written, and its `metaclass=` keyword's value."""
    arguments = node.child_by_field_name("superclasses")
    if arguments is None:
        return [], None
    metaclass = next((text(arg.child_by_field_name("value")) for arg in named_children(arguments)
                      if arg.type == "keyword_argument"
                      and text(arg.child_by_field_name("name")) == "metaclass"), None)
    return [text(arg) for arg in named_children(arguments)
            if arg.type not in ("keyword_argument", "comment", "list_splat", "dictionary_splat")
            ], metaclass


def _target_names(node: Node) -> list[str]:
    if node.type == "identifier":
        return [text(node)]
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern", "expression_list"):
        names: list[str] = []
        for child in named_children(node):
            names.extend(_target_names(child))
        return names
    return []


def _attribute_targets(node: Node, receiver: str) -> list[str]:
    if node.type == "attribute":
        obj = node.child_by_field_name("object")
        attr = node.child_by_field_name("attribute")
        if obj is not None and text(obj) == receiver and attr is not None:
            return [text(attr)]
        return []
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern", "expression_list"):
        names: list[str] = []
        for child in named_children(node):
            names.extend(_attribute_targets(child, receiver))
        return names
    return []


def _made_by_new(body: Node) -> str | None:
    """The local a `__new__` binds to the instance it makes (`self = object.__new__(cls)`,
    `obj = super().__new__(cls, *args)`): the attributes it sets on it are the instance's."""
    for node in _walk_without_nested_scopes(body):
        if node.type != "assignment":
            continue
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and left.type == "identifier" and right is not None \
                and right.type == "call" and text(right.child_by_field_name("function")
                                                   ).endswith(".__new__"):
            return text(left)
    return None


def _walk_without_nested_scopes(node: Node) -> list[Node]:
    found: list[Node] = []
    stack = list(node.children)
    while stack:
        current = stack.pop()
        if current.type in ("function_definition", "class_definition", "lambda"):
            continue
        found.append(current)
        stack.extend(current.children)
    found.sort(key=lambda n: n.start_byte)
    return found


def _string_list(node: Node) -> list[str] | None:
    if node.type in ("string", "concatenated_string"):
        value = string_literal_value(node)
        return [value] if value is not None else None
    if node.type not in ("list", "tuple", "parenthesized_expression", "set"):
        return None
    values = []
    for child in named_children(node):
        if child.type == "comment":
            continue
        value = string_literal_value(child)
        if value is None:
            return None
        values.append(value)
    return values
