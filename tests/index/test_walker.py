"""Tests for the workspace walker, the secret filters and safe text reading."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.index.config import IndexConfig
from tether.index.secrets import is_secret_path, looks_like_secret_content, should_index_content
from tether.index.textfile import SkipReason, decode_buffer, decode_bytes, is_binary, read_source
from tether.index.walker import (
    FileKind,
    WalkReport,
    Workspace,
    classify,
    walk_workspace,
)

# Built at runtime so this file itself never contains a complete token.
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "MIIEowIBAAKCAQEA7bq98s" * 4
    + "\n"
    + "-----END RSA PRIVATE KEY-----\n"
)
AWS_KEY = "AKIA" + "Z3XQ7RT2LMN4PW8K"
GITHUB_TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4Q"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789abc" + "_" + ("aB3dE5fG7hJ9kL1mN3pQ5rS7" * 3)[:59]
SLACK_TOKEN = "xoxb-" + "1234567890-9876543210-aB3dE5fG7hJ9kL1mN3pQ5rS7"
OPENAI_KEY = "sk-" + "proj-aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4Q6w8e0r"
GOOGLE_KEY = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
JWT = (
    "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def rels(
    root: Path, config: IndexConfig | None = None, report: WalkReport | None = None
) -> list[str]:
    return [f.rel for f in walk_workspace(root, config or IndexConfig(), report)]


# --- textfile ---------------------------------------------------------------------------------


def test_read_plain_utf8(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.py", "s = 'é'\r\n"), 1000)
    assert not isinstance(result, SkipReason)
    assert (result.text, result.encoding, result.lossy) == ("s = 'é'\n", "utf-8", False)
    assert result.size == len("s = 'é'\r\n".encode())  # the file's size on disk


def test_read_utf8_bom_is_stripped(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.md", b"\xef\xbb\xbf# Title\n"), 1000)
    assert not isinstance(result, SkipReason)
    assert (result.text, result.encoding, result.lossy) == ("# Title\n", "utf-8-sig", False)


def test_non_utf8_is_decoded_with_replacement(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.txt", b"caf\xe9 \xff\n"), 1000)
    assert not isinstance(result, SkipReason)
    assert result.lossy
    assert result.text == "caf\ufffd \ufffd\n"


def test_python_coding_cookie_is_honoured(tmp_path: Path) -> None:
    data = b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    result = read_source(write(tmp_path, "a.py", data), 1000)
    assert not isinstance(result, SkipReason)
    assert "café" in result.text and not result.lossy


def test_utf16_with_bom_is_text(tmp_path: Path) -> None:
    result = read_source(write(tmp_path, "a.txt", "hello\n".encode("utf-16")), 1000)
    assert not isinstance(result, SkipReason)
    assert result.text == "hello\n" and not result.lossy


def test_binary_detection(tmp_path: Path) -> None:
    assert read_source(write(tmp_path, "a.py", b"abc\x00def"), 1000) is SkipReason.BINARY
    noisy = bytes(range(1, 9)) * 100
    assert read_source(write(tmp_path, "b.py", noisy), 10_000) is SkipReason.BINARY
    assert not is_binary(b"plain text\twith\ttabs\n\x1b[0m")
    assert not is_binary(b"")


def test_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.py", "x" * 100)
    assert read_source(path, 99) is SkipReason.TOO_LARGE
    assert not isinstance(read_source(path, 100), SkipReason)
    assert not isinstance(read_source(path, None), SkipReason)


def test_read_special_paths_never_raise_or_hang(tmp_path: Path) -> None:
    assert read_source(tmp_path / "missing.py", 1000) is SkipReason.MISSING
    assert read_source(tmp_path, 1000) is SkipReason.UNREADABLE
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert read_source(fifo, 1000) is SkipReason.UNREADABLE
    if os.path.exists("/dev/zero"):
        assert read_source("/dev/zero", 1000) is SkipReason.UNREADABLE


def test_read_permission_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.py")

    def deny(*_args: object, **_kwargs: object) -> int:
        raise PermissionError("denied")

    monkeypatch.setattr(os, "open", deny)
    assert read_source(path, 1000) is SkipReason.PERMISSION


def test_decode_buffer() -> None:
    assert decode_buffer("\ufeffx = 1").text == "x = 1"
    broken = decode_buffer("a\ud800b")
    assert broken.lossy and broken.text.encode("utf-8")
    assert decode_buffer(b"caf\xc3\xa9").text == "café"
    assert decode_bytes(b"\xff", python=True).lossy


def test_line_endings_become_newlines_and_lines_keep_their_numbers() -> None:
    assert decode_bytes(b"a = 1\r\nb = 2\r\n").text == "a = 1\nb = 2\n"
    assert decode_bytes(b"a = 1\rb = 2\r\nc = 3\n").text == "a = 1\nb = 2\nc = 3\n"
    assert decode_buffer("x = 1\r\n").text == "x = 1\n"
    assert decode_bytes("# -*- coding: latin-1 -*-\r\nname = 'é'\r\n".encode("latin-1"),
                        python=True).text == "# -*- coding: latin-1 -*-\nname = 'é'\n"


# --- secrets: paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rel",
    [
        ".env", "config/.env.production", ".env.local", "prod.env", "certs/server.pem",
        "tls/server.key", "id_rsa", "home/.ssh/id_rsa.pub", "id_ed25519", "id_ecdsa_sk",
        "store.p12", "cert.pfx", "ca.crt", "ca.cer", "ca.der", "app.jks", "app.keystore",
        ".netrc", ".npmrc", ".pypirc", "credentials", "credentials.json", ".aws/config",
        "a/.aws/credentials", "deploy/.ssh/known_hosts", "secrets.json", "secrets.yaml",
        "config/secrets.yml", "secrets.toml", "secrets.ini", "token.secret", ".git-credentials",
        "service-account.json", "service_account-prod.json", "vault.kdbx", "client_secret.json",
        "Secrets.JSON", "putty.ppk", "terraform.tfstate", "docs/credentials.md",
    ],
)  # fmt: skip
def test_secret_paths(rel: str) -> None:
    assert is_secret_path(rel)


@pytest.mark.parametrize(
    "rel",
    [
        "src/app.py", "google/auth/credentials.py", "pkg/secrets.py", "pkg/secrets.pyi",
        "docs/managing-secrets.md", "keyboard.py", "README.md", "environment.py", "env/x.py",
        "tokens.py", "docs/api_keys.rst", "monkey.txt", "keys/README.md", "", "settings.toml",
    ],
)  # fmt: skip
def test_non_secret_paths(rel: str) -> None:
    assert not is_secret_path(rel)


# --- secrets: content -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        PEM,
        f'KEY = """{PEM}"""',
        "KEY = '" + PEM.replace("\n", "\\n") + "'",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n",
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,AB12\n\n"
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oZrSeJrFv8X1oAoGCCqGSM49\n",
        f'aws_access_key_id = "{AWS_KEY}"',
        f"token = '{GITHUB_TOKEN}'",
        f"TOKEN = {GITHUB_PAT!r}",
        f"SLACK = '{SLACK_TOKEN}'",
        f"client = OpenAI(api_key='{OPENAI_KEY}')",
        f"maps_key = '{GOOGLE_KEY}'",
        f"headers = {{'Authorization': 'Bearer {JWT}'}}",
    ],
)
def test_hard_evidence_flags_even_python(text: str) -> None:
    assert looks_like_secret_content(text, hard_evidence_only=True)
    assert not should_index_content("pkg/settings.py", text)
    assert not should_index_content("docs/setup.md", text)


PYTHON_NEGATIVES = [
    "password = input()",
    "def get_api_key(self) -> str:\n    return self._api_key\n",
    'API_KEY = os.environ["OPENAI_API_KEY"]',
    "token = request.headers.get('Authorization')",
    "if key.startswith('ghp_') or key.startswith('sk-'):\n    pass\n",
    'PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"',
    "secret_key_length = 32\npassword_hash = hashlib.sha256(password).hexdigest()",
    "EXAMPLE_ID = 'AKIAIOSFODNN7EXAMPLE'",
    "url = 'https://github.com/scikit-learn-contrib/sk-learn-extra-long-project-name'",
    "hf_token_from_environment_variable_value = None",
    'SECRET_KEY = "django-insecure-9x2k4m7q1w3e5r8t0y6u"',
]


@pytest.mark.parametrize("text", PYTHON_NEGATIVES)
def test_normal_python_is_not_flagged(text: str) -> None:
    assert should_index_content("pkg/module.py", text)
    assert not looks_like_secret_content(text, hard_evidence_only=True)


@pytest.mark.parametrize(
    "text",
    [
        'password = "Xk9#mP2$vL7qR4wZ8nT1"',
        "api_key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        '{"client_secret": "Zq8Xw3Er5Ty7Ui9Op1As2Df4"}',
        "export DB_PASSWORD=H7jK2mN9pQ4rS6tV8wX1",
        "[database]\npasswd = a1B2c3D4e5F6g7H8i9J0\n",
    ],
)
def test_generic_assignments_flag_config_and_docs_only(text: str) -> None:
    assert looks_like_secret_content(text)
    assert not should_index_content("docs/config.md", text)
    assert not should_index_content("docs/notes.txt", text)
    assert should_index_content("pkg/config.py", text)  # soft evidence never excludes code


@pytest.mark.parametrize(
    "text",
    [
        "password: ${DB_PASSWORD}",
        "api_key: your-api-key-here-1234567",
        'token = "changeme"',
        "password = <your password here 1234>",
        "secret_file: /etc/app/secret/value-2024.txt",
        "token_url: https://example.org/oauth2/token",
        "Call `get_api_key()` to read the key; set `password = input()` interactively.",
        "password = get_password_from_vault()",
        "auth_key = xxxxxxxxxxxxxxxxxxxxxxxx",
        "token = self._fp.read(1)[0]",
        "token_cumsum = tokens_per_item.cumsum(dim=0)",
        '"DebertaV2Tokenizer": DebertaV2Converter,',
        "private_key: PKCS7PrivateKeyTypes,",
        'tokenizer_class = "HiggsAudioV2TokenizerModel"',
        '"NextToken": "9d624e0c-388b-4862-a31e-a85c64fc1d4a"',
        '"SecretArn": "arn:aws:secretsmanager:us-west-2:111122223333:secret:mySecret1"',
        '"AccessKeyId": "TESTACCESSKEY12345",',
        "secret_name = production_database_password_v2",
    ],
)
def test_generic_negatives(text: str) -> None:
    assert not looks_like_secret_content(text)


@pytest.mark.parametrize(
    "text",
    [
        "token" * 200_000,
        " token=" * 140_000,
        "secret:" * 140_000,
        "(" * 1_000_000,
        "-----BEGIN A PRIVATE KEY-----\n" + "a: b: c: d: " * 80_000,
        ("x sk-" + "a" * 60) * 15_000,
    ],
)
def test_content_scan_is_linear_on_hostile_input(text: str) -> None:
    start = time.perf_counter()
    looks_like_secret_content(text)
    assert time.perf_counter() - start < 5


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
