"""Deprecations of installed third-party packages: site-packages, dist-info, cached scans."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tether.index import dependencies
from tether.index.dependencies import (
    DependencyDeprecations,
    SitePackagesError,
    distributions_for_imports,
    find_site_packages,
    import_paths,
    workspace_interpreter,
)
from tether.index.models import Deprecation


def write(path: Path, content: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content))
    return path


def dist_info(site: Path, name: str, version: str, top_level: str | None = None,
              record: list[str] | None = None, metadata: bool = True) -> Path:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    if metadata:
        write(info / "METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
                                 "Description: Name: not-a-header\n")
    if top_level is not None:
        write(info / "top_level.txt", top_level)
    write(info / "RECORD", "\n".join(record or []))
    return info


OLD_API = '''\
    """Fake HTTP helpers."""
    import warnings

    from typing_extensions import deprecated


    def get_encodings_from_content(content):
        """Return encodings from given content string.

        .. deprecated:: 2.3
           Use :func:`fakereq.utils.detect_encoding` instead.
        """
        warnings.warn("get_encodings_from_content is deprecated", DeprecationWarning)
        return []


    class Session:
        @deprecated("Session.mount_all is deprecated; use Session.mount")
        def mount_all(self): ...

        def _private(self):
            warnings.warn("use other instead", DeprecationWarning)
    '''


@pytest.fixture
def fake_site(tmp_path: Path) -> Path:
    """A site-packages with one distribution `fake-requests` providing `fakereq`."""
    site = tmp_path / "site-packages"
    package = site / "fakereq"
    write(package / "__init__.py", '''\
        import warnings

        def __getattr__(name):
            if name == "compat_get":
                warnings.warn("compat_get is deprecated, use get", DeprecationWarning)
                return get
            raise AttributeError(name)

        def get(url): ...
        ''')
    write(package / "utils.py", OLD_API)
    write(package / "broken.py", '''\
        @deprecated("use fixed instead")
        def still_found(): ...

        def oops(:
        ''')
    write(package / "_internal.py", '@deprecated("private")\ndef hidden(): ...\n')
    write(package / "_vendor" / "__init__.py", '@deprecated("vendored")\ndef v(): ...\n')
    write(package / "tests" / "test_x.py", '@deprecated("test")\ndef t(): ...\n')
    write(package / "sub" / "__init__.py", '@deprecated("use sub.new")\ndef old(): ...\n')
    write(package / "stubs.pyi", '@deprecated("use z")\ndef y() -> None: ...\n')
    dist_info(site, "fake-requests", "2.3.1", top_level="fakereq\n")
    return site


# -- site-packages -----------------------------------------------------------------------------

def test_workspace_venv_first(tmp_path: Path) -> None:
    posix = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    posix.mkdir(parents=True)
    assert find_site_packages(tmp_path, interpreter="/no/such/python") == [posix]


def test_windows_venv_layout(tmp_path: Path) -> None:
    windows = tmp_path / "venv" / "Lib" / "site-packages"
    windows.mkdir(parents=True)
    assert find_site_packages(tmp_path, None) == [windows]


def test_configured_interpreter(tmp_path: Path) -> None:
    found = find_site_packages(tmp_path, sys.executable)
    assert Path(sysconfig.get_paths()["purelib"]) in found


def test_relative_interpreter_resolved_against_workspace(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "py").symlink_to(sys.executable)
    assert Path(sysconfig.get_paths()["purelib"]) in find_site_packages(tmp_path, "tools/py")


@pytest.mark.parametrize("layout", [(".venv", "bin", "python"),
                                    ("venv", "Scripts", "python.exe")])
def test_the_workspace_venv_is_the_interpreter_for_analysis(tmp_path: Path,
                                                             layout: tuple[str, ...]) -> None:
    python = tmp_path.joinpath(*layout)
    python.parent.mkdir(parents=True)
    python.write_text("")
    assert workspace_interpreter(tmp_path, "/usr/bin/python3") == str(python)


def test_without_a_venv_the_configured_interpreter_or_none(tmp_path: Path) -> None:
    (tmp_path / ".venv").mkdir()  # no interpreter inside: not a venv to run on
    assert workspace_interpreter(tmp_path, "tools/py") == str(tmp_path / "tools" / "py")
    assert workspace_interpreter(tmp_path, None) is None


def test_current_process_fallback(tmp_path: Path) -> None:
    found = find_site_packages(tmp_path, None)
    assert found and all(path.is_dir() for path in found)
    assert Path(sysconfig.get_paths()["purelib"]) in found


def fake_interpreter(tmp_path: Path, script: str) -> str:
    path = write(tmp_path / "fake-python", f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.mark.skipif(os.name == "nt", reason="uses a shell script as the interpreter")
@pytest.mark.parametrize(("script", "error"), [
    ("echo boom >&2; exit 3", r"exited with status 3: boom"),
    ("echo not json", r"printed no site-packages"),
    ("exec sleep 5", r"did not report its site-packages within"),
])
def test_interpreter_failures_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        script: str, error: str) -> None:
    monkeypatch.setattr(dependencies, "INTERPRETER_TIMEOUT_S", 0.5)
    with pytest.raises(SitePackagesError, match=error):
        find_site_packages(tmp_path, fake_interpreter(tmp_path, script))


def test_missing_interpreter_is_clear(tmp_path: Path) -> None:
    with pytest.raises(SitePackagesError, match="cannot run interpreter"):
        find_site_packages(tmp_path, str(tmp_path / "missing-python"))


# -- distributions -----------------------------------------------------------------------------

def test_distributions_from_top_level_and_record(tmp_path: Path, fake_site: Path) -> None:
    dist_info(fake_site, "six", "1.17.0", record=[
        "six.py,sha256=x,100", "six-1.17.0.dist-info/RECORD,,", "__pycache__/six.cpython.pyc,,"])
    dist_info(fake_site, "PyYAML", "6.0.3", record=[
        "yaml/__init__.py,sha256=x,1", "_yaml/__init__.py,,",
        "yaml/_yaml.cpython-311-x86_64-linux-gnu.so,,", "../../bin/tool,,"])
    dist_info(fake_site, "fastext", "0.1", record=["fastext.cpython-311-x86_64-linux-gnu.so,,"])
    dist_info(fake_site, "nometa", "9.9", top_level="nometa\n", metadata=False)
    found = distributions_for_imports(
        ["fakereq", "six", "yaml", "_yaml", "fastext", "nometa", "os", "absent"], [fake_site])
    assert found == {"fakereq": ("fake-requests", "2.3.1"), "six": ("six", "1.17.0"),
                     "yaml": ("PyYAML", "6.0.3"), "_yaml": ("PyYAML", "6.0.3"),
                     "fastext": ("fastext", "0.1"), "nometa": ("nometa", "9.9")}


def test_earlier_site_packages_win(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    dist_info(first, "pkg", "2.0", top_level="pkg\n")
    dist_info(second, "pkg", "1.0", top_level="pkg\n")
    assert distributions_for_imports(["pkg"], [first, second]) == {"pkg": ("pkg", "2.0")}
    assert distributions_for_imports(["pkg"], [tmp_path / "missing"]) == {}


# -- scanning ----------------------------------------------------------------------------------

def test_scan_public_modules(tmp_path: Path, fake_site: Path) -> None:
    scanner = DependencyDeprecations(tmp_path / "cache")
    facts = scanner.scan("fake-requests", "2.3.1", [fake_site / "fakereq"])
    assert sorted(facts) == [
        "fakereq.broken.still_found", "fakereq.compat_get", "fakereq.stubs.y",
        "fakereq.sub.old", "fakereq.utils.Session.mount_all",
        "fakereq.utils.get_encodings_from_content"]
    encodings = facts["fakereq.utils.get_encodings_from_content"]
    assert encodings == Deprecation("get_encodings_from_content is deprecated", "2.3",
                                    "fakereq.utils.detect_encoding", "warning")
    assert facts["fakereq.utils.Session.mount_all"].replacement == "Session.mount"
    assert facts["fakereq.compat_get"].replacement == "get"


def test_second_scan_hits_the_cache(tmp_path: Path, fake_site: Path) -> None:
    first = DependencyDeprecations(tmp_path / "cache")
    facts = first.scan("fake-requests", "2.3.1", [fake_site / "fakereq"])
    assert first.parsed_files == 5
    for path in (fake_site / "fakereq").rglob("*.py"):
        path.unlink()  # a rescan would now find nothing
    second = DependencyDeprecations(tmp_path / "cache")
    assert second.scan("fake-requests", "2.3.1", [fake_site / "fakereq"]) == facts
    assert second.parsed_files == 0
    assert second.scan("fake-requests", "2.4.0", [fake_site / "fakereq"]) == {
        "fakereq.stubs.y": facts["fakereq.stubs.y"]}
    assert second.parsed_files == 1


@pytest.mark.parametrize("corruption", ["{not json", "[]", '{"schema": 1}',
                                        '{"schema": 1, "packages": ["fakereq"], "facts": 3}'])
def test_corrupt_cache_rescans(tmp_path: Path, fake_site: Path, corruption: str) -> None:
    cache = tmp_path / "cache"
    expected = DependencyDeprecations(cache).scan("fake-requests", "2.3.1", [fake_site / "fakereq"])
    (cache_file,) = cache.glob("*.json")
    cache_file.write_text(corruption)
    scanner = DependencyDeprecations(cache)
    assert scanner.scan("fake-requests", "2.3.1", [fake_site / "fakereq"]) == expected
    assert scanner.parsed_files == 5
    assert json.loads(cache_file.read_text())["facts"]  # rewritten


def test_large_and_unreadable_files_skipped(tmp_path: Path, fake_site: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write(fake_site / "fakereq" / "huge.py", '@deprecated("big")\ndef big(): ...\n' + "#" * 300)
    real_read = Path.read_bytes

    def failing_read(path: Path) -> bytes:
        if path.name == "utils.py":
            raise PermissionError("denied")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", failing_read)
    scanner = DependencyDeprecations(tmp_path / "cache", max_file_bytes=200)
    facts = scanner.scan("fake-requests", "2.3.1", [fake_site / "fakereq"])
    assert not any(name.startswith(("fakereq.huge", "fakereq.utils")) for name in facts)
    assert "fakereq.broken.still_found" in facts


def test_single_module_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(site / "oldlib.py", '@deprecated("use newlib.run")\ndef run(): ...\n')
    dist_info(site, "oldlib", "0.3", record=["oldlib.py,,"])
    scanner = DependencyDeprecations(tmp_path / "cache")
    found = scanner.scan_imports(["oldlib", "json"], [site])
    assert found == {"oldlib.run": (Deprecation("use newlib.run", None, "newlib.run",
                                                "decorator"), "oldlib")}


def test_scan_imports_end_to_end(tmp_path: Path, fake_site: Path) -> None:
    assert import_paths("fakereq", [fake_site]) == [fake_site / "fakereq"]
    found = DependencyDeprecations(tmp_path / "cache").scan_imports(["fakereq"], [fake_site])
    fact, dist = found["fakereq.utils.get_encodings_from_content"]
    assert dist == "fake-requests" and fact.version == "2.3"


def test_real_installed_package(tmp_path: Path) -> None:
    """click (installed here as a dependency of the toolchain) deprecates `BaseCommand` in
    favour of `Command` through a module `__getattr__` since 8.2."""
    site_packages = find_site_packages(tmp_path, None)
    dist = distributions_for_imports(["click"], site_packages).get("click")
    if dist is None:
        pytest.skip("click is not installed")
    major, minor = (int(part) for part in re.findall(r"\d+", dist[1])[:2])
    if (major, minor) < (8, 2) or major >= 9:
        pytest.skip(f"click {dist[1]} predates/postdates the BaseCommand deprecation")
    scanner = DependencyDeprecations(tmp_path / "cache")
    found = scanner.scan_imports(["click"], site_packages)
    fact, dist_name = found["click.core.BaseCommand"]
    assert dist_name == "click" and fact.source == "warning"
    assert fact.replacement == "Command" and "deprecated" in fact.message
    assert found["click.core.MultiCommand"][0].replacement == "Group"
    assert scanner.parsed_files > 5
    again = DependencyDeprecations(tmp_path / "cache")
    assert again.scan_imports(["click"], site_packages) == found and again.parsed_files == 0
