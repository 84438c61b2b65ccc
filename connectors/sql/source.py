"""`SqlSource`: the Source interface over SQL, shared by SmarterTrack and Track-It!.

Reads stream by keyset pagination (WHERE key > last ORDER BY key, TOP n), one short
query per batch, so memory is flat and no read holds locks for long. Children come per
batch of parents in chunked IN lists (SQL Server takes at most 2100 parameters). The
audit primitives are pushed down as aggregate and anti-join queries (pushdown.py).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, func, literal, select
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import find_tables
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from connectors.base import (
    Capability,
    ConnectionCheck,
    KEY_MALFORMED,
    KEY_MISSING,
    Finding,
    KeyProblem,
    ObjectProfile,
    Record,
    Severity,
    Skipped,
    Source,
    SourceError,
    SourceSchema,
    TimeZoneUse,
    ValueNote,
    number_field_of,
)
from connectors.local_time import SourceClock, value_notes
from connectors.sql import pushdown
from connectors.sql.batching import chunks
from connectors.sql.builder import gap_finding
from connectors.sql.catalog import Catalog
from connectors.sql.database import Database, SecretLookup, SqlSettings, open_database
from connectors.sql.objects import SqlObject
from connectors.sql.odbc import explain_odbc_error
from connectors.sql.portable import comparable_time
from connectors.sql.values import parse_datetime


def decode_text(value: bytes) -> str:
    """Bytes in a text column: UTF-8, else Windows-1252 (what old Windows installs wrote)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", errors="replace")


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


class SqlSource(Source):
    """A platform read from a SQL database; subclasses declare their objects."""

    capabilities = (Capability.PUSHDOWN_PROFILE | Capability.EXACT_COUNTS | Capability.CHILDREN_BY_PARENT
                    | Capability.RESUME_AFTER_KEY)

    def __init__(self, settings: SqlSettings, secret: SecretLookup, *, include_deleted: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.include_deleted = include_deleted
        self._secret = secret
        self._db: Database | None = None
        self._catalog: Catalog | None = None
        self._objects: dict[str, SqlObject] | None = None
        self._schema: SourceSchema | None = None
        self._reported: set[tuple[str, str | None, str]] = set()
        self.clock: SourceClock | None = None  # set by platforms that store zone-less times

    # -- what a platform declares -------------------------------------------------

    @abstractmethod
    def build_objects(self, catalog: Catalog) -> list[SqlObject]:
        """The platform's objects on this database; missing optional pieces are reported."""

    # -- plumbing -----------------------------------------------------------------

    @property
    def database(self) -> Database:
        if self._db is None:
            self._db = open_database(self.settings, self._secret)
        return self._db

    def _report_connection_notes(self) -> None:
        """What the connection taught (a legacy ODBC driver, no SNAPSHOT): audit warnings."""
        for note in self.database.warnings:
            self.report(Finding("source.connection_note", Severity.WARNING, note))

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._errors("list the tables"):
                self._catalog = Catalog(self.database)
        return self._catalog

    def objects(self) -> dict[str, SqlObject]:
        if self._objects is None:
            built = {obj.name: obj for obj in self.build_objects(self.catalog)}
            self._report_connection_notes()
            for obj in list(built.values()):
                if obj.parent is not None and obj.parent not in built:
                    del built[obj.name]
                    self.report(gap_finding(self.platform, obj.name, f"its parent object {obj.parent} cannot be read"))
            self._objects = built
        return self._objects

    def sql_object(self, name: str) -> SqlObject:
        try:
            return self.objects()[name]
        except KeyError:
            raise KeyError(f"{self.platform} has no object {name!r}") from None

    def report(self, finding: Finding) -> None:
        """Record a finding once, however often discovery or describe() runs."""
        ident = (finding.code, finding.object, finding.message)
        if ident not in self._reported:
            self._reported.add(ident)
            super().report(finding)

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SourceError:
            raise
        except DBAPIError as exc:
            orig = exc.orig
            if orig is not None and type(orig).__module__ == "pyodbc":
                raise explain_odbc_error(orig) from None
            raise SourceError(
                f"could not {doing} in {self.database.location}: {str(orig or exc).splitlines()[0]}",
                code="source.query_failed",
            ) from exc
        except SQLAlchemyError as exc:
            raise SourceError(f"could not {doing}: {exc}", code="source.query_failed") from exc

    @contextmanager
    def connection(self, doing: str = "read") -> Iterator[Connection]:
        with self._errors(doing), self.database.engine.connect() as conn:
            yield conn

    def rows(self, statement: Any, doing: str = "read") -> list[Any]:
        with self.connection(doing) as conn:
            return list(conn.execute(statement).all())

    def scalar(self, statement: Any, doing: str = "read") -> Any:
        with self.connection(doing) as conn:
            return conn.execute(statement).scalar()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._catalog = None
            self._objects = None
            self._schema = None

    # -- Source -------------------------------------------------------------------

    def prepare(self) -> None:
        """The connection, the catalog and the platform's objects on it."""
        self.objects()

    def check(self) -> ConnectionCheck:
        try:
            objects = self.objects()
            with self.connection("reach the database") as conn:
                conn.execute(select(1)).scalar()
                server = ".".join(str(part) for part in conn.dialect.server_version_info or ())
            main = next(iter(objects.values()))
            count = self.scalar(select(func.count()).select_from(main.from_).where(*main.where), "count")
        except SourceError as exc:
            details = (exc.hint,) if exc.hint else ()
            return ConnectionCheck(False, str(exc), details)
        db = self.database
        details = [f"engine: {db.dialect} {server}".rstrip() + (f" through {db.driver}" if db.driver else "")]
        if db.schema:
            details.append(f"schema: {db.schema}")
        details.append(f"{len(self.catalog.table_names)} tables and views")
        details += [f"{f.severity}: {f.message}" for f in self.findings]
        return ConnectionCheck(True, f"{db.location}: {count} {main.label or main.name}", tuple(details))

    def describe(self) -> SourceSchema:
        if self._schema is None:
            objects = self.objects()
            with self.connection("count records") as conn:
                counts = {
                    name: conn.execute(select(func.count()).select_from(obj.select().subquery())).scalar()
                    if not obj.keyset
                    else conn.execute(select(func.count()).select_from(obj.from_).where(*obj.where)).scalar()
                    for name, obj in objects.items()
                }
                for obj in objects.values():
                    self._report_skips(conn, obj)
            self._schema = SourceSchema(
                platform=self.platform,
                objects=tuple(obj.spec(counts[obj.name]) for obj in objects.values()),
            )
        return self._schema

    def _report_skips(self, conn: Connection, obj: SqlObject) -> None:
        for skip in obj.skips:
            source = skip.from_ if skip.from_ is not None else obj.from_
            key = skip.key if skip.key is not None else obj.key
            count = conn.execute(select(func.count()).select_from(source).where(skip.condition)).scalar() or 0
            if not count:
                continue
            keys = conn.execute(select(key).select_from(source).where(skip.condition).order_by(key).limit(20)).scalars()
            label = obj.label or obj.name
            self.report(
                Finding(
                    code=f"source.skipped_{skip.reason}",
                    severity=Severity.INFO,
                    message=f"{count} {label} skipped ({skip.reason.replace('_', ' ')})",
                    object=obj.name,
                    keys=tuple(str(k) for k in keys),
                    count=count,
                    detail="set include_deleted to read them as well",
                )
            )

    def skipped(self, object: str, batch_size: int = 500) -> Iterator[tuple[str, list[Skipped]]]:
        obj = self.sql_object(object)
        number = next((f.expr for f in obj.sql_fields if f.name == number_field_of([f.name])), None)
        for skip in obj.skips:
            source = skip.from_ if skip.from_ is not None else obj.from_
            key = skip.key if skip.key is not None else obj.key
            readable = number is not None and (skip.from_ is None or _reads_only(number, skip.from_))
            columns = [key] + ([number] if readable else [])
            query = select(*columns).select_from(source).where(skip.condition).order_by(key)
            with self.connection("list skipped records") as conn:
                result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(query)
                for rows in result.partitions(batch_size):
                    yield skip.reason, [Skipped(str(row[0]), str(row[1]) if len(row) > 1 and row[1] is not None
                                                else None) for row in rows]

    def iter_records(self, object: str, since: datetime | None = None, batch_size: int = 500,
                     after: str | None = None) -> Iterator[list[Record]]:
        obj = self.sql_object(object)
        base = obj.select()
        if since is not None:
            base = base.where(self._since(obj, since))
        if after is not None:
            base = base.where(obj.key > _key_value(obj, after))
        if obj.keyset:
            yield from self._keyset(obj, base, batch_size)
        else:
            yield from self._stream(obj, base, batch_size)

    def iter_records_after(self, object: str, after: str, since: datetime | None = None,
                           batch_size: int = 500) -> Iterator[list[Record]]:
        return self.iter_records(object, since, batch_size, after=after)

    def _since(self, obj: SqlObject, since: datetime) -> Any:
        name = obj.updated_field or obj.created_field
        if name is None:
            raise ValueError(f"{self.platform} {obj.name} has no date to read changes since")
        value = obj.since_value(since) if obj.since_value else naive_utc(since)
        return comparable_time(obj.field(name).expr) >= comparable_time(_bound(value, obj.field(name).expr))

    def _keyset(self, obj: SqlObject, base: Any, batch_size: int) -> Iterator[list[Record]]:
        """Keyset pages over the rows that have a key, then the rows whose key is NULL (which
        no `key > last` reaches: left in the pages, they would end the read early)."""
        last = None
        keyed = base.where(obj.key.is_not(None))
        while True:
            query = keyed.order_by(obj.key).limit(batch_size)
            if last is not None:
                query = query.where(obj.key > last)
            rows = self.rows(query)
            if not rows:
                break
            last = rows[-1][0]
            yield self.records(obj, rows)
            if len(rows) < batch_size:
                break
        yield from self._stream(obj, base.where(obj.key.is_(None)), batch_size, ordered=False)

    def _stream(self, obj: SqlObject, base: Any, batch_size: int, *, ordered: bool = True) -> Iterator[list[Record]]:
        with self.connection() as conn:
            query = base.order_by(obj.key) if ordered else base
            result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(query)
            stand_ins: Counter[str] = Counter()
            for rows in result.partitions(batch_size):
                yield self.records(obj, rows, stand_ins)

    def records(self, obj: SqlObject, rows: Iterable[Any], stand_ins: Counter[str] | None = None) -> list[Record]:
        """Rows of `obj.select()` as Records: converted, pivots and computed fields filled.
        A row whose key is NULL, blank or not of the key column's type is read under a
        stand-in key with its `key_problem` (`stand_ins` numbers identical such rows)."""
        has_parent = obj.parent_expr is not None
        offset = 2 if has_parent else 1
        clock = self.clock
        fields = [(f.name, f.convert, f.is_text, f.local_time and clock is not None) for f in obj.sql_fields]
        keys: list[str] = []
        raws: list[Any] = []  # the key values as the database holds them (pivot reads bind them)
        datas: list[dict[str, Any]] = []
        parents: list[str | None] = []
        notes: list[tuple[ValueNote, ...]] = []
        problems: list[KeyProblem | None] = []
        seen: set[Any] = set()
        stand_ins = Counter() if stand_ins is None else stand_ins
        for row in rows:
            key, problem = _checked_key(obj, row, stand_ins)
            if problem is None:
                if key in seen:  # a join that fans out: keep the first row of a key
                    continue
                seen.add(key)
            data: dict[str, Any] = {}
            noted: list[ValueNote] = []
            for index, (name, convert, is_text, local) in enumerate(fields, start=offset):
                value = row[index]
                if value is not None:
                    if is_text and isinstance(value, bytes):
                        value = decode_text(value)
                    if local:
                        noted += self._wall_time_notes(name, value)
                    if convert is not None:
                        value = convert(value)
                data[name] = value
            keys.append(key)
            raws.append(row[0])
            datas.append(data)
            notes.append(tuple(noted))
            problems.append(problem)
            parents.append(None if not has_parent or row[1] is None else str(row[1]))
        if obj.pivots and keys:
            self._fill_pivots(obj, raws, datas)
        if obj.enrich is not None and datas:
            obj.enrich(datas)
        updated = obj.updated_field
        return [
            Record(
                object=obj.name,
                key=str(key),
                data=data,
                parent_key=parent,
                updated_at=data.get(updated) if updated and isinstance(data.get(updated), datetime) else None,
                notes=noted,
                key_problem=problem,
            )
            for key, data, parent, noted, problem in zip(keys, datas, parents, notes, problems, strict=True)
        ]

    def local_time(self, value: Any) -> Any:
        """A zone-less wall-clock value of the source as aware UTC, in the source's zone."""
        value = parse_datetime(value)
        if not isinstance(value, datetime):
            return value
        if self.clock is None:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return self.clock.to_utc(value)

    def _wall_time_notes(self, name: str, raw: Any) -> list[ValueNote]:
        """A local time the DST rule settles (a gap or an overlap), as a note on its record."""
        value = parse_datetime(raw)
        if self.clock is None or not isinstance(value, datetime) or value.tzinfo is not None:
            return []
        found = self.clock.note(value)
        return value_notes(name, [found]) if found else []

    def time_zone(self) -> TimeZoneUse | None:
        if self.clock is None:
            return None
        columns = [f.column or f"{obj.name}.{f.name}" for obj in self.objects().values()
                   for f in obj.sql_fields if f.local_time]
        return TimeZoneUse(self.clock.label, self.clock.configured, tuple(dict.fromkeys(columns)))

    def _fill_pivots(self, obj: SqlObject, keys: list[Any], datas: list[dict[str, Any]]) -> None:
        by_key = {str(key): data for key, data in zip(keys, datas, strict=True)}
        for pivot in obj.pivots:
            for data in datas:
                for name in pivot.fields.values():
                    data[name] = None
            if not pivot.fields:
                continue
            for chunk in chunks([key for key in keys if key is not None]):
                query = (
                    select(pivot.entity, pivot.field_id, pivot.content)
                    .select_from(pivot.values)
                    .where(pivot.entity.in_(list(chunk)), pivot.field_id.in_(list(pivot.fields)))
                    .order_by(pivot.entity, pivot.field_id)
                )
                for entity, field_id, content in self.rows(query, "read custom fields"):
                    target = by_key.get(str(entity))
                    if target is not None:
                        target[pivot.fields[field_id]] = decode_text(content) if isinstance(content, bytes) else content

    def children(self, object: str, parent_keys: Sequence[str]) -> dict[str, list[Record]]:
        obj = self.sql_object(object)
        if obj.parent_expr is None:
            raise KeyError(f"{self.platform} {object} is not a child object")
        grouped: dict[str, list[Record]] = {key: [] for key in parent_keys}
        wanted = _bind_values(parent_keys, obj.parent_key_type)
        alias = {str(value): key for value, key in wanted.items()}
        for chunk in chunks(list(wanted)):
            query = obj.select().where(obj.parent_expr.in_(list(chunk))).order_by(obj.parent_expr, *obj.order, obj.key)
            for record in self.records(obj, self.rows(query)):
                grouped[alias.get(record.parent_key, record.parent_key)].append(record)
        return grouped

    def get(self, object: str, keys: Sequence[str]) -> list[Record]:
        obj = self.sql_object(object)
        found: list[Record] = []
        for chunk in chunks(list(_bind_values(keys, obj.key_type))):
            found += self.records(obj, self.rows(obj.select().where(obj.key.in_(list(chunk))).order_by(obj.key)))
        return found

    # -- audit primitives, pushed down ----------------------------------------------

    def profile(self, object: str) -> ObjectProfile:
        obj = self.sql_object(object)
        return pushdown.profile(self, obj)

    def duplicate_values(
        self, object: str, field: str, *, casefold: bool = True, sample: int = 5
    ) -> list[tuple[str, int, tuple[str, ...]]]:
        obj = self.sql_object(object)
        if obj.field(field).expr is None:
            return super().duplicate_values(object, field, casefold=casefold, sample=sample)
        return pushdown.duplicate_values(self, obj, field, casefold=casefold, sample=sample)

    def orphan_keys(self, object: str, field: str, target: str, *, sample: int = 20) -> tuple[int, tuple[str, ...]]:
        obj, goal = self.sql_object(object), self.sql_object(target)
        if field != "parent" and obj.field(field).expr is None:
            return super().orphan_keys(object, field, target, sample=sample)
        return pushdown.orphan_keys(self, obj, field, goal, sample=sample)

    def child_counts(self, child: str, *, over: int = 0) -> dict[str, int]:
        return pushdown.child_counts(self, self.sql_object(child), over=over)

    def childless_keys(self, parent: str, child: str, *, sample: int = 20) -> tuple[int, tuple[str, ...]]:
        return pushdown.childless_keys(self, self.sql_object(parent), self.sql_object(child), sample=sample)


def _checked_key(obj: SqlObject, row: Any, stand_ins: Counter[str]) -> tuple[str, KeyProblem | None]:
    """A row's record key, or a stand-in and why its own cannot serve (NULL, blank, or a value
    the key column's type cannot hold, as SQLite lets a column keep)."""
    value = row[0]
    column = getattr(obj.key, "name", None) or "the key"
    if value is None or (isinstance(value, str) and not value.strip()):
        digest = hashlib.sha1(repr(tuple(row)[1:]).encode("utf-8", "surrogatepass")).hexdigest()[:10]
        stand_ins[digest] += 1
        n = stand_ins[digest]
        key = f"no-key-{digest}" + (f"-{n}" if n > 1 else "")
        what = "NULL" if value is None else "blank"
        return key, KeyProblem(KEY_MISSING, f"its key ({column}) is {what}: it cannot be loaded once and only once")
    key = str(value)
    try:
        obj.key_type(key)
    except (TypeError, ValueError):
        return key, KeyProblem(KEY_MALFORMED, f"its key ({column}) {key[:40]!r} is not a value of the key's type")
    return key, None


def _bind_values(keys: Iterable[str], cast: Any) -> dict[Any, str]:
    """Record keys as bind values of the key column's type; keys that cannot be are dropped
    (no row can have them)."""
    values: dict[Any, str] = {}
    for key in keys:
        try:
            values[cast(key)] = key
        except (TypeError, ValueError):
            continue
    return values


def _reads_only(expr: Any, source: Any) -> bool:
    """Does `expr` read only columns of the tables in `source` (so it can be selected from it)?"""
    tables = set(find_tables(source, include_joins=False, include_aliases=True))
    columns = [c for c in visitors.iterate(expr) if isinstance(c, Column)]
    return bool(columns) and all(c.table in tables for c in columns)


def _bound(value: Any, like: Any) -> Any:
    return literal(value, like.type)


def _key_value(obj: SqlObject, key: str) -> Any:
    """A record's key (a string, as Records carry it) as its column compares: integer keys
    must compare as numbers, or 10 would come before 9."""
    try:
        kind = obj.key.type.python_type
    except (AttributeError, NotImplementedError):
        return key
    return int(key) if kind is int else key
