"""The shape of the code: one namespace, layers that import only downwards, no import cycles,
small modules, and a `decoding/` made of subpackages."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("index", "decoding", "lsp_server")  # each may import only the ones before it
MAX_LINES = 400
MAX_DECODING_ROOT_MODULES = 5
BARE = frozenset({"index", "decoding", "lsp_server"})


def modules() -> dict[str, Path]:
    """`tether.<layer>.<...>` module name -> file, for every module of the three layers."""
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT / layer).with_suffix("").parts
            if "tether_package" in parts:
                continue
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            found[".".join(("tether", layer, *parts))] = path
    return found


def imported(path: Path, known: dict[str, Path] | None = None) -> set[str]:
    """Absolute module names a file imports: `from a.b import c` imports the module a.b.c
    where there is one, else a.b."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if known and submodule in known else node.module)
    return names


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {other for other in imported(path, known) if other in known and other != name}
            for name, path in known.items()}


def test_no_module_is_imported_by_a_bare_layer_name() -> None:
    files = [p for p in ROOT.rglob("*.py") if not {".git", "fixtures", "node_modules"} & set(
        p.parts)]
    bare = [f"{path.relative_to(ROOT)}: {name}" for path in files for name in imported(path)
            if name.split(".")[0] in BARE]
    assert bare == [], "import them as tether.<layer>: " + ", ".join(bare)


def test_layers_import_only_downwards() -> None:
    upward = [f"{name} -> {other}" for name, others in graph().items() for other in others
              if LAYERS.index(other.split(".")[1]) > LAYERS.index(name.split(".")[1])]
    assert upward == []


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(edges[name]):
            if state.get(other) == 1:
                cycles.append([*path[path.index(other):], other])
            elif other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == [], " | ".join(" -> ".join(cycle) for cycle in cycles)


def test_modules_stay_small() -> None:
    large = {str(path.relative_to(ROOT)): count for path in modules().values()
             if (count := len(path.read_text().splitlines())) > MAX_LINES}
    assert large == {}


def test_decoding_is_made_of_subpackages() -> None:
    root_modules = [p.name for p in (ROOT / "decoding").glob("*.py") if p.name != "__init__.py"]
    subpackages = [p.name for p in (ROOT / "decoding").iterdir() if (p / "__init__.py").exists()]
    assert len(root_modules) <= MAX_DECODING_ROOT_MODULES, root_modules
    assert len(subpackages) >= 4, subpackages


def test_every_package_is_installed_under_tether() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = setuptools["package-dir"]
    listed = set(setuptools["packages"])
    on_disk = {"tether"} | {
        ".".join(("tether", layer, *init.parent.relative_to(ROOT / layer).parts))
        for layer in LAYERS for init in (ROOT / layer).rglob("__init__.py")
        if "tether_package" not in init.parts}
    assert listed == on_disk
    assert all(mapping[f"tether.{layer}"] == layer for layer in LAYERS)
