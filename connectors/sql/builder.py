"""Declaring fields from discovered columns, with every gap reported instead of crashing.

A column a platform version lacks becomes a field that reads as empty, plus one
warning (the map must not take an always-empty field for real data); a table or column
an object cannot do without drops that object (SchemaGap), plus one finding, unless it
is the platform's core, which is a SourceError. Columns no declaration reads are
exposed under their own names (`unread_fields`): a renamed or installation-specific
column is never lost, and the mapping step can find it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, null
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Join

from connectors.base import FieldType, Finding, Severity
from connectors.sql.catalog import column, field_type
from connectors.sql.objects import TEXT_TYPES, Convert, SqlField
from connectors.sql.values import flag, integer, number

if TYPE_CHECKING:
    from connectors.base import Source


COMPUTED = {FieldType.INTEGER: integer, FieldType.FLOAT: number, FieldType.BOOLEAN: flag}


class SchemaGap(Exception):
    """An object cannot be read on this database: a table or key column is missing."""


def gap_finding(platform: str, object_name: str, reason: str, *, severity: Severity = Severity.WARNING) -> Finding:
    return Finding(
        code="source.object_unavailable",
        severity=severity,
        message=f"{object_name} cannot be read: {reason}",
        object=object_name,
        detail=f"check the {platform} version, the schema and the table prefix settings",
    )


class Columns:
    """One table's (or alias's) columns, found case-insensitively, for one object."""

    def __init__(self, source: Source, table: Any, *, object_name: str, table_name: str | None = None) -> None:
        self.source = source
        self.table = table
        self.object_name = object_name
        self.table_name = table_name or getattr(table, "name", str(table))

    def get(self, *names: str) -> ColumnElement | None:
        for name in names:
            found = column(self.table, name)
            if found is not None:
                return found
        return None

    def need(self, *names: str) -> ColumnElement:
        found = self.get(*names)
        if found is None:
            raise SchemaGap(f"{self.table_name} has no column {names[0]}")
        return found

    def col(self, *names: str, field: str | None = None) -> ColumnElement:
        """The column, or NULL (reported once) when this database lacks it."""
        found = self.get(*names)
        if found is None:
            self.source.report(
                Finding(
                    code="source.column_missing",
                    severity=Severity.WARNING,
                    message=f"{self.table_name}.{names[0]} not found: {self.object_name}.{field or names[0]} stays empty",
                    object=self.object_name,
                    detail="older or newer versions name some columns differently: the table's other columns are "
                    "listed as fields, so the mapping step can take the data from where it really is",
                )
            )
            return null()
        return found

    def field(
        self,
        name: str,
        *columns: str,
        type: FieldType | None = None,
        convert: Convert | None = None,
        references: str | None = None,
        label: str = "",
        options: tuple[str, ...] = (),
        description: str = "",
        local_time: bool = False,
    ) -> SqlField:
        expr = self.col(*columns, field=name)
        return typed_field(
            name,
            expr,
            type=type,
            convert=convert,
            references=references,
            label=label,
            options=options,
            description=description,
            local_time=local_time,
        )


def typed_field(
    name: str,
    expr: ColumnElement,
    *,
    type: FieldType | None = None,
    convert: Convert | None = None,
    references: str | None = None,
    label: str = "",
    options: tuple[str, ...] = (),
    description: str = "",
    custom: bool = False,
    local_time: bool = False,
) -> SqlField:
    """A field whose type and length come from the column unless given.

    A computed expression (CASE, a function, a grouped column) gets a converter for its
    type: some drivers cannot tell its type and hand over text.
    """
    found_type, length = field_type(expr.type)
    final = type or found_type
    if convert is None and not (isinstance(expr, Column) and isinstance(expr.table, Table)):
        convert = COMPUTED.get(final)
    return SqlField(
        name=name,
        expr=expr,
        type=final,
        label=label,
        max_length=length if final in TEXT_TYPES else None,
        references=references,
        options=options,
        convert=convert,
        description=description,
        custom=custom,
        local_time=local_time,
    )


def columns_read(table: Any, *exprs: Any) -> set[str]:
    """Lower-case names of the columns of `table` that the expressions (or joins' ON
    clauses) read."""
    names: set[str] = set()
    for expr in exprs:
        if isinstance(expr, Join):
            names |= columns_read(table, expr.left, expr.right, expr.onclause)
            continue
        if expr is None or isinstance(expr, FromClause):
            continue
        for element in visitors.iterate(expr):
            if isinstance(element, Column) and element.table is table:
                names.add(element.name.lower())
    return names


def unread_fields(
    table: Any,
    used: Iterable[str],
    taken: set[str],
    *,
    name: Callable[[str], str],
    custom: bool = True,
    dates: Callable[[str], tuple[Convert | None, bool]] | None = None,
) -> list[SqlField]:
    """Every column of `table` not in `used` (lower-case names), as a field named by `name`.

    Dates become DATETIME fields; `dates` says, from the column's name, how to read them
    and whether they are zone-less local times. A name already taken gets the suffix
    _column. `taken` is updated."""
    skip = {u.lower() for u in used}
    fields = []
    for col in table.c:
        if col.name.lower() in skip:
            continue
        field = name(col.name)
        if field in taken:
            field = f"{field}_column"
        taken.add(field)
        kind, _ = field_type(col.type)
        if kind in (FieldType.DATETIME, FieldType.DATE):
            kind = FieldType.DATETIME
        convert, local = dates(col.name) if dates is not None and kind is FieldType.DATETIME else (None, False)
        fields.append(
            typed_field(
                field,
                col,
                type=kind,
                convert=convert,
                label=col.name,
                description=f"{table.name}.{col.name}, as the database holds it",
                custom=custom,
                local_time=local,
            )
        )
    return fields
