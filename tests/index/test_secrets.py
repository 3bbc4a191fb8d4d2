"""The secret filters (index.secrets): secret paths, and content that looks like a secret."""

from __future__ import annotations

import time

import pytest
from support.workspace_files import PEM

from tether.index.secrets import is_secret_path, looks_like_secret_content, should_index_content

# Built at runtime so this file itself never contains a complete token.
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
