"""What the legal sets ask of pyright, as protocols (the implementations live in
decoding.pyright_client, decoding.pyright_deprecations and decoding.pyright_signatures)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from decoding.pyright_deprecations import MemberFacts


class MemberOracle(Protocol):
    """What the monitor needs from pyright (decoding.pyright_client.PyrightClient)."""

    def member_names(self, path: Path, text: str, line: int,
                     character: int) -> object | None: ...

    def hover(self, path: Path, text: str, line: int, character: int) -> str | None: ...


class MemberFactsOracle(Protocol):
    """Pyright's checker on a receiver's members (decoding.pyright_deprecations.MemberProbe)."""

    def member_facts(self, path: Path, head: str, receiver: str,
                     names: Iterable[str]) -> MemberFacts | None: ...


class SignatureOracle(Protocol):
    """Keyword parameters by pyright (decoding.pyright_signatures.SignatureProbe)."""

    def keywords(self, path: Path, text: str, callee: str) -> frozenset[str] | None: ...
