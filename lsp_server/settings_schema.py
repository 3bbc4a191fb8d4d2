"""The building blocks of the settings schema: rules that validate a value and describe it as
JSON Schema, and `setting()`, which attaches a rule and a description to a dataclass field. The
settings themselves are the fields of `TetherSettings` (settings.py); `settings_of` reads them
back as `Setting`s, from which the JSON Schema, the VS Code manifest and the docs are made."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, TypeVar

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Json = dict[str, Any]
T = TypeVar("T")


class Rule(Protocol):
    @property
    def nullable(self) -> bool: ...

    def check(self, value: Any) -> Any:
        """The value to use; raises ValueError saying what was expected."""
        ...

    def json_schema(self) -> Json: ...


def _json_type(name: str, nullable: bool) -> str | list[str]:
    return [name, "null"] if nullable else name


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Integer:
    minimum: int
    maximum: int | None = None
    nullable: bool = False
    note: str = ""
    unit: str = ""

    def check(self, value: Any) -> int:
        if not _is_integer(value) or value < self.minimum:
            expected = ("a positive integer" if self.minimum == 1
                        else f"an integer >= {self.minimum}")
            raise ValueError(f"expected {expected}" + (f" ({self.note})" if self.note else ""))
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"expected at most {self.maximum}"
                             + (f" {self.unit}" if self.unit else ""))
        return int(value)

    def json_schema(self) -> Json:
        schema: Json = {"type": _json_type("integer", self.nullable), "minimum": self.minimum}
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True, slots=True)
class Boolean:
    nullable: bool = False

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value

    def json_schema(self) -> Json:
        return {"type": _json_type("boolean", self.nullable)}


@dataclass(frozen=True, slots=True)
class Choice:
    """One of `options`; `descriptions` says what each one does (same keys, same order)."""

    descriptions: Mapping[str, str]
    nullable: bool = False

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(self.descriptions)

    def check(self, value: Any) -> str:
        if value not in self.descriptions:
            raise ValueError(f"expected one of {', '.join(self.options)}")
        return str(value)

    def json_schema(self) -> Json:
        return {"type": _json_type("string", self.nullable), "enum": list(self.options),
                "enumDescriptions": list(self.descriptions.values())}


@dataclass(frozen=True, slots=True)
class OptionalText:
    """A string; blank or null means not set."""

    nullable: bool = True

    def check(self, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value.strip()

    def json_schema(self) -> Json:
        return {"type": _json_type("string", self.nullable)}


@dataclass(frozen=True, slots=True)
class StringList:
    """A list of strings (a single string is a list of one); an empty list means `empty`."""

    empty: tuple[str, ...] = ()
    nullable: bool = False

    def check(self, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of strings")
        return tuple(value) or self.empty

    def json_schema(self) -> Json:
        return {"type": _json_type("array", self.nullable), "items": {"type": "string"}}


@dataclass(frozen=True, slots=True)
class SettingInfo:
    rule: Rule
    description: str
    paths: bool = False  # file paths: editors may expand `~` and `${...}` variables in them


_INFO = "tether.setting"


def setting(default: T, rule: Rule, description: str, *, paths: bool = False) -> T:
    """A dataclass field that is a setting: its default, rule and (Markdown) description."""
    return field(default=default, metadata={_INFO: SettingInfo(rule, description, paths)})


@dataclass(frozen=True, slots=True)
class Setting:
    name: str  # snake_case, the dataclass field
    key: str  # camelCase, as editors send it
    default: Any
    rule: Rule
    description: str
    paths: bool

    def check(self, value: Any) -> Any:
        return self.rule.check(value)

    def json_default(self) -> Any:
        return list(self.default) if isinstance(self.default, tuple) else self.default

    def json_schema(self) -> Json:
        rule = self.rule.json_schema()
        return {"type": rule.pop("type"), "default": self.json_default(),
                "description": self.description, **rule}


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def settings_of(cls: type) -> tuple[Setting, ...]:
    """The settings a dataclass declares with `setting()`; every field must be one."""
    found: list[Setting] = []
    for item in fields(cls):
        info = item.metadata.get(_INFO)
        if not isinstance(info, SettingInfo):
            raise TypeError(f"{cls.__name__}.{item.name} is not declared with setting()")
        found.append(Setting(item.name, camel_case(item.name), item.default, info.rule,
                             info.description, info.paths))
    return tuple(found)


def json_schema(settings: tuple[Setting, ...], title: str) -> Json:
    return {"$schema": JSON_SCHEMA_DIALECT, "title": title, "type": "object",
            "properties": {s.key: s.json_schema() for s in settings}}
