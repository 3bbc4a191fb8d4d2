"""The workspace walker (index.walker): classifying paths, walking with ignore rules, and the
checks on each file."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.workspace_files import PEM, write

from tether.index.config import IndexConfig
from tether.index.textfile import SkipReason
from tether.index.walker import FileKind, WalkReport, Workspace, classify, walk_workspace


def rels(
    root: Path, config: IndexConfig | None = None, report: WalkReport | None = None
) -> list[str]:
    return [f.rel for f in walk_workspace(root, config or IndexConfig(), report)]


# --- classify ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("pkg/mod.py", FileKind.PYTHON),
        ("pkg/mod.pyi", FileKind.PYTHON),
        ("docs/guide.md", FileKind.DOCS),
        ("doc/api/index.rst", FileKind.DOCS),
        ("docs/notes.txt", FileKind.DOCS),
        ("docs/page.markdown", FileKind.DOCS),
        ("README.md", FileKind.DOCS),
        ("README", FileKind.DOCS),
        ("readme.rst", FileKind.DOCS),
        ("CHANGELOG.md", FileKind.DOCS),
        ("CHANGES.rst", FileKind.DOCS),
        ("pkg/README.md", None),
        ("notes.md", None),
        ("docs/requirements.txt", None),
        ("docs/logo.png", None),
        ("docs/_build/html/index.txt", None),
        ("data.json", None),
        (".env", None),
        (".venv/lib/site.py", None),
        ("node_modules/x.py", None),
        ("build/lib/x.py", None),
        ("pkg.egg-info/x.py", None),
        (".hidden/x.py", None),
        (".github/scripts/release.py", FileKind.PYTHON),
        ("docs/credentials.md", None),
        ("../outside.py", None),
        ("./pkg//mod.py", FileKind.PYTHON),
    ],
)
def test_classify(rel: str, kind: FileKind | None) -> None:
    assert classify(rel, IndexConfig()) == kind


def test_classify_package_readme_and_custom_config() -> None:
    assert classify("pkg/README.md", IndexConfig(), package_dirs={"pkg"}) is FileKind.DOCS
    config = IndexConfig(excludes=["experiments/", "*_pb2.py"], doc_folders=["site/content/"])
    assert classify("experiments/run.py", config) is None
    assert classify("pkg/api_pb2.py", config) is None
    assert classify("site/content/intro.md", config) is FileKind.DOCS
    assert classify("docs/intro.md", config) is None
    assert classify("build/x.py", IndexConfig(excludes=["!build/"])) is FileKind.PYTHON


# --- walking ----------------------------------------------------------------------------------


def test_walk_kinds_order_and_metadata(tmp_path: Path) -> None:
    for rel in [
        "pkg/__init__.py", "pkg/core.py", "pkg/README.md", "pkg.py", "pkg-extra/a.py",
        "plain/README.md", "README.md", "CHANGELOG.md", "docs/guide.md", "docs/requirements.txt",
        "docs/img.png", "notes.txt", "setup.cfg", "stubs/x.pyi",
    ]:  # fmt: skip
        write(tmp_path, rel)
    report = WalkReport()
    files = list(walk_workspace(tmp_path, IndexConfig(), report))
    names = [f.rel for f in files]
    assert names == sorted(names)
    assert set(names) == {
        "pkg/__init__.py", "pkg/core.py", "pkg/README.md", "pkg.py", "pkg-extra/a.py",
        "README.md", "CHANGELOG.md", "docs/guide.md", "stubs/x.pyi",
    }  # fmt: skip
    first = files[0]
    assert first.path == tmp_path / first.rel
    assert first.size == first.path.stat().st_size and first.mtime_ns > 0
    kinds = {f.rel: f.kind for f in files}
    assert kinds["README.md"] is FileKind.DOCS and kinds["pkg.py"] is FileKind.PYTHON
    assert report.found == len(files)
    assert report.skipped[SkipReason.UNSUPPORTED] == 5


def test_nested_gitignore_with_negation(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.gen.py\nvendor/\n!vendor/keep.py\ndata/**\n!data/keep.py\n")
    write(tmp_path, "pkg/.gitignore", "!special.gen.py\nlocal_*.py\n/anchored.py\n# note\n\n")
    files = [
        "a.gen.py", "anchored.py", "pkg/a.gen.py", "pkg/special.gen.py", "pkg/local_x.py",
        "pkg/sub/local_y.py", "pkg/anchored.py", "pkg/sub/anchored.py", "vendor/keep.py",
        "data/keep.py", "data/other.py", "pkg/ok.py",
    ]  # fmt: skip
    for rel in files:
        write(tmp_path, rel)
    report = WalkReport()
    assert rels(tmp_path, report=report) == [
        "anchored.py", "data/keep.py", "pkg/ok.py", "pkg/special.gen.py", "pkg/sub/anchored.py",
    ]  # fmt: skip
    assert report.skipped[SkipReason.IGNORED] >= 6
    assert "vendor" in report.examples[SkipReason.IGNORED]


def test_git_info_exclude_and_git_dir(tmp_path: Path) -> None:
    write(tmp_path, ".git/info/exclude", "scratch.py\n")
    write(tmp_path, ".git/hooks/pre-commit.py")
    write(tmp_path, "scratch.py")
    write(tmp_path, "main.py")
    assert rels(tmp_path) == ["main.py"]


def test_enclosing_repository_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".gitignore", "*.tmp.py\n/ws/generated/\n")
    write(tmp_path, ".git/info/exclude", "ws/private.py\n")
    ws = tmp_path / "ws"
    for rel in ["a.py", "a.tmp.py", "generated/g.py", "private.py", "sub/generated/ok.py"]:
        write(ws, rel)
    assert rels(ws) == ["a.py", "sub/generated/ok.py"]


def test_enclosing_repository_that_ignores_the_workspace(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".gitignore", "*\n!.gitignore\n")  # a home-directory style repository
    write(tmp_path / "projects" / "ws", "a.py")
    assert rels(tmp_path / "projects" / "ws") == ["a.py"]


def test_config_excludes_and_defaults(tmp_path: Path) -> None:
    for rel in [
        "app.py", "experiments/run.py", "proto/api_pb2.py", "build/lib/app.py", "dist/x.py",
        "node_modules/pkg/x.py", "__pycache__/x.py", "app.egg-info/x.py", "docs/_build/a.txt",
    ]:  # fmt: skip
        write(tmp_path, rel)
    config = IndexConfig(excludes=["experiments/", "*_pb2.py"])
    assert rels(tmp_path, config) == ["app.py"]


def test_virtualenv_and_conda_detection(tmp_path: Path) -> None:
    write(tmp_path, "myenv/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "myenv/lib/python3.11/mod.py")
    write(tmp_path, "tools/conda/conda-meta/history", "")
    write(tmp_path, "tools/conda/lib/mod.py")
    write(tmp_path, "cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55")
    write(tmp_path, "cache/x.py")
    write(tmp_path, "src/app.py")
    report = WalkReport()
    assert rels(tmp_path, report=report) == ["src/app.py"]
    assert {"myenv", "tools/conda", "cache"} <= set(report.examples[SkipReason.IGNORED])


def test_hidden_dirs(tmp_path: Path) -> None:
    for rel in [".hidden/x.py", ".tox/py311/x.py", ".github/scripts/release.py", "a.py"]:
        write(tmp_path, rel)
    assert rels(tmp_path) == [".github/scripts/release.py", "a.py"]


def test_symlinks_never_loop_or_escape(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    write(outside, "leak.py")
    write(ws, "pkg/mod.py")
    (ws / "pkg" / "loop").symlink_to(ws / "pkg", target_is_directory=True)
    (ws / "pkg" / "up").symlink_to("..", target_is_directory=True)
    (ws / "external").symlink_to(outside, target_is_directory=True)
    (ws / "leak.py").symlink_to(outside / "leak.py")
    (ws / "alias.py").symlink_to(ws / "pkg" / "mod.py")
    (ws / "dangling.py").symlink_to(ws / "nowhere.py")
    report = WalkReport()
    assert rels(ws, report=report) == ["alias.py", "pkg/mod.py"]
    assert report.skipped[SkipReason.SYMLINK] == 4
    assert report.skipped[SkipReason.MISSING] == 1


def test_permission_error_on_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "locked/secret_plans.py")
    write(tmp_path, "open/a.py")
    real_scandir = os.scandir

    def guarded(path: str) -> Iterator[os.DirEntry[str]]:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    report = WalkReport()
    assert rels(tmp_path, report=report) == ["open/a.py"]
    assert report.examples[SkipReason.PERMISSION] == ["locked"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores chmod 000")
def test_unreadable_directory_for_real(tmp_path: Path) -> None:
    write(tmp_path, "locked/a.py")
    write(tmp_path, "b.py")
    (tmp_path / "locked").chmod(0)
    try:
        report = WalkReport()
        assert rels(tmp_path, report=report) == ["b.py"]
        assert report.skipped[SkipReason.PERMISSION] == 1
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_files_deleted_during_walk(tmp_path: Path) -> None:
    for rel in ["a.py", "b.py", "pkg1/x.py", "pkg2/y.py"]:
        write(tmp_path, rel)
    report = WalkReport()
    walk = walk_workspace(tmp_path, IndexConfig(), report)
    assert next(walk).rel == "a.py"
    (tmp_path / "b.py").unlink()
    shutil.rmtree(tmp_path / "pkg2")
    assert [f.rel for f in walk] == ["pkg1/x.py"]
    assert report.skipped[SkipReason.MISSING] == 2


def test_missing_root(tmp_path: Path) -> None:
    report = WalkReport()
    assert rels(tmp_path / "nope", report=report) == []
    assert report.skipped[SkipReason.MISSING] == 1


def test_too_large_and_secret_paths_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "big.py", "x" * 500)
    write(tmp_path, "small.py", "x = 1\n")
    write(tmp_path, "docs/credentials.md", "# creds\n")
    write(tmp_path, "docs/secrets.txt", "shh\n")
    write(tmp_path, ".env", "A=1\n")
    report = WalkReport()
    assert rels(tmp_path, IndexConfig(max_file_bytes=100), report) == ["small.py"]
    assert report.examples[SkipReason.TOO_LARGE] == ["big.py"]
    assert report.examples[SkipReason.SECRET] == ["docs/credentials.md", "docs/secrets.txt"]
    assert "1 too_large" in report.summary() and "2 secret" in report.summary()


def test_load_text_content_checks(tmp_path: Path) -> None:
    write(tmp_path, "bin.py", b"\x00\x01\x02")
    write(tmp_path, "latin.py", b"name = 'caf\xe9'\n")
    write(tmp_path, "keys.py", f"KEY = '''{PEM}'''\n")
    write(tmp_path, "docs/setup.md", 'password = "Xk9#mP2$vL7qR4wZ8nT1"\n')
    write(tmp_path, "ok.py", "password = input()\n")
    workspace = Workspace(tmp_path, IndexConfig())
    loaded = {f.rel: workspace.load_text(f) for f in workspace.walk()}
    assert loaded["bin.py"] is None and loaded["keys.py"] is None
    assert loaded["docs/setup.md"] is None
    latin = loaded["latin.py"]
    assert latin is not None and latin.lossy and "\ufffd" in latin.text
    assert loaded["ok.py"] is not None
    report = workspace.report
    assert report.examples[SkipReason.BINARY] == ["bin.py"]
    assert report.examples[SkipReason.SECRET] == ["docs/setup.md", "keys.py"]
    assert report.found == 2


def test_check_file_applies_the_walk_rules(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "ignored/\n")
    write(tmp_path, "pkg/.gitignore", "gen_*.py\n")
    for rel in ["pkg/__init__.py", "pkg/README.md", "pkg/gen_a.py", "ignored/x.py"]:
        write(tmp_path, rel)
    write(tmp_path, "env1/pyvenv.cfg", "")
    write(tmp_path, "env1/lib/x.py")
    write(tmp_path, "big.py", "x" * 50)
    workspace = Workspace(tmp_path, IndexConfig(max_file_bytes=10))
    found = workspace.check_file(tmp_path / "pkg" / "__init__.py")
    assert not isinstance(found, SkipReason) and found.rel == "pkg/__init__.py"
    readme = workspace.check_file("pkg/README.md")
    assert not isinstance(readme, SkipReason) and readme.kind is FileKind.DOCS
    assert workspace.check_file("pkg/gen_a.py") is SkipReason.IGNORED
    assert workspace.check_file("ignored/x.py") is SkipReason.IGNORED
    assert workspace.check_file("env1/lib/x.py") is SkipReason.IGNORED
    assert workspace.check_file("big.py") is SkipReason.TOO_LARGE
    assert workspace.check_file("pkg/deleted.py") is SkipReason.MISSING
    assert workspace.check_file(tmp_path.parent / "elsewhere.py") is SkipReason.IGNORED
    write(tmp_path, "pkg/.gitignore", "")
    workspace.invalidate()
    assert not isinstance(workspace.check_file("pkg/gen_a.py"), SkipReason)
