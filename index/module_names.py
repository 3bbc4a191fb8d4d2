"""Dotted module names from a workspace's package layout."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

_SOURCE_ROOTS = ("src", "lib", "python")


def module_name(root: Path, rel: str) -> tuple[str, bool]:
    """The dotted module name of a workspace-relative `.py`/`.pyi` path, and whether it is a
    package (`__init__`).

    The name is rooted at the topmost directory of the unbroken chain of packages
    (directories with `__init__.py`) that contains the file; a file outside any package is
    named from its path, minus a leading source root such as `src/`.
    """
    path = PurePosixPath(rel)
    is_package = path.stem == "__init__"
    parts = list(path.parent.parts)
    package_depth = 0
    for depth in range(len(parts), 0, -1):
        directory = root.joinpath(*parts[:depth])
        if (directory / "__init__.py").exists() or (directory / "__init__.pyi").exists():
            package_depth += 1
        else:
            break
    if package_depth:
        dotted = parts[len(parts) - package_depth:]
    else:
        dotted = parts[1:] if parts and parts[0] in _SOURCE_ROOTS else parts
    if not is_package:
        dotted = [*dotted, path.stem]
    name = ".".join(part for part in dotted if part)
    return (name or path.stem), is_package
