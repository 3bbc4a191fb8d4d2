"""Keep credentials out of the index: first by path, then by content once a file is read.

Two strengths of content evidence:

* hard evidence: private key blocks and known token formats with the right length and a random
  looking body. It excludes any file, Python source included.
* soft evidence: a `password = "..."` / `api_key: ...` style assignment whose value is a long,
  high-entropy literal. It only excludes config-like and text files, never ordinary source code,
  where such names are everywhere (`password = input()`, `def get_api_key(self)`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath

__all__ = ["is_secret_path", "looks_like_secret_content", "should_index_content"]

_SECRET_DIRS = frozenset(
    {".ssh", ".aws", ".gnupg", ".azure", ".kube", ".docker", ".password-store", ".secrets"}
)
_SECRET_NAMES = frozenset(
    {
        ".env",
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".htpasswd",
        ".pgpass",
        ".dockercfg",
        ".boto",
        ".s3cfg",
        ".vault-token",
        "terraform.tfvars",
    }
)
_SECRET_PREFIXES = (".env.", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
_SECRET_SUFFIXES = frozenset(
    {
        ".pem", ".key", ".p12", ".pfx", ".pkcs12", ".p8", ".crt", ".cer", ".der", ".jks",
        ".keystore", ".kdbx", ".kdb", ".ppk", ".secret", ".secrets", ".env", ".tfstate",
    }
)  # fmt: skip
_CONFIG_SUFFIXES = frozenset(
    {".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".properties", ".xml", ".txt"}
)
# Source files named like credentials are usually code about credentials (google.auth's
# `credentials.py`, botocore's `credentials.py`): only the content check applies to them.
_CODE_SUFFIXES = frozenset({".py", ".pyi", ".pyw", ".pyx", ".ipynb"})
_SERVICE_ACCOUNT = re.compile(r"service[-_]?account.*\.json")


def is_secret_path(rel_path: str) -> bool:
    """True when the path alone says the file holds credentials (case-insensitive)."""
    parts = [p for p in rel_path.replace("\\", "/").lower().split("/") if p not in ("", ".")]
    if not parts:
        return False
    if any(part in _SECRET_DIRS for part in parts[:-1]):
        return True
    return _is_secret_name(parts[-1])


def _is_secret_name(name: str) -> bool:
    suffix = PurePosixPath(name).suffix
    if name in _SECRET_NAMES or name.startswith(_SECRET_PREFIXES) or suffix in _SECRET_SUFFIXES:
        return True
    if suffix in _CODE_SUFFIXES:
        return False
    if name.startswith("credentials") or _SERVICE_ACCOUNT.fullmatch(name):
        return True
    return suffix in _CONFIG_SUFFIXES and ("secret" in name or "credential" in name)


# --- content ----------------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:\r?\n|(?:\\r)?\\n)"  # a real line break, or an escaped one inside a string literal
    r"(?:[A-Za-z-]+:[^\n\\]*(?:\r?\n|(?:\\r)?\\n))*"  # headers (Proc-Type, DEK-Info), one a line
    r"(?:\s|\\[rn])*"
    r"[A-Za-z0-9+/]{40}"
)
_OPENAI = re.compile(r"(?<![\w-])sk-[A-Za-z0-9_-]{32,}")
_HUGGINGFACE = re.compile(r"\bhf_[A-Za-z]{34,}\b")


def _always(_token: str) -> bool:
    return True


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _random_letters(token: str) -> bool:
    has_case = any(c.islower() for c in token) and any(c.isupper() for c in token)
    return has_case and _entropy(token) >= 3.5


def _random_alnum(token: str) -> bool:
    return _random_letters(token) and any(c.isdigit() for c in token)


# (cheap substrings that must occur, pattern, check on the match). The substring test runs
# first: `in` is far faster than a regex search that starts with `\b`.
_TOKENS: tuple[tuple[tuple[str, ...], re.Pattern[str], Callable[[str], bool]], ...] = (
    (("PRIVATE KEY",), _PRIVATE_KEY, _always),
    (
        ("AKIA", "ASIA", "ABIA", "ACCA"),
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),  # AWS access key id
        _always,
    ),
    (
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),  # GitHub classic
        _random_alnum,
    ),
    (
        ("github_pat_",),
        re.compile(r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b"),  # GitHub fine-grained
        _always,
    ),
    (("xox",), re.compile(r"\bxox[abposr]-\d{6,}-[A-Za-z0-9-]{10,}"), _always),  # Slack
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])"), _always),  # Google API key
    (("k_live_",), re.compile(r"\b[rs]k_live_[0-9A-Za-z]{24,}\b"), _always),  # Stripe
    (("glpat-",), re.compile(r"\bglpat-[0-9A-Za-z_-]{20}(?![\w-])"), _always),  # GitLab
    (("npm_",), re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), _random_alnum),  # npm
    (("pypi-AgEI",), re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"), _always),  # PyPI
    (("sk-",), _OPENAI, _random_alnum),  # OpenAI / Anthropic style
    (("hf_",), _HUGGINGFACE, _random_letters),  # Hugging Face
    (("eyJ",), re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}"), _always),  # JWT
)

_KEYWORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|auth[_-]?key|private[_-]?key|client[_-]?secret|credentials?"
)
# Lowercase substrings of the keywords: lines without one are not searched.
_KEYWORD_HINTS = ("pass", "pwd", "secret", "token", "key", "credential")
_ASSIGNMENT = re.compile(
    r"(?:^|(?<=[\s{,;(]))"
    r"[\"']?(?P<key>[\w.-]{0,40}?(?:" + _KEYWORDS + r")[\w.-]{0,40})[\"']?"  # bounded
    r"\s*(?::=|=>|[:=])\s*"
    r"(?:(?P<quote>[\"'`])(?P<quoted>[^\s\"'`]{16,200})(?P=quote)"  # quoted: any symbol
    r"|(?P<bare>[^\s\"'`,;#]{16,200}))",  # bare: stops at comments and separators
    re.IGNORECASE | re.MULTILINE,
)
_PLACEHOLDER_MARKERS = (
    "${", "{{", "%(", "<", ">", "xxxx", "****", "...", "example", "changeme", "change_me",
    "your", "dummy", "placeholder", "redacted", "replace", "insert", "env(", "environ", "getenv",
    "test", "fake", "mock", "sample", "urn:", "arn:",
)  # fmt: skip
# Keys holding tokens that are not credentials: pagination cursors, idempotency tokens, ...
_HARMLESS_KEY = re.compile(
    r"next|page|continuation|cursor|client_?token|idempotency|verification|csrf|sync|update"
    r"|request|lock|change|type|length|count|limit|max|min|size|file|path|url|uri|endpoint|env"
    r"|arn|(?:\b|_|-)id$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Z]?[a-z]{3,}")
_IDENTIFIER_LIKE = re.compile(r"[A-Za-z_][\w.]*")
# Values that read as code: dotted names, snake_case or CONSTANT_CASE identifiers.
_CODE_LIKE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
)


def looks_like_secret_content(text: str, *, hard_evidence_only: bool = False) -> bool:
    """True when `text` appears to contain a credential.

    With `hard_evidence_only` (use it for source code) only private keys and known token formats
    count; otherwise generic `password = "..."` assignments with a random-looking value do too.
    """
    if _has_hard_evidence(text):
        return True
    return not hard_evidence_only and _has_secret_assignment(text)


def _has_hard_evidence(text: str) -> bool:
    for needles, pattern, accept in _TOKENS:
        if not any(needle in text for needle in needles):
            continue
        for match in pattern.finditer(text):
            token = match.group(0)
            if "EXAMPLE" not in token.upper() and accept(token):
                return True
    return False


def _has_secret_assignment(text: str) -> bool:
    for line in text.splitlines():
        lowered = line.lower()
        if not any(hint in lowered for hint in _KEYWORD_HINTS):
            continue
        for match in _ASSIGNMENT.finditer(line):
            key = match.group("key")
            if _HARMLESS_KEY.search(key) or key.endswith("Id"):
                continue
            if _is_secret_value(match.group("quoted") or match.group("bare")):
                return True
    return False


def _is_secret_value(value: str) -> bool:
    lowered = value.lower()
    if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
        return False
    if value.startswith(("/", "./", "~", "$")) or "://" in value:
        return False  # a path, a URL or a variable reference
    if any(c in value for c in "()[]{}") or _CODE_LIKE.fullmatch(value):
        return False  # `password = get_password_from_vault()`, `token = self.tokens[0]`
    has_digit = any(c.isdigit() for c in value)
    if not has_digit and _IDENTIFIER_LIKE.fullmatch(value):
        return False
    if sum(len(word) for word in _WORD.findall(value)) >= 0.6 * len(value):
        return False  # mostly words: `DebertaV2Converter`, a sentence fragment
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and len(set(value)) >= 8 and _entropy(value) >= 3.3


def should_index_content(rel_path: str, text: str) -> bool:
    """The read-time check: False when a file's content looks like it holds a credential.

    Source code is only excluded on hard evidence; docs and config files also on soft evidence.
    """
    suffix = PurePosixPath(rel_path.replace("\\", "/")).suffix.lower()
    return not looks_like_secret_content(text, hard_evidence_only=suffix in _CODE_SUFFIXES)
