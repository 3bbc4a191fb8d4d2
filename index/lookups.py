"""Symbol lookups over the stored index: imports followed, inheritance in MRO order."""

from __future__ import annotations

from dataclasses import dataclass, field

from tether.index.installed_packages import InstalledPackages
from tether.index.models import DYNAMIC_ATTRIBUTES, SLOTTED, Deprecation, Symbol, SymbolKind
from tether.index.store import IndexStore

MAX_RESOLVE_DEPTH = 12
# bases that make a class a metaclass: its instances are classes (stdlib ones by last name)
METACLASS_BASES = frozenset({"type", "ABCMeta", "EnumMeta", "EnumType"})


class SymbolLookup:
    def __init__(self, store: IndexStore, installed: InstalledPackages | None = None) -> None:
        """`installed`: the workspace's installed packages, read when a repository class
        inherits from one of their classes (see `gets_attributes_set`)."""
        self.store = store
        self.installed = installed
        self._graph: tuple[int, _ClassGraph] | None = None  # with store.class_generation

    def by_qualname(self, qualname: str) -> list[Symbol]:
        return self.store.symbols_where("s.qualname = ? ORDER BY f.path LIKE '%.pyi' DESC",
                                        (qualname,))

    def by_name(self, name: str, limit: int = 50) -> list[Symbol]:
        return self.store.symbols_where("s.name = ? AND s.kind != 'import' LIMIT ?",
                                        (name, limit))

    def resolve(self, qualname: str, _depth: int = 0) -> Symbol | None:
        """The definition a dotted name refers to, following imports, re-exports, star
        imports and attribute paths (`pkg.mod.Class.method`)."""
        if _depth > MAX_RESOLVE_DEPTH:
            return None
        for symbol in self.by_qualname(qualname):
            if symbol.kind == SymbolKind.IMPORT and symbol.target and symbol.target != qualname:
                resolved = self.resolve(symbol.target, _depth + 1)
                return resolved or symbol
            return symbol
        head, _, last = qualname.rpartition(".")
        if not head:
            return None
        info = self.store.module_info(head)
        if info is not None:
            for star in info[1]:
                found = self.resolve(f"{star}.{last}", _depth + 1)
                if found is not None:
                    return found
            # `head` is the module, even where its package imports a namesake over it
            # (dateutil's `from .isoparser import isoparser`): read as that class, the
            # module's own names led back to the class's bases, endlessly
            return None
        parent = self.resolve(head, _depth + 1)
        if parent is not None and parent.qualname != head:
            if parent.kind == SymbolKind.CLASS:
                return self.member(parent.qualname, last)
            return self.resolve(f"{parent.qualname}.{last}", _depth + 1)
        if parent is not None and parent.kind == SymbolKind.CLASS:
            return self.member(parent.qualname, last)
        return None

    def resolve_in_module(self, module: str, dotted: str) -> Symbol | None:
        """Resolve a name as written inside `module` (a local name, an import alias, or a
        dotted path starting from one)."""
        head, _, rest = dotted.partition(".")
        local = self.resolve(f"{module}.{head}")
        if local is None:
            local = self.resolve(head)
        if local is None or not rest:
            return local
        return self.resolve(f"{local.qualname}.{rest}")

    # -- classes ----------------------------------------------------------------------------

    def mro(self, class_qualname: str) -> list[Symbol]:
        """The class and its repository-defined ancestors in C3 order (external bases are
        left out: their members come from static analysis, not the index)."""
        return self._linearize(class_qualname, set())

    def _linearize(self, qualname: str, visiting: set[str]) -> list[Symbol]:
        classes = [s for s in self.by_qualname(qualname) if s.kind == SymbolKind.CLASS]
        if not classes or qualname in visiting:
            return []
        cls = classes[0]
        visiting = visiting | {qualname}
        base_lists = []
        bases: list[Symbol] = []
        for base_text in cls.bases:
            base = self.resolve_in_module(cls.module, base_text.split("[", 1)[0].strip())
            if base is not None and base.kind == SymbolKind.CLASS:
                bases.append(base)
                base_lists.append(self._linearize(base.qualname, visiting))
        return [cls, *_c3_merge([*base_lists, bases])]

    def marked_dynamic(self) -> set[str]:
        """Classes whose own code sets attributes on them by computed names (the index's
        `__dict__` marker; subclasses inherit it)."""
        return {symbol.parent for symbol in self.store.symbols_where("s.name = '__dict__'")
                if symbol.parent and DYNAMIC_ATTRIBUTES in symbol.decorators}

    def is_metaclass(self, class_qualname: str) -> bool:
        """Whether the class derives from `type`: its instances are classes, with whatever
        attributes each of them defines."""
        return any(_base_name(base) in METACLASS_BASES
                   for cls in self.mro(class_qualname) for base in cls.bases)

    def defines_metaclasses(self) -> bool:
        """Whether any repository class derives from `type` (or ABCMeta, EnumMeta) directly."""
        classes = self.store.symbols_where(
            "s.kind = 'class' AND (s.bases LIKE '%type%' OR s.bases LIKE '%Meta%')")
        return any(_base_name(base) in METACLASS_BASES for cls in classes for base in cls.bases)

    def gets_attributes_set(self, class_qualname: str) -> bool:
        """Whether something outside the class's own body sets attributes on it by computed
        names: its metaclass (`setattr(cls, name, value)` in Django's ModelBase), or a base
        class or metaclass from an installed package that does (index.installed_packages)."""
        for cls in self.mro(class_qualname):
            metaclasses = cls.metaclasses
            for written in [*metaclasses, *cls.bases]:
                name = written.split("[", 1)[0].strip()
                found = self.resolve_in_module(cls.module, name)
                if found is not None and found.kind == SymbolKind.CLASS:
                    if written in metaclasses and any(
                            DYNAMIC_ATTRIBUTES in member.decorators
                            for member in self.class_members(found.qualname)):
                        return True
                    continue  # a repository base: its members are the class's members
                installed = self._imported_name(cls.module, name)
                if installed and self.installed is not None \
                        and self.installed.sets_attributes(installed):
                    return True
        return False

    def _imported_name(self, module: str, written: str) -> str | None:
        """The absolute dotted name an imported name stands for (`models.Model` in a module
        that does `from django.db import models` -> `django.db.models.Model`)."""
        head, _, rest = written.partition(".")
        symbol = self.resolve(f"{module}.{head}")
        if symbol is None or symbol.kind != SymbolKind.IMPORT or not symbol.target:
            return None
        return f"{symbol.target}.{rest}" if rest else symbol.target

    def slotted(self, class_qualname: str) -> bool:
        """Whether instances take no attribute beyond the slots: every class of the MRO lists
        its `__slots__` and every base is a repository class (or `object`, `ABC`, ...)."""
        chain = self.mro(class_qualname)
        return bool(chain) and all(SLOTTED in cls.decorators for cls in chain) \
            and not self._bases_outside(chain)

    def unresolved_bases(self, class_qualname: str) -> list[str]:
        """Bases (anywhere in the MRO) that are not classes of this repository."""
        return self._bases_outside(self.mro(class_qualname))

    def _bases_outside(self, chain: list[Symbol]) -> list[str]:
        missing = []
        for cls in chain:
            for base_text in cls.bases:
                name = base_text.split("[", 1)[0].strip()
                if name in ("object", "Generic", "Protocol", "typing.Generic",
                            "typing.Protocol", "ABC", "abc.ABC"):
                    continue
                base = self.resolve_in_module(cls.module, name)
                if base is None or base.kind != SymbolKind.CLASS:
                    missing.append(base.qualname if base else name)
        return missing

    def class_members(self, class_qualname: str) -> list[Symbol]:
        """Every member visible on the class, nearest definition first, in MRO order."""
        position: dict[str, int] = {}
        members: list[Symbol] = []
        for cls in self.mro(class_qualname):
            for member in self.store.symbols_where("s.parent = ? ORDER BY s.line",
                                                   (cls.qualname,)):
                index = position.get(member.name)
                if index is None:
                    position[member.name] = len(members)
                    members.append(member)
                elif (members[index].parent == member.parent and member.annotation
                      and not members[index].annotation):
                    members[index] = member  # `__slots__` names it, `self.x: T = …` types it
        return members

    def members_of_subclasses(self, class_qualname: str, limit: int = 200) -> set[str]:
        """Members (methods, properties, attributes) the repository's subclasses of a class
        define, directly or further down, or inherit from their other bases: a base class may
        call hooks only its subclasses define (cachetools' `_TimedCache` calls
        `self.expire()`), and a mixin may use what the classes it is mixed with define
        (yaml's `Parser` calls `self.get_token()`, which `Loader(Scanner, Parser, ...)` gets
        from `Scanner`; peewee's `_SqlCipherDatabase` reads `self.connect_params`, which
        `SqlCipherDatabase(_SqlCipherDatabase, SqliteDatabase)` gets from `Database`).
        Classes are found by the names their bases are written with (a namesake only adds
        names); at most `limit` subclasses."""
        graph = self._class_graph()
        subclasses: set[str] = set()
        pending = [class_qualname.rsplit(".", 1)[-1]]
        searched: set[str] = set()
        while pending and len(subclasses) < limit:
            short = pending.pop()
            searched.add(short)
            for qualname, name in graph.by_base.get(short, []):
                if qualname != class_qualname:
                    subclasses.add(qualname)
                    if name not in searched:
                        pending.append(name)
        related = set(subclasses)
        above = [base for subclass in subclasses for base in graph.bases_of.get(subclass, [])]
        climbed: set[str] = set()
        while above and len(related) < 2 * limit:
            short = above.pop()
            if short in climbed:
                continue
            climbed.add(short)
            for qualname in graph.by_name.get(short, []):
                related.add(qualname)
                above.extend(graph.bases_of.get(qualname, []))
        related.discard(class_qualname)
        return self.store.member_names_of(sorted(related), ("method", "property", "attribute"))

    def _class_graph(self) -> _ClassGraph:
        """The repository's classes and the names of their bases, read again only once a
        class or its bases have changed."""
        generation = self.store.class_generation
        if self._graph is None or self._graph[0] != generation:
            graph = _ClassGraph()
            for qualname, name, bases in self.store.class_bases():
                graph.by_name.setdefault(name, []).append(qualname)
                graph.bases_of[qualname] = [_base_name(base) for base in bases]
                for base in graph.bases_of[qualname]:
                    graph.by_base.setdefault(base, []).append((qualname, name))
            self._graph = (generation, graph)
        return self._graph[1]

    def member(self, class_qualname: str, name: str) -> Symbol | None:
        for cls in self.mro(class_qualname):
            found = self.store.symbols_where("s.parent = ? AND s.name = ?",
                                             (cls.qualname, name))
            if found:
                return found[0]
        return None

    # -- modules ----------------------------------------------------------------------------

    def module_exports(self, module: str, public_only: bool = True,
                       respect_all: bool = True) -> list[Symbol]:
        """Names importable from a module: `__all__` when declared (and respected), else its
        top-level names (public ones unless asked otherwise), star imports expanded."""
        info = self.store.module_info(module)
        if info is None:
            return []
        declared, stars = info
        names: dict[str, Symbol] = {}
        for symbol in self.store.symbols_where("s.parent = ? ORDER BY s.line", (module,)):
            names.setdefault(symbol.name, symbol)
        for star in stars:
            for symbol in self.module_exports(star, public_only=True):
                names.setdefault(symbol.name, symbol)
        if declared is not None and respect_all:
            return [names[name] for name in declared if name in names]
        return [s for name, s in names.items() if not (public_only and name.startswith("_"))]

    def star_imported_names(self, module: str) -> frozenset[str] | None:
        """The names `from x import *` lines bind in `module`; None when one of those
        modules is not indexed, so its names are unknown."""
        info = self.store.module_info(module)
        names: set[str] = set()
        for star in info[1] if info is not None else ():
            exported = self.star_exports(star)
            if exported is None:
                return None
            names |= exported
        return frozenset(names)

    def star_exports(self, source: str) -> frozenset[str] | None:
        """The names `from source import *` binds; None when `source`, or a module it
        star-imports in turn, is not indexed."""
        pending, seen = [source], set()
        while pending:
            module = pending.pop()
            if module in seen:
                continue
            seen.add(module)
            info = self.store.module_info(module)
            if info is None:
                return None
            pending.extend(info[1])
        return frozenset(symbol.name for symbol in self.module_exports(source))

    def submodules(self, package: str) -> list[str]:
        rows = self.store.query("SELECT DISTINCT module FROM files WHERE module LIKE ?",
                                (f"{package}.%",))
        depth = package.count(".") + 1
        return sorted({".".join(row["module"].split(".")[: depth + 1]) for row in rows})

    def top_level_modules(self) -> list[str]:
        rows = self.store.query("SELECT DISTINCT module FROM files WHERE module IS NOT NULL")
        return sorted({row["module"].split(".")[0] for row in rows})

    def deprecated_symbols(self) -> list[Symbol]:
        return self.store.symbols_where("s.dep_message IS NOT NULL ORDER BY s.qualname")

    def external_deprecation(self, qualname: str) -> Symbol | None:
        rows = self.store.query("SELECT * FROM external_deprecations WHERE qualname = ?",
                                (qualname,))
        if not rows:
            return None
        row = rows[0]
        module, _, name = qualname.rpartition(".")
        return Symbol(qualname=qualname, name=name, kind=SymbolKind.FUNCTION, module=module,
                      path=f"<{row['distribution']}>",
                      deprecation=Deprecation(row["message"], row["version"],
                                              row["replacement"], row["source"] or "decorator"))


def _c3_merge(sequences: list[list[Symbol]]) -> list[Symbol]:
    result: list[Symbol] = []
    pending = [list(seq) for seq in sequences if seq]
    while pending:
        for seq in pending:
            head = seq[0]
            if not any(head.qualname in (s.qualname for s in other[1:]) for other in pending):
                break
        else:  # inconsistent hierarchy: fall back to depth-first order
            head = pending[0][0]
        result.append(head)
        pending = [[s for s in seq if s.qualname != head.qualname] for seq in pending]
        pending = [seq for seq in pending if seq]
    return result


@dataclass(slots=True)
class _ClassGraph:
    """Classes by short name, the short names of each one's bases, and their inverse."""

    by_name: dict[str, list[str]] = field(default_factory=dict)
    bases_of: dict[str, list[str]] = field(default_factory=dict)
    by_base: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (qualname, name)


def _base_name(written: str) -> str:
    """`abc.ABCMeta` -> `ABCMeta`, `Base[T]` -> `Base`."""
    return written.split("[", 1)[0].strip().rsplit(".", 1)[-1]
