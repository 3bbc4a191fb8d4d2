"""The workspace's installed packages, read on demand from their source (nothing is imported
or run): which top-level names they install, and what they do to classes built on theirs.

The index holds the repository's own symbols; a repository class whose base comes from an
installed package (`class Article(models.Model)`) inherits whatever that package does to its
classes. What matters here is one question: does the package set attributes on the class by
computed names, so that nobody can list them statically? Django's `ModelBase` metaclass does
(`setattr(cls, name, value)` gives every model `objects`, `DoesNotExist`, `id`), and neither
the index nor pyright sees those names. The answer is read with the index's own extractor,
following imports and re-exports between the package's modules, and remembered for the life
of the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from tether.index.models import DYNAMIC_ATTRIBUTES, Symbol, SymbolKind
from tether.index.python_symbols import ModuleSymbols, extract_module

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 2_000_000
MAX_HOPS = 32  # imports, bases and metaclasses followed from one class
_MODULE_FILES = (".py", ".so", ".pyd")


class InstalledPackages:
    def __init__(self, site_packages: Callable[[], list[Path]]) -> None:
        """`site_packages`: where the workspace's packages are installed (asked once, when
        first needed)."""
        self._find_site_packages = site_packages
        self._site_packages: list[Path] | None = None
        self._modules: dict[str, ModuleSymbols | None] = {}
        self._answers: dict[str, bool] = {}
        self._top_level: frozenset[str] | None = None
        self._top_level_stamp: tuple[float, ...] = ()

    def top_level_names(self) -> frozenset[str]:
        """Importable top-level names (packages, modules, extensions) in site-packages, listed
        again whenever a site-packages folder changes (a package installed meanwhile)."""
        roots = self._roots()
        stamp = tuple(_mtime(root) for root in roots)
        if self._top_level is None or stamp != self._top_level_stamp:
            self._top_level = module_names_in(roots, _MODULE_FILES)
            self._top_level_stamp = stamp
        return self._top_level

    def _roots(self) -> list[Path]:
        if self._site_packages is None:
            self._site_packages = self._find_site_packages()
        return self._site_packages

    def sets_attributes(self, dotted: str) -> bool:
        """Whether the installed class `dotted` (`django.db.models.Model`), a base of it or
        its metaclass sets attributes on it by computed names."""
        answer = self._answers.get(dotted)
        if answer is None:
            try:
                answer = self._sets_attributes(dotted, set())
            except Exception:  # a package's odd source must never fail a completion
                log.exception("reading the installed class %s failed", dotted)
                answer = False
            self._answers[dotted] = answer
        return answer

    def _sets_attributes(self, dotted: str, seen: set[str]) -> bool:
        found = self._class(dotted, seen)
        if found is None:
            return False
        module, qualname = found
        if any(symbol.parent == qualname and DYNAMIC_ATTRIBUTES in symbol.decorators
               for symbol in module.symbols):
            return True
        cls = self._symbol(module, qualname[len(module.module) + 1:])
        if cls is None:
            return False
        for written in [*cls.metaclasses, *cls.bases]:
            target = self._absolute(module, written.split("[", 1)[0].strip())
            if target is not None and self._sets_attributes(target, seen):
                return True
        return False

    def _class(self, dotted: str, seen: set[str]) -> tuple[ModuleSymbols, str] | None:
        """The module defining the class `dotted` names, through re-exports, and the class's
        qualname there."""
        while dotted not in seen and len(seen) < MAX_HOPS:
            seen.add(dotted)
            located = self._defining_module(dotted)
            if located is None:
                return None
            module, name = located
            symbol = self._symbol(module, name)
            if symbol is not None and symbol.kind == SymbolKind.CLASS:
                return module, symbol.qualname
            head, _, rest = name.partition(".")
            imported = self._symbol(module, head)
            if imported is not None and imported.kind == SymbolKind.IMPORT and imported.target:
                dotted = f"{imported.target}.{rest}" if rest else imported.target
                continue
            star = self._star_source(module, name)
            if star is None:
                return None
            dotted = f"{star}.{name}"
        return None

    def _star_source(self, module: ModuleSymbols, name: str) -> str | None:
        """The star-imported module `name` comes from: one that defines it, else the first
        installed one (it may star-import it in turn)."""
        installed = [(source, found) for source in module.star_imports
                     if (found := self._defining_module(f"{source}.{name}")) is not None]
        for source, found in installed:
            if self._symbol(*found) is not None:
                return source
        return installed[0][0] if installed else None

    def _defining_module(self, dotted: str) -> tuple[ModuleSymbols, str] | None:
        """The longest module prefix of `dotted` that is installed, and the rest."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self._module(".".join(parts[:cut]))
            if module is not None:
                return module, ".".join(parts[cut:])
        return None

    def _absolute(self, module: ModuleSymbols, written: str) -> str | None:
        """A name as written in `module` (`ModelBase`, `models.Model`) as a dotted path."""
        head, _, rest = written.partition(".")
        symbol = self._symbol(module, head)
        if symbol is None:
            return None
        base = symbol.target if symbol.kind == SymbolKind.IMPORT and symbol.target \
            else symbol.qualname
        return f"{base}.{rest}" if rest else base

    @staticmethod
    def _symbol(module: ModuleSymbols, name: str) -> Symbol | None:
        qualname = f"{module.module}.{name}"
        return next((s for s in module.symbols if s.qualname == qualname), None)

    def _module(self, name: str) -> ModuleSymbols | None:
        if name in self._modules:
            return self._modules[name]
        found = None
        relative = Path(*name.split("."))
        for root in self._roots():
            for path, is_package in ((root / relative / "__init__.py", True),
                                     (root / relative.with_suffix(".py"), False)):
                if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                    found = extract_module(path.read_bytes(), str(path), name, is_package)
                    break
            if found is not None:
                break
        self._modules[name] = found
        return found


def module_names_in(folders: Iterable[Path], suffixes: tuple[str, ...]) -> frozenset[str]:
    """Top-level importable names in `folders`, found by listing them (nothing imported):
    packages (folders) and module files with one of `suffixes`."""
    names: set[str] = set()
    for folder in folders:
        try:
            children = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:
            continue
        for child in children:
            stem = child.name.split(".", 1)[0]
            if stem.isidentifier() and (child.is_dir() or child.suffix in suffixes):
                names.add(stem)
    return frozenset(names)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
