"""Legal identifier sets for identifier positions.

Fast path: the index (receiver members with inheritance, module exports, names in scope,
callee parameters). Fallback: pyright, asked for completions at the position in the buffer
plus the text generated so far. When neither can prove the set, the answer is None and the
position stays unconstrained: valid code is never blocked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from tether.decoding.grounding.call_signatures import keyword_names, pyright_may_know
from tether.decoding.grounding.dynamic_globals import binds_names_at_run_time
from tether.decoding.grounding.error_guards import ATTRIBUTE_ERROR, IMPORT_ERROR, caught_errors
from tether.decoding.grounding.member_rules import (
    INITIALIZERS,
    assigned_above,
    class_access_prior,
    hasattr_guarded,
    is_super,
    narrowed_above,
    overridden_bonus,
    read_in_class,
    statement_function,
)
from tether.decoding.grounding.oracles import MemberFactsOracle, MemberOracle, SignatureOracle
from tether.decoding.grounding.positions import KEYWORDS, STRING_PREFIXES, IdentifierPosition
from tether.index.installed_packages import module_names_in
from tether.index.lookups import SymbolLookup
from tether.index.models import Symbol, SymbolKind
from tether.index.receiver import ReceiverResolver
from tether.index.scope import names_bound_later, names_in_scope

log = logging.getLogger(__name__)
OBJECT_ATTRIBUTES: frozenset[str] = frozenset(dir(object)) | {"__dict__", "__module__"}
CLASS_ATTRIBUTES: frozenset[str] = frozenset(dir(type)) - {"mro"} | {"mro"}
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]*\*", re.MULTILINE)
# A line that so far only names assignment targets (`a = b.c = `): what comes next may be a
# new target, if `=` follows it.
_CHAINED_ASSIGNMENT = re.compile(r"[ \t]*(?:[A-Za-z_][\w.]*[ \t]*=[ \t]*)+")
MODULE_ATTRIBUTES: frozenset[str] = frozenset(
    {"__name__", "__file__", "__doc__", "__path__", "__all__", "__spec__", "__dict__"})


@dataclass(frozen=True, slots=True)
class LegalSet:
    names: frozenset[str]
    source: str  # index | pyright | scope | blind
    deprecated: dict[str, str | None] = field(default_factory=dict)  # name -> replacement
    keyword_params: frozenset[str] | None = None  # argument positions: legal `name=`
    allows_expression: bool = False  # a non-identifier start (literal, bracket) is fine too
    prior: dict[str, float] = field(default_factory=dict)  # log-space ranking bonuses
    # a name outside `names` may be written where `=` follows it (a chained assignment's
    # next target, a new attribute); see Monitor._new_targets
    new_names_assigned: bool = False

    def preferred(self) -> dict[str, str]:
        """Deprecated name -> its replacement, where the replacement is itself legal."""
        return {name: replacement for name, replacement in self.deprecated.items()
                if replacement and replacement in self.names}

    def without_deprecated(self) -> frozenset[str]:
        """The legal names minus deprecated ones that have a legal replacement."""
        return self.names - set(self.preferred())


class LegalSetProvider:
    """Answers legal sets for one document; results are cached per (text, position)."""

    def __init__(self, lookup: SymbolLookup, module: str, path: Path,
                 oracle: MemberOracle | None = None, type_blind: bool = False,
                 open_ended: bool = False,
                 member_probe: MemberFactsOracle | None = None,
                 signature_probe: SignatureOracle | None = None,
                 document: tuple[str, int] | None = None) -> None:
        """`open_ended`: the document ends at the cursor, so the class being edited may
        define more members below it than anyone can see; `self.`/`cls.` there allows what
        is defined above, inherited, or already read in the class body.
        `document`: the whole buffer and the cursor's line, for what is bound below the
        cursor (index.scope.names_bound_later) and the errors caught around it
        (decoding.grounding.error_guards.caught_errors): where AttributeError is caught, members are
        left free; where ImportError is, module names."""
        self.lookup = lookup
        self.open_ended = open_ended
        self.member_probe = member_probe
        self.signature_probe = signature_probe
        self.module = module
        self.path = path
        self.oracle = oracle
        self.type_blind = type_blind
        self.resolver = ReceiverResolver(lookup)
        self.sources: Counter[str] = Counter()
        self._cache: dict[tuple[object, ...], LegalSet | None] = {}
        self._repo_names: frozenset[str] | None = None
        self._dynamic_types: bool | None = None  # any class typed receivers may make free
        self.document = document
        self._bound_later: frozenset[str] | None = None
        self._caught: frozenset[str] | None = None
        self._hooks: dict[str, frozenset[str]] = {}

    def legal_for(self, position: IdentifierPosition, text: str, line: int) -> LegalSet | None:
        """`text` is the whole document up to the position's identifier start (the buffer
        before the cursor plus what was generated); `line` is its last line number."""
        # A receiver's type does not depend on where on the line its member starts.
        column = None if position.kind == "member" else position.column
        key = (position.kind, position.receiver, position.module, position.callee, line, column)
        if key in self._cache:
            return self._cache[key]
        try:
            legal = self._compute(position, text, line)
        except Exception:  # analysis failure: leave the position unconstrained
            log.exception("legal set computation failed at %s:%d", self.path, line)
            legal = None
        self.sources[legal.source if legal else "unknown"] += 1
        self._cache[key] = legal
        return legal

    def _compute(self, position: IdentifierPosition, text: str, line: int) -> LegalSet | None:
        if self.type_blind:
            return self._blind(position)
        if position.kind == "member":
            return self._member(position, text, line)
        if position.kind in ("import_module", "from_module"):
            if IMPORT_ERROR in self._errors_caught():
                return None  # an optional dependency, maybe not installed here
            return self._modules(position.module or "")
        if position.kind == "from_name":
            names = self._from_names(position.module or "", text, line, position)
            if names is not None and position.name_optional:
                return replace(names, allows_expression=True)  # `)` may close the list
            return names
        if position.kind == "argument":
            return self._argument(position, text, line)
        return self._names(position, text, line)

    def _names(self, position: IdentifierPosition, text: str, line: int) -> LegalSet | None:
        """Names in scope where a bare name is read; None where the module's names cannot be
        listed: a star import from a module the index does not hold, or names set through
        `globals()`."""
        starred = self.lookup.star_imported_names(self.module)  # the buffer's own
        if starred is None or binds_names_at_run_time(text):
            return None
        for module in _STAR_IMPORT.findall(text):  # and those written since
            exported = self.lookup.star_exports(self._absolute(module))
            if exported is None:
                return None
            starred |= exported
        # the buffer's own top-level names, defined below the cursor too (the index holds
        # the whole buffer; `text` ends where the identifier starts)
        later = [symbol.name for symbol in self.lookup.module_exports(
            self.module, public_only=False, respect_all=False)]
        scope = names_in_scope(text, line, position.column, later, self._names_bound_around)
        visible = frozenset(name.name for name in scope) | starred | KEYWORDS | STRING_PREFIXES
        chained = _CHAINED_ASSIGNMENT.fullmatch(text[text.rfind("\n") + 1:]) is not None
        return LegalSet(visible, "scope", allows_expression=True, new_names_assigned=chained)

    def _subclass_hooks(self, class_qualname: str) -> frozenset[str]:
        """What `self.` may use in a base class or a mixin: members its subclasses define or
        get from their other bases (pyright rejects them too, but the template-method pattern
        and mixins are valid and common)."""
        hooks = self._hooks.get(class_qualname)
        if hooks is None:
            hooks = self._hooks[class_qualname] = frozenset(
                self.lookup.members_of_subclasses(class_qualname))
        return hooks

    def _names_bound_around(self) -> frozenset[str]:
        """Names the functions around the cursor's nested function, or the loops around
        the cursor, bind below it."""
        if self._bound_later is None:
            self._bound_later = names_bound_later(*self.document) \
                if self.document is not None else frozenset()
        return self._bound_later

    def _errors_caught(self) -> frozenset[str]:
        if self._caught is None:
            self._caught = caught_errors(*self.document) if self.document is not None \
                else frozenset()
        return self._caught

    def _member(self, position: IdentifierPosition, text: str, line: int) -> LegalSet | None:
        column = position.column
        if ATTRIBUTE_ERROR in self._errors_caught():
            return None
        receiver = self.resolver.resolve(self.module, text, line, column)
        starting = statement_function(position.receiver, text)
        slotted = receiver is not None and receiver.enclosing \
            and self.lookup.slotted(receiver.qualname)
        if starting in INITIALIZERS and not slotted:
            return None  # a new attribute, unless `__slots__` lists every one there can be
        if receiver is not None and receiver.dynamic:
            return None  # any name may have been set on it (pyright does not know either)
        legal: LegalSet | None
        if receiver is not None and receiver.known and receiver.complete and not (
                position.receiver is not None and narrowed_above(text, position.receiver)):
            extra = (MODULE_ATTRIBUTES if receiver.kind == "module" else OBJECT_ATTRIBUTES
                     | (CLASS_ATTRIBUTES if receiver.kind == "class" else frozenset()))
            names = frozenset(m.name for m in receiver.members) | extra
            prior = class_access_prior(receiver.members) if receiver.kind == "class" else {}
            legal = LegalSet(names, "index", _deprecations(receiver.members), prior=prior)
        else:
            if (receiver is None or not receiver.known) and self._typed_dynamic(
                    text, line, position):
                return None
            deprecated = _deprecations(receiver.members) if receiver is not None else {}
            legal = self._ask_oracle(text, line, position, deprecated)
            if legal is not None and receiver is not None and receiver.known:
                own = {m.name for m in receiver.members}
                if receiver.kind in ("instance", "class") and not _adds_to(own, legal.names) \
                        and self.lookup.unresolved_bases(receiver.qualname):
                    return None  # pyright could not read the bases either: they are Unknown
                # what only the index reads, e.g. `setattr(Cls, "name", value)`
                legal = replace(legal, names=legal.names | own)
        if legal is not None and starting is not None and not slotted:
            # any method may create an attribute: a new name, if `=` follows it
            legal = replace(legal, new_names_assigned=True)
        if legal is not None and receiver is not None and receiver.enclosing:
            hooks = self._subclass_hooks(receiver.qualname) - legal.names
            legal = replace(legal, names=legal.names | hooks) if hooks else legal
        if legal is not None and is_super(position.receiver):
            bonus = overridden_bonus(text, legal.names)
            legal = replace(legal, prior=_summed(legal.prior, bonus)) if bonus else legal
        if legal is not None and position.receiver:
            guarded = (hasattr_guarded(text, position.receiver)
                       | assigned_above(text, position.receiver)) - legal.names
            legal = replace(legal, names=legal.names | guarded) if guarded else legal
        if legal is not None and receiver is not None and receiver.enclosing \
                and self.open_ended and position.receiver:
            # The class is cut at the cursor: members it already reads count as existing
            # even when they are defined further down (or were, before the cut).
            used = read_in_class(text, position.receiver, receiver.qualname)
            legal = replace(legal, names=legal.names | used)
        return legal

    def _typed_dynamic(self, text: str, line: int, position: IdentifierPosition) -> bool:
        """A receiver only pyright types, whose type (read from its hover on the receiver's
        last character) is a class that gets attributes by computed names, or a metaclass
        (its instances are classes)."""
        if self.oracle is None:
            return False
        if self._dynamic_types is None:
            self._dynamic_types = bool(self.lookup.marked_dynamic()) \
                or self.lookup.defines_metaclasses()
        if not self._dynamic_types:
            return False
        declared = self._declared_type(text, line, position)
        return declared is not None and self.resolver.type_names_dynamic(declared)

    def _declared_type(self, text: str, line: int, position: IdentifierPosition) -> str | None:
        """The receiver's type as pyright's hover on its last character prints it."""
        if self.oracle is None or not position.receiver or position.column < 2:
            return None
        hover = self.oracle.hover(self.path, text, line, position.column - 2)
        return hover.split("\n", 1)[0].partition(": ")[2] if hover else None

    def _ask_oracle(self, text: str, line: int, position: IdentifierPosition,
                    deprecated: dict[str, str | None]) -> LegalSet | None:
        if self.oracle is None:
            return None
        members = self.oracle.member_names(self.path, text, line, position.column)
        if members is None or not getattr(members, "complete", False):
            return None
        names = frozenset(getattr(members, "names", ()))
        if not names:
            return None
        facts = None
        if self.member_probe is not None and position.receiver:
            facts = self.member_probe.member_facts(self.path, text, position.receiver, names)
            if facts is not None and facts.any_name:
                return None  # pyright's checker takes any name here: its list is no proof
        if facts is None and self._declared_type(text, line, position) == "Unknown":
            # Not probed (yet): the list may come from an overload pyright's completion
            # provider picked for an Unknown argument (`uri, _ = urldefrag(url)` lists
            # DefragResult's members), while its checker takes any name.
            return None
        if facts is not None:
            deprecated = {**facts.deprecated, **deprecated}
        return LegalSet(names | OBJECT_ATTRIBUTES, "pyright", deprecated)

    def _modules(self, package: str) -> LegalSet | None:
        if not package:
            names = set(self.lookup.top_level_modules()) | set(sys.stdlib_module_names)
            names |= _installed_top_level()  # the server's own, often the workspace's too
            if self.lookup.installed is not None:
                names |= self.lookup.installed.top_level_names()
            return LegalSet(frozenset(names), "index")
        if self.lookup.store.module_info(package) is None:
            return None  # a third-party package: its layout is not indexed
        return LegalSet(frozenset(sub.rsplit(".", 1)[-1]
                                  for sub in self.lookup.submodules(package)), "index")

    def _from_names(self, module: str, text: str, line: int,
                    position: IdentifierPosition) -> LegalSet | None:
        absolute = self._absolute(module)
        if self.lookup.store.module_info(absolute) is None:
            return self._ask_oracle(text, line, position, {})
        exports = self.lookup.module_exports(absolute, public_only=False, respect_all=False)
        names = {s.name for s in exports}
        names |= {sub.rsplit(".", 1)[-1] for sub in self.lookup.submodules(absolute)}
        return LegalSet(frozenset(names), "index", _deprecations(exports))

    def _argument(self, position: IdentifierPosition, text: str,
                  line: int) -> LegalSet | None:
        """The keywords the call takes: any expression may be written there (a generator's
        variable is bound after its use), but `name=` only with one of them."""
        callee = position.callee or ""
        target = self._callable(callee, text, line)
        keywords = keyword_names(self.lookup, target) if target is not None else None
        source = "index"
        if keywords is None and self.signature_probe is not None \
                and pyright_may_know(self.lookup, target):
            keywords = self.signature_probe.keywords(self.path, text, callee)
            source = "pyright"
        if keywords is None:
            # `**kwargs`, or a signature neither the index nor pyright knows: what is
            # written may be any keyword, so nothing is constrained
            return None
        return LegalSet(keywords, source, keyword_params=keywords, allows_expression=True)

    def _callable(self, callee: str, text: str, line: int) -> Symbol | None:
        head, _, name = callee.rpartition(".")
        if not head:
            symbol = self.lookup.resolve_in_module(self.module, name)
        else:
            probe = f"{text} {head}."  # resolve `head` in the same scope as the call
            last_line = probe.rsplit("\n", 1)[-1]
            receiver = self.resolver.resolve(self.module, probe, line, len(last_line))
            if receiver is None or not receiver.known:
                return None
            symbol = next((m for m in receiver.members if m.name == name), None)
        if symbol is None or symbol.kind not in (SymbolKind.FUNCTION, SymbolKind.METHOD,
                                                 SymbolKind.CLASS):
            return None
        return symbol

    def _absolute(self, module: str) -> str:
        if not module.startswith("."):
            return module
        dots = len(module) - len(module.lstrip("."))
        parts = self.module.split(".")
        is_package = self.path.name == "__init__.py"
        base = parts if is_package else parts[:-1]
        base = base[: len(base) - (dots - 1)] if dots > 1 else base
        rest = module[dots:]
        return ".".join([*base, rest] if rest else base)

    def _blind(self, position: IdentifierPosition) -> LegalSet | None:
        """The type-blind baseline: any identifier defined anywhere in the repository."""
        if position.kind != "member":
            return None
        if self._repo_names is None:
            rows = self.lookup.store.query("SELECT DISTINCT name FROM symbols")
            self._repo_names = frozenset(row[0] for row in rows) | OBJECT_ATTRIBUTES
        return LegalSet(self._repo_names, "blind")


def _summed(prior: dict[str, float], bonus: dict[str, float]) -> dict[str, float]:
    return {**prior, **{name: prior.get(name, 0.0) + amount for name, amount in bonus.items()}}


def _deprecations(symbols: list[Symbol]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for symbol in symbols:
        if symbol.deprecation is not None:
            replacement = symbol.deprecation.replacement
            found[symbol.name] = replacement.rsplit(".", 1)[-1] if replacement else None
    return found


_INSTALLED: frozenset[str] | None = None


def _adds_to(own: set[str], names: frozenset[str]) -> bool:
    """Whether pyright's `names` hold more than the class's own (index) members and what
    every object has."""
    return any(name not in own and name not in OBJECT_ATTRIBUTES
               and not (name.startswith("__") and name.endswith("__")) for name in names)


def _installed_top_level() -> frozenset[str]:
    """Top-level importable names on the server's sys.path, found by listing folders (no
    imports executed)."""
    global _INSTALLED
    if _INSTALLED is None:
        _INSTALLED = module_names_in((Path(entry or ".") for entry in sys.path), (".py", ".so"))
    return _INSTALLED
