"""Expressions that must read differently per database, decided when the query is compiled.

The same query objects run on SQLite (files, tests) and SQL Server; compiling the
difference late keeps one query per purpose, and lets a test compile every query the
connectors sent on SQLite with the mssql dialect and see what SQL Server would get.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Unicode, func, literal, literal_column
from sqlalchemy import types as sqltypes
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class _Wrapped(FunctionElement):
    """One argument, same type; rendered as the bare argument unless a dialect says otherwise."""

    inherit_cache = True

    def __init__(self, expr: Any) -> None:
        super().__init__(expr)
        self.type = expr.type

    @property
    def inner(self) -> Any:
        return next(iter(self.clauses))


class comparable(_Wrapped):
    """A text column SQL Server can compare, measure and group (text/ntext -> nvarchar(max))."""

    name = "comparable"
    inherit_cache = True


class comparable_time(_Wrapped):
    """A timestamp compared by value: SQLite stores text in several formats."""

    name = "comparable_time"
    inherit_cache = True


class case_sensitive(_Wrapped):
    """Compare and group case-sensitively even under SQL Server's usual CI collation."""

    name = "case_sensitive"
    inherit_cache = True


@compiles(comparable)
@compiles(comparable_time)
@compiles(case_sensitive)
def _bare(element: _Wrapped, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.inner, **kw)


@compiles(comparable, "mssql")
def _comparable_mssql(element: comparable, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.inner, **kw)
    return f"CAST({inner} AS NVARCHAR(max))" if isinstance(element.type, sqltypes.Text) else inner


@compiles(comparable_time, "sqlite")
def _time_sqlite(element: comparable_time, compiler: Any, **kw: Any) -> str:
    return f"datetime({compiler.process(element.inner, **kw)})"


@compiles(case_sensitive, "mssql")
def _case_mssql(element: case_sensitive, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.inner, **kw)} COLLATE Latin1_General_BIN2"


def nstr(value: str) -> ColumnElement:
    """A Unicode string literal (N'...' on SQL Server)."""
    return literal(value, Unicode())


def trimmed(expr: Any) -> ColumnElement:
    """Trim spaces both sides; LTRIM(RTRIM()) works on SQL Server before 2017, and on SQLite."""
    return func.ltrim(func.rtrim(comparable(expr)), type_=Unicode())


def text_length(expr: Any) -> ColumnElement:
    """Characters in a text value (LEN on SQL Server, which ignores trailing spaces)."""
    return func.length(comparable(expr))


def is_set(flag: Any) -> ColumnElement:
    """A bit/boolean flag that is on (NULL counts as off); literal 0 keeps it parameter-free."""
    return func.coalesce(flag, literal_column("0")) != literal_column("0")


def is_unset(flag: Any) -> ColumnElement:
    return func.coalesce(flag, literal_column("0")) == literal_column("0")


def lower_text(expr: Any) -> ColumnElement:
    return func.lower(comparable(expr), type_=Unicode())
