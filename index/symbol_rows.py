"""How a Symbol is stored as a row of the index's `symbols` table, and read back."""

from __future__ import annotations

import json
import sqlite3

from tether.index.models import Deprecation, Parameter, ParamKind, Symbol, SymbolKind


def symbol_row(file_id: int | None, s: Symbol) -> tuple[object, ...]:
    """The values of an INSERT into `symbols`, in its column order."""
    dep = s.deprecation
    return (file_id, s.qualname, s.name, s.kind.value, s.module, s.parent, s.line, s.end_line,
            s.signature,
            json.dumps([[p.name, p.kind.value, p.annotation, p.default] for p in s.params])
            if s.params else None,
            s.returns, s.annotation, s.value, stored_bases(s),
            json.dumps(s.decorators) if s.decorators else None,
            s.doc, s.target,
            dep.message if dep else None, dep.version if dep else None,
            dep.replacement if dep else None, dep.source if dep else None)


def stored_bases(s: Symbol) -> str | None:
    """The `bases` column's value: the bases as written, JSON-encoded (NULL for none)."""
    return json.dumps(s.bases) if s.bases else None


def row_symbol(row: sqlite3.Row) -> Symbol:
    deprecation = None
    if row["dep_message"] is not None:
        deprecation = Deprecation(row["dep_message"], row["dep_version"], row["dep_replacement"],
                                  row["dep_source"] or "decorator")
    params = [Parameter(name, ParamKind(kind), annotation, default)
              for name, kind, annotation, default in json.loads(row["params"] or "[]")]
    return Symbol(
        qualname=row["qualname"], name=row["name"], kind=SymbolKind(row["kind"]),
        module=row["module"], path=row["path"], line=row["line"], end_line=row["end_line"],
        parent=row["parent"], signature=row["signature"], params=params, returns=row["returns"],
        annotation=row["annotation"], value=row["value"],
        bases=json.loads(row["bases"] or "[]"), decorators=json.loads(row["decorators"] or "[]"),
        doc=row["doc"], target=row["target"], deprecation=deprecation)
