"""Installed packages' classes read from source (index.installed_packages): a repository class
inherits attributes an installed metaclass or base sets on it, so it is left unconstrained."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.decoding.grounding.legal_sets import LegalSetProvider
from tether.decoding.grounding.position_reader import position_at_end
from tether.index.config import IndexConfig
from tether.index.installed_packages import InstalledPackages
from tether.index.receiver import ReceiverResolver
from tether.index.workspace import WorkspaceIndex

INSTALLED = {
    # re-exported from the package, as `django.db.models.Model` is
    "fakeorm/__init__.py": "from fakeorm.base import Model\nfrom .empty import *\n"
                           "from .forms import *\n",
    "fakeorm/empty.py": "VERSION = 1\n",  # a star import that does not hold the name
    "fakeorm/base.py": """
        class ModelBase(type):
            def add_to_class(cls, name, value):
                setattr(cls, name, value)


        class Model(metaclass=ModelBase):
            def save(self):
                pass
    """,
    "fakeorm/forms.py": """
        class Form:
            def clean(self):
                pass


        class View:
            def __init__(self, **options):
                for key, value in options.items():
                    setattr(self, key, value)


        class DetailView(View):
            pass
    """,
}

REPOSITORY = {
    "app/__init__.py": "",
    "app/models.py": """
        from fakeorm import Model, Form
        import fakeorm


        class Article(Model):
            title = ""


        class Draft(Article):
            pass


        class Signup(Form):
            email = ""


        class Page(fakeorm.DetailView):
            pass
    """,
}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, source in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    write(site, INSTALLED)
    return site


@pytest.mark.parametrize(("dotted", "sets"), [
    ("fakeorm.Model", True),  # through the re-export, to the metaclass
    ("fakeorm.base.Model", True),
    ("fakeorm.Form", False),  # through the second star import; a plain class
    ("fakeorm.DetailView", True),  # inherits setattr(self, key, value)
    ("fakeorm.Missing", False),
    ("not_installed.Model", False),
])
def test_installed_classes_that_get_attributes_set(site: Path, dotted: str, sets: bool) -> None:
    assert InstalledPackages(lambda: [site]).sets_attributes(dotted) is sets


def test_a_package_that_cannot_be_read_answers_no(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    write(site, {"broken/__init__.py": "class Model(metaclass=\n"})
    (site / "odd").mkdir()
    (site / "odd" / "__init__.py").write_bytes(b"\xff\xfe class X: pass")
    classes = InstalledPackages(lambda: [site])
    assert not classes.sets_attributes("broken.Model")
    assert not classes.sets_attributes("odd.X")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[WorkspaceIndex]:
    root = tmp_path / "repo"
    write(root, REPOSITORY)
    write(root / ".venv" / "lib" / "python3.11" / "site-packages", INSTALLED)
    index = WorkspaceIndex(root, IndexConfig(cache_dir=tmp_path / "cache", embeddings=False))
    index.index_all(embeddings=False)
    yield index
    index.close()


@pytest.mark.parametrize(("expression", "dynamic"), [
    ("Article", True),  # `Article.objects`: the installed metaclass sets it
    ("Article()", True),
    ("Draft", True),  # inherited through a repository class
    ("Signup()", False),
    ("Page()", True),  # `import fakeorm` / `fakeorm.DetailView`
])
def test_repository_classes_on_installed_bases(workspace: WorkspaceIndex, expression: str,
                                               dynamic: bool) -> None:
    source = (workspace.root / "app" / "models.py").read_text() + f"\n\ndef f():\n    {expression}."
    lines = source.split("\n")
    receiver = ReceiverResolver(workspace.lookup).resolve("app.models", source, len(lines) - 1,
                                                          len(lines[-1]))
    assert receiver is not None and receiver.known
    assert receiver.dynamic is dynamic


def test_top_level_names_are_listed_again_after_an_install(site: Path) -> None:
    (site / "single.py").write_text("")
    (site / "fast.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    (site / "fakeorm-1.0.dist-info").mkdir()
    packages = InstalledPackages(lambda: [site])
    assert {"fakeorm", "single", "fast"} <= packages.top_level_names()
    assert "fakeorm-1" not in packages.top_level_names()
    (site / "late").mkdir()
    os.utime(site, (1, 1))  # the folder's mtime changes with the install
    assert "late" in packages.top_level_names()


def test_import_positions_offer_the_workspace_venvs_packages(workspace: WorkspaceIndex) -> None:
    """The server may run in its own environment (pipx): `import fakeorm` must still be
    possible where the workspace's venv installs it."""
    head = "import "
    provider = LegalSetProvider(workspace.lookup, "app.run", workspace.root / "app" / "run.py")
    position = position_at_end(head)
    assert position is not None and position.kind == "import_module"
    legal = provider.legal_for(position, head, 0)
    assert legal is not None and {"fakeorm", "app", "json"} <= legal.names
