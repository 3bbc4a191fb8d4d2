"""What the legal sets ask of pyright, as protocols (the implementations live in
decoding.pyright.client, decoding.pyright.member_probe and decoding.pyright.signature_probe)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MemberFacts:
    deprecated: dict[str, str | None]  # deprecated name -> the replacement its message names
    any_name: bool  # the checker accepts a name no type has: the receiver is partly Unknown


class MemberOracle(Protocol):
    """What the monitor needs from pyright (decoding.pyright.client.PyrightClient)."""

    def member_names(self, path: Path, text: str, line: int,
                     character: int) -> object | None: ...

    def hover(self, path: Path, text: str, line: int, character: int) -> str | None: ...


class MemberFactsOracle(Protocol):
    """Pyright's checker on a receiver's members (decoding.pyright.member_probe.MemberProbe)."""

    def member_facts(self, path: Path, head: str, receiver: str,
                     names: Iterable[str]) -> MemberFacts | None: ...


class SignatureOracle(Protocol):
    """Keyword parameters by pyright (decoding.pyright.signature_probe.SignatureProbe)."""

    def keywords(self, path: Path, text: str, callee: str) -> frozenset[str] | None: ...
