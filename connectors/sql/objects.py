"""How a connector describes one source object to the generic SQL machinery.

A connector builds `SqlObject`s from what the catalog found: the FROM clause (with the
lookup joins that turn per-install ids into names), the filters (deleted, spam, draft),
a unique sortable key for keyset pagination, and the fields as SQL expressions. The
generic `SqlSource` turns that into streaming reads, batch child reads and aggregate
queries, so each connector is mostly a list of declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Select, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from connectors.base import FieldSpec, FieldType, ObjectRole, ObjectSpec

Convert = Callable[[Any], Any]
TEXT_TYPES = (
    FieldType.STRING,
    FieldType.TEXT,
    FieldType.HTML,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.URL,
    FieldType.OPTIONS,
)
LONG_TEXT = (FieldType.TEXT, FieldType.HTML)


@dataclass(frozen=True)
class SqlField:
    """One exposed field. `expr` None: filled in Python per batch (see SqlObject.enrich)."""

    name: str
    expr: ColumnElement | None
    type: FieldType = FieldType.STRING
    label: str = ""
    max_length: int | None = None
    references: str | None = None
    custom: bool = False
    options: tuple[str, ...] = ()
    convert: Convert | None = None  # applied to every value read; must keep order (dates)
    description: str = ""
    local_time: bool = False  # a zone-less wall-clock time, read in the source's time zone

    @property
    def column(self) -> str:
        """table.column, when the field is one column of a table."""
        table = getattr(self.expr, "table", None)
        name = getattr(table, "name", None)
        return f"{name}.{self.expr.name}" if isinstance(name, str) and isinstance(self.expr, Column) else ""

    def spec(self) -> FieldSpec:
        return FieldSpec(
            name=self.name,
            type=self.type,
            label=self.label or self.name,
            max_length=self.max_length,
            options=self.options,
            references=self.references,
            custom=self.custom,
            description=self.description,
            local_time=self.local_time,
            column=self.column if self.local_time else "",
        )

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


@dataclass(frozen=True)
class Pivot:
    """Custom-field values kept as rows (entity, field id, value): one field per definition."""

    values: FromClause
    entity: ColumnElement  # the column holding the owning record's key
    field_id: ColumnElement
    content: ColumnElement
    fields: dict[Any, str]  # field id -> exposed field name


@dataclass(frozen=True)
class Skip:
    """Rows a default read leaves out, counted and reported (deleted, spam, draft, ...)."""

    reason: str  # "deleted", "spam", "draft", "of_skipped_parent"
    condition: ColumnElement  # true for the rows skipped for this reason (and no earlier one)
    from_: FromClause | None = None  # when the skipped rows live outside the object's FROM
    key: ColumnElement | None = None  # their key, with from_


@dataclass
class SqlObject:
    name: str
    role: ObjectRole
    from_: FromClause
    key: ColumnElement
    fields: list[SqlField]
    where: tuple[ColumnElement, ...] = ()
    label: str = ""
    parent: str | None = None
    parent_expr: ColumnElement | None = None
    parent_field: str | None = None
    order: tuple[ColumnElement, ...] = ()  # order of children within a parent (time, then key)
    created_field: str | None = None
    updated_field: str | None = None
    keyset: bool = True  # False: a derived object, streamed with one ordered query
    key_type: Callable[[str], Any] = int  # turns a record key back into a bind value
    parent_key_type: Callable[[str], Any] = int
    pivots: tuple[Pivot, ...] = ()
    enrich: Callable[[list[dict[str, Any]]], None] | None = None  # fills expr-less fields, per batch
    skips: tuple[Skip, ...] = ()
    since_value: Convert | None = None  # aware UTC -> the value to compare in the source
    optional: bool = False
    description: str = ""

    def field(self, name: str) -> SqlField:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def sql_fields(self) -> list[SqlField]:
        return [item for item in self.fields if item.expr is not None]

    @property
    def pivot_fields(self) -> set[str]:
        return {name for pivot in self.pivots for name in pivot.fields.values()}

    @property
    def python_fields(self) -> list[SqlField]:
        """Fields neither in SQL nor in a pivot: computed by `enrich`."""
        pivoted = self.pivot_fields
        return [item for item in self.fields if item.expr is None and item.name not in pivoted]

    def select(self) -> Select:
        """Key, parent and every SQL field, with the object's filters."""
        columns = [self.key.label("__key")]
        if self.parent_expr is not None:
            columns.append(self.parent_expr.label("__parent"))
        columns += [item.expr.label(item.name) for item in self.sql_fields]
        return select(*columns).select_from(self.from_).where(*self.where)

    def lean_select(self, *names: str) -> Select:
        """Key, parent and only the named fields: what the aggregate queries need."""
        columns = [self.key.label("__key")]
        if self.parent_expr is not None:
            columns.append(self.parent_expr.label("__parent"))
        columns += [self.field(name).expr.label(name) for name in names]
        return select(*columns).select_from(self.from_).where(*self.where)

    def spec(self, count: int | None) -> ObjectSpec:
        return ObjectSpec(
            name=self.name,
            role=self.role,
            fields=tuple(item.spec() for item in self.fields),
            key="id",
            label=self.label or self.name,
            count=count,
            parent=self.parent,
            parent_field=self.parent_field,
            created_field=self.created_field,
            updated_field=self.updated_field,
            optional=self.optional,
            description=self.description,
        )
