"""Static deprecation extraction: decorators, warnings, docstrings, message parsing."""

from __future__ import annotations

import textwrap

import pytest
from tree_sitter import Node

from tether.index.deprecation_text import parse_replacement, parse_version
from tether.index.deprecations import deprecation_for_definition
from tether.index.models import Deprecation
from tether.index.module_deprecations import module_deprecations
from tether.index.parsing import docstring_of, parse, text


def facts_of(code: str, module: str = "m") -> dict[str, Deprecation]:
    source = textwrap.dedent(code).encode()
    return module_deprecations(parse(source).root_node, source, module)


def fact_of(code: str, qualname: str) -> Deprecation:
    found = facts_of(code)
    assert qualname in found, f"{qualname} not in {sorted(found)}"
    return found[qualname]


def find_definition(root: Node, name: str) -> Node:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in ("function_definition", "class_definition") and text(
                node.child_by_field_name("name")) == name:
            return node
        stack.extend(node.children)
    raise AssertionError(name)


# -- decorators --------------------------------------------------------------------------------

@pytest.mark.parametrize(("decorator", "message", "version", "replacement"), [
    ('@deprecated("use new_api instead")', "use new_api instead", None, "new_api"),
    ('@typing_extensions.deprecated("Since 2.1; use `pkg.fresh()`")', None, "2.1", "pkg.fresh"),
    ('@warnings.deprecated("old is deprecated in favour of fresh")', None, None, "fresh"),
    ('@typing.deprecated("replaced by :func:`api.v2`")', None, None, "api.v2"),
    ('@deprecated(reason="Use `other`", version="1.2.0")', "Use `other`", "1.2.0", "other"),
    ('@deprecation.deprecated(deprecated_in="2.0", removed_in="3.0",\n'
     '                        details="Use the bar function instead")', None, "2.0", "bar"),
    ('@_api.deprecated("3.6", alternative="new_func")', None, "3.6", "new_func"),
    ("@deprecated", "deprecated", None, None),
])
def test_decorator_forms(decorator: str, message: str | None, version: str | None,
                         replacement: str | None) -> None:
    fact = fact_of(f"{decorator}\ndef old(x):\n    return x\n", "m.old")
    assert fact.source == "decorator"
    assert (fact.version, fact.replacement) == (version, replacement)
    if message is not None:
        assert fact.message == message


def test_definition_node_or_decorated_node_both_work() -> None:
    source = b'@property\n@deprecated("use b instead")\ndef a(self):\n    """Doc."""\n'
    root = parse(source).root_node
    definition = find_definition(root, "a")
    decorated = root.named_children[0]
    for node in (definition, decorated):
        fact = deprecation_for_definition(node, source, "Doc.")
        assert fact is not None and fact.replacement == "b"
    plain = b"def a():\n    pass\n"
    assert deprecation_for_definition(find_definition(parse(plain).root_node, "a"), plain,
                                      None) is None


def test_unrelated_decorators_ignored() -> None:
    assert facts_of('@cache\n@app.route("/deprecated")\ndef f():\n    pass\n') == {}


# -- warnings.warn -------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    'warnings.warn("f is deprecated; use g instead", DeprecationWarning)',
    'warnings.warn("f is deprecated; use g instead", DeprecationWarning, stacklevel=2)',
    'warnings.warn("f is deprecated; use g instead", category=DeprecationWarning, stacklevel=3)',
    'warn("f is deprecated; use g instead", PendingDeprecationWarning)',
    'warnings.warn(message="f is deprecated; use g instead", category=FutureWarning)',
    'warnings.warn(DeprecationWarning("f is deprecated; use g instead"))',
    'warnings.warn("f is deprecated; " "use g instead", MyLibDeprecationWarning)',
    'warnings.warn(("f is deprecated; "\n        "use g instead"), DeprecationWarning)',
    'warnings.warn(f"{__name__}.f is deprecated; use g instead", DeprecationWarning)',
    'warnings.warn("%s is deprecated; use g instead" % "f", DeprecationWarning)',
    'warnings.warn("{} is deprecated; use g instead".format("f"), DeprecationWarning)',
    'warnings.warn("f is " + "deprecated; use g instead", DeprecationWarning)',
    'msg = "f is deprecated; use g instead"\n    warnings.warn(msg, DeprecationWarning)',
])
def test_warning_forms(call: str) -> None:
    code = f"import warnings\nfrom warnings import warn\n\ndef f():\n    {call}\n    return 1\n"
    fact = fact_of(code, "m.f")
    assert fact.source == "warning" and fact.replacement == "g"
    assert "deprecated" in fact.message


def test_warning_message_text_recovered() -> None:
    fact = fact_of('''
        def f(x):
            warnings.warn(f"f({x!r}) is deprecated since 1.4, "
                          "use `g` instead.\\n", DeprecationWarning, stacklevel=2)
        ''', "m.f")
    assert fact.message == "f({x!r}) is deprecated since 1.4, use `g` instead."
    assert (fact.version, fact.replacement) == ("1.4", "g")


@pytest.mark.parametrize("body", [
    'warnings.warn("use g instead", UserWarning)',
    'warnings.warn("use g instead")',
    'logger.warning("f is deprecated, use g", DeprecationWarning)',
    'if x is not None:\n        warnings.warn("the x argument is deprecated", DeprecationWarning)',
    'warnings.warn(message, DeprecationWarning, stacklevel=2)',
])
def test_not_a_function_deprecation(body: str) -> None:
    assert facts_of(f"def f(x=None, message=''):\n    {body}\n") == {}


def test_conditional_warning_naming_the_function_counts() -> None:
    fact = fact_of('''
        def f():
            if not _QUIET:
                warnings.warn("f() is deprecated, call g() instead", DeprecationWarning)
        ''', "m.f")
    assert fact.replacement == "g"


def test_deprecation_helpers_are_not_deprecated_themselves() -> None:
    assert facts_of('''
        def _warn_deprecated(name):
            warnings.warn(f"{name} is deprecated", DeprecationWarning, stacklevel=3)
        ''') == {}


def test_nested_def_not_attributed_to_parent() -> None:
    found = facts_of('''
        def outer():
            def inner():
                warnings.warn("inner is deprecated; use other", DeprecationWarning)
            class Local:
                @deprecated("gone")
                def method(self): ...
            handler = lambda: warnings.warn("deprecated", DeprecationWarning)
            return inner
        ''')
    assert found == {}


# -- docstrings --------------------------------------------------------------------------------

@pytest.mark.parametrize(("doc", "version", "replacement"), [
    ("Fetch.\n\n.. deprecated:: 1.2\n   Use :meth:`Client.fetch_all` instead.\n", "1.2",
     "Client.fetch_all"),
    ("Fetch.\n\n.. deprecated:: 1.2 Use X instead.\n", "1.2", "X"),
    ("Fetch.\n\nDeprecated\n----------\nUse `fetch_all` instead, since 0.9.\n\nReturns\n-------\n",
     "0.9", "fetch_all"),
    ("Fetch.\n\nDeprecated:\n    Since 3.0. Please use ``fetch_all()``.\n\nArgs:\n    x: y\n",
     "3.0", "fetch_all"),
    ("Deprecated: use fetch_all instead.", None, "fetch_all"),
    ("DEPRECATED since 2.0 - superseded by `fetch_all`.", "2.0", "fetch_all"),
    ("This function is deprecated. Use fetch_all.", None, "fetch_all"),
])
def test_docstring_forms(doc: str, version: str | None, replacement: str | None) -> None:
    indented = textwrap.indent(doc, "    ")
    fact = fact_of(f'def fetch():\n    """{indented.strip()}\n    """\n', "m.fetch")
    assert (fact.source, fact.version, fact.replacement) == ("docstring", version, replacement)


@pytest.mark.parametrize("doc", [
    "Deprecated attribute descriptor.",
    "Handle deprecated options.\n\nParameters\n----------\nx : int\n    Value.\n\n"
    "    .. deprecated:: 2.0\n        Passing x is deprecated.\n",
    "Return True if the name is deprecated.",
])
def test_docstrings_that_are_not_deprecations(doc: str) -> None:
    assert facts_of(f'def f(x):\n    """{doc}"""\n') == {}


def test_sources_merge_decorator_first() -> None:
    fact = fact_of('''
        @deprecated("use g instead")
        def f():
            """Old.

            .. deprecated:: 4.2
            """
        ''', "m.f")
    assert (fact.source, fact.replacement, fact.version) == ("decorator", "g", "4.2")


# -- classes and modules -----------------------------------------------------------------------

def test_class_and_method_deprecations() -> None:
    found = facts_of('''
        @deprecated("Use NewClient instead")
        class OldClient:
            def ok(self): ...

        class Client:
            """A client."""

            @deprecated("get is deprecated since 2.0, use fetch instead")
            def get(self): ...

            @property
            def total(self):
                warnings.warn("total is deprecated; use `Client.sum`", DeprecationWarning)

            @total.setter
            @deprecated("setting total is deprecated")
            def total(self, value): ...

            class Inner:
                @deprecated("use b")
                def a(self): ...

        class Legacy:
            def __init__(self):
                warnings.warn("Legacy is deprecated, use Modern", DeprecationWarning)
        ''', module="pkg.mod")
    assert found["pkg.mod.OldClient"].replacement == "NewClient"
    assert "pkg.mod.OldClient.ok" not in found and "pkg.mod.Client" not in found
    assert found["pkg.mod.Client.get"] == Deprecation(
        "get is deprecated since 2.0, use fetch instead", "2.0", "fetch", "decorator")
    assert found["pkg.mod.Client.total"].replacement == "Client.sum"
    assert found["pkg.mod.Client.total"].source == "warning"
    assert found["pkg.mod.Client.Inner.a"].replacement == "b"
    assert found["pkg.mod.Legacy"].replacement == "Modern"
    assert found["pkg.mod.Legacy.__init__"].replacement == "Modern"


def test_overloads_do_not_deprecate_the_name() -> None:
    found = facts_of('''
        @overload
        @deprecated("str input is deprecated")
        def f(x: str) -> str: ...
        @overload
        def f(x: int) -> int: ...
        def f(x): return x
        ''')
    assert found == {}


def test_module_level_warning_marks_module() -> None:
    found = facts_of('''
        """Old helpers."""
        import warnings

        warnings.warn(
            "pkg.compat is deprecated since 3.0; use pkg.modern instead",
            DeprecationWarning,
            stacklevel=2,
        )

        def helper(): ...
        ''', module="pkg.compat")
    assert found == {"pkg.compat": Deprecation(
        "pkg.compat is deprecated since 3.0; use pkg.modern instead", "3.0", "pkg.modern",
        "warning")}


def test_module_level_conditional_warning_is_not_module_deprecation() -> None:
    assert facts_of('''
        if sys.version_info < (3, 9):
            warnings.warn("Python 3.8 support is deprecated", DeprecationWarning)
        ''', module="pkg.core") == {}


def test_module_docstring_deprecation() -> None:
    found = facts_of('"""Old API.\n\n.. deprecated:: 0.5\n   Use :mod:`pkg.v2`.\n"""\n', "pkg.v1")
    assert found["pkg.v1"].replacement == "pkg.v2" and found["pkg.v1"].version == "0.5"


def test_module_getattr_patterns() -> None:
    found = facts_of('''
        import warnings

        _RENAMED = {"old_map": "new_map", "old_set": "new_set"}

        def __getattr__(name: str):
            if name == "OldThing":
                warnings.warn("OldThing is deprecated; use NewThing", DeprecationWarning)
                return NewThing
            elif name in ("alpha", "beta"):
                warnings.warn(f"{__name__}.{name} is deprecated since 1.1", FutureWarning)
                return 1
            if name in _RENAMED:
                warnings.warn(f"{name} is deprecated", DeprecationWarning, stacklevel=2)
                return globals()[_RENAMED[name]]
            if name == "quiet":
                return 2
            raise AttributeError(name)
        ''', module="lib")
    assert found["lib.OldThing"].replacement == "NewThing"
    assert found["lib.alpha"].message == "lib.alpha is deprecated since 1.1"
    assert found["lib.beta"].version == "1.1"
    assert found["lib.old_map"].replacement == "new_map"
    assert found["lib.old_set"].message == "old_set is deprecated"
    assert "lib.quiet" not in found and "lib.__getattr__" not in found and "lib" not in found


def test_module_getattr_warning_for_everything_marks_module() -> None:
    found = facts_of('''
        def __getattr__(name):
            warnings.warn("dep_util is deprecated. Use pkg.modern instead.", DeprecationWarning)
            return getattr(modern, name)
        ''', module="pkg.dep_util")
    assert list(found) == ["pkg.dep_util"]
    assert found["pkg.dep_util"].replacement == "pkg.modern"


def test_syntax_errors_keep_other_facts() -> None:
    found = facts_of('''
        @deprecated("use b")
        def a(): ...

        def broken(:
            pass

        class K:
            def m(self):
                warnings.warn("m is deprecated, use n", DeprecationWarning)
        ''')
    assert found["m.a"].replacement == "b"
    assert found["m.K.m"].replacement == "n"


def test_docstring_of_real_definition_is_used() -> None:
    source = b'def f():\n    """Deprecated: use g."""\n'
    node = find_definition(parse(source).root_node, "f")
    doc = docstring_of(node.child_by_field_name("body"))
    fact = deprecation_for_definition(node, source, doc)
    assert fact is not None and fact.replacement == "g"


# -- message parsing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("message", "expected"), [
    ("use add_item instead", "add_item"),
    ("Use `Cart.add_item` instead.", "Cart.add_item"),
    ("old is deprecated in favour of new_thing", "new_thing"),
    ("old is deprecated in favor of `pkg.new_thing`.", "pkg.new_thing"),
    ("This was replaced by :func:`pkg.mod.fn`", "pkg.mod.fn"),
    ("Use :meth:`~pkg.Client.fetch` instead", "pkg.Client.fetch"),
    ("please use 'fetch_all' from now on", "fetch_all"),
    ("spam() is deprecated; use eggs()", "eggs"),
    ("spam() is deprecated; use eggs(strict=True) instead", "eggs"),
    ("The Foo class was renamed to Bar.", "Bar"),
    ("Migrate to pkg.v2.Client.", "pkg.v2.Client"),
    ("open_file is deprecated, call open_path instead", "open_path"),
    ('Use "np.vstack" directly.', "np.vstack"),
    ("Use of `foo` is deprecated; use `bar` instead", "bar"),
    ("Deprecated since 2.0. Use the new ``render`` function.", "render"),
    ("use total instead", "total"),
    ("Use NewClient.", "NewClient"),
    ("This will be removed in a future release", None),
    ("This will be removed", None),
    ("deprecated", None),
    ("Use something else instead", None),
    ("Please use a different method", None),
    ("Use feature detection or the metadata instead", None),
    ("Use the new API", None),
    ("use {new_name} instead", None),
    ("see https://example.com/migration", None),
    ("Use platform-agnostic type inference instead", None),
    ("It is used internally", None),
])
def test_parse_replacement(message: str, expected: str | None) -> None:
    assert parse_replacement(message) == expected


@pytest.mark.parametrize(("message", "expected"), [
    ("deprecated since 2.0", "2.0"),
    ("Deprecated in version 1.3: use b", "1.3"),
    ("add is deprecated in 3.1, use add_item", "3.1"),
    ("deprecated since version 0.9.1", "0.9.1"),
    ("Deprecated since Click 8.2 and will be removed", "8.2"),
    ("deprecated as of v4.0rc1", "4.0rc1"),
    ("(deprecated in NumPy 2.0)", "2.0"),
    ("Since 1.5, use b", "1.5"),
    ("will be removed in 4.0", None),
    ("deprecated and will be removed in version 3.0", None),
    ("deprecated in favour of b", None),
    ("use b instead", None),
])
def test_parse_version(message: str, expected: str | None) -> None:
    assert parse_version(message) == expected
