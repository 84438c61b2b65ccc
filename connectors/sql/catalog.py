"""What tables and columns a source database really has, found once with the inspector.

Platforms change their schema between versions and installs (a prefix, a schema, a
column added in a later release), so connectors never assume: they ask the catalog, and
what is missing becomes a finding. Names match case-insensitively, as SQL Server's
usual collation does. Password-like columns are left out of every table the catalog
hands out, so no query can ever select them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Column, MetaData, Table, inspect
from sqlalchemy import types as sqltypes
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.cache_key import NO_CACHE
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.util import LRUCache

from connectors.base import FieldType, SourceError
from connectors.sql.database import Database

SECRET_COLUMN = re.compile(r"(?i)password|passwd|pwd|passphrase|salt|secret")


def is_secret_column(name: str) -> bool:
    return SECRET_COLUMN.search(name) is not None


class Catalog:
    """Tables of one schema, reflected on first use, columns found case-insensitively."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._inspector = inspect(db.engine)
        try:
            names = self._inspector.get_table_names(schema=db.schema)
            views = self._inspector.get_view_names(schema=db.schema)
        except SQLAlchemyError as exc:
            raise SourceError(
                f"cannot list the tables of {db.location}" + (f", schema {db.schema}" if db.schema else ""),
                hint=f"check the database and schema settings ({exc.__class__.__name__}: {str(exc).splitlines()[0]})",
                code="source.unreadable",
            ) from exc
        self._views = {name.lower() for name in views}
        self._names = {name.lower(): name for name in [*names, *views]}
        self._tables: dict[str, Table] = {}

    @property
    def table_names(self) -> list[str]:
        return sorted(self._names.values())

    def is_view(self, name: str) -> bool:
        return name.lower() in self._views

    def real_name(self, name: str) -> str | None:
        return self._names.get(name.lower())

    def table(self, name: str) -> Table | None:
        """The table (or view) with its readable columns, or None when it does not exist."""
        real = self.real_name(name)
        if real is None:
            return None
        if real not in self._tables:
            columns = [
                (info["name"], info["type"] if not isinstance(info["type"], sqltypes.NullType) else sqltypes.String())
                for info in self._inspector.get_columns(real, schema=self.db.schema)
                if not is_secret_column(info["name"])
            ]
            self._tables[real] = layout_table(real, self.db.schema, columns)
        return self._tables[real]

    def primary_key(self, table: Table) -> list[str]:
        if self.is_view(table.name):
            return []
        try:
            return list(
                self._inspector.get_pk_constraint(table.name, schema=self.db.schema).get("constrained_columns") or []
            )
        except (SQLAlchemyError, NotImplementedError):
            return []


_layouts: LRUCache[tuple[Any, ...], Table] = LRUCache(1000)


def layout_table(name: str, schema: str | None, columns: list[tuple[str, Any]]) -> Table:
    """The Table for this name, schema and typed columns: the same object for the same layout.

    A compiled statement is found again in the cache engines share (connectors/compiled_sql.py)
    only when it names the same Table objects, so two opens of one database, or of two
    databases laid out alike (a platform's install, the samples the tests generate), build
    their statements on one Table and compile each once. A column type that does not say
    how it compiles (no cache key) gets a Table of its own.
    """
    types = tuple(type_._static_cache_key for _name, type_ in columns)
    if any(key is NO_CACHE for key in types):
        return Table(name, MetaData(schema=schema), *(Column(n, t) for n, t in columns))
    key = (schema, name, tuple(n for n, _type in columns), types)
    table = _layouts.get(key)
    if table is None:
        table = _layouts[key] = Table(name, MetaData(schema=schema), *(Column(n, t) for n, t in columns))
    return table


def column(table: Any, name: str) -> ColumnElement | None:
    """A column of a table or alias by name, case-insensitively; None when absent."""
    lowered = name.lower()
    for col in table.c:
        if col.name.lower() == lowered:
            return col
    return None


def field_type(sqltype: Any) -> tuple[FieldType, int | None]:
    """The FieldType (and declared length) for a reflected column type."""
    if isinstance(sqltype, sqltypes.Boolean):
        return FieldType.BOOLEAN, None
    if isinstance(sqltype, sqltypes.DateTime):
        return FieldType.DATETIME, None
    if isinstance(sqltype, sqltypes.Date):
        return FieldType.DATE, None
    if isinstance(sqltype, sqltypes.Integer):
        return FieldType.INTEGER, None
    if isinstance(sqltype, (sqltypes.Numeric, sqltypes.Float)):
        return FieldType.FLOAT, None
    if isinstance(sqltype, sqltypes.String):
        length = getattr(sqltype, "length", None)
        if isinstance(sqltype, sqltypes.Text) or length is None or length > 4000:
            return FieldType.TEXT, None
        return FieldType.STRING, length
    return FieldType.STRING, None
