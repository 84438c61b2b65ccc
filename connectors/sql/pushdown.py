"""The audit's questions asked of the database: aggregates, GROUP BY and anti-joins.

Each answer costs the database a scan or two and helpmig a few rows, so a million-row
source is profiled in flat memory. Every GROUP BY groups plain columns of a derived
table: SQL Server rejects a grouped expression whose parameters differ from the
selected one. Results match `Source`'s streaming defaults, except where the database's
own rules differ (SQL Server's usual collation compares case- and trailing-space-
insensitively). A long-text column (TEXT, nvarchar(max)) gets its distinct count only
when its longest value is short: a column declared TEXT that holds a pick list is
counted like one, bodies and notes are never grouped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Unicode, and_, case, distinct, exists, func, literal_column, null, select, type_coerce, union_all

from connectors.base import (
    SAMPLE_VALUES,
    SMALL_DOMAIN,
    FieldProfile,
    FieldType,
    ObjectProfile,
    ObjectSpec,
    domain_value,
    profile_records,
)
from connectors.sql.batching import chunks
from connectors.sql.objects import LONG_TEXT, SqlField, SqlObject
from connectors.sql.portable import case_sensitive, comparable, nstr, text_length, trimmed

if TYPE_CHECKING:
    from connectors.sql.source import SqlSource

ORDERED = (FieldType.INTEGER, FieldType.FLOAT, FieldType.DATETIME)
SAMPLE_SCAN = 1000  # records read to find sample values
SHORT_TEXT = 255  # long-text columns whose longest value fits get a distinct count
DOMAINS_PER_STATEMENT = 40  # small-domain fields whose values one UNION ALL counts


def _filled(column: Any, is_text: bool) -> Any:
    if is_text:
        return and_(column.is_not(None), comparable(column) != nstr(""))
    return column.is_not(None)


def _convert(item: SqlField, value: Any) -> Any:
    return item.convert(value) if value is not None and item.convert is not None else value


def profile(src: SqlSource, obj: SqlObject) -> ObjectProfile:
    """Counts, date range and per-field statistics from aggregate queries."""
    sub = obj.select().subquery("p")
    fields = obj.sql_fields
    columns: list[Any] = [func.count().label("n")]
    created = obj.field(obj.created_field) if obj.created_field else None
    if created is not None and created.expr is not None:
        columns += [func.min(sub.c[created.name]), func.max(sub.c[created.name])]
    else:
        columns += [None, None]
    for item in fields:
        col = sub.c[item.name]
        if item.is_text:
            nonempty = comparable(col)
            columns += [
                func.sum(case((_filled(col, True), 1), else_=0)),
                func.max(text_length(col)),
                None if item.type in LONG_TEXT else func.count(distinct(case((nonempty != nstr(""), nonempty)))),
                None,
                None,
            ]
        else:
            ordered = item.type in ORDERED
            columns += [
                func.count(col),
                None,
                func.count(distinct(col)),
                func.min(col) if ordered else None,
                func.max(col) if ordered else None,
            ]
    present = [c for c in columns if c is not None]
    values = iter(src.rows(select(*present), "profile")[0])
    answer = [next(values) if c is not None else None for c in columns]

    result = ObjectProfile(object=obj.name, count=answer[0] or 0)
    if created is not None:
        result.first_created, result.last_created = _convert(created, answer[1]), _convert(created, answer[2])
    position = 3
    profiles: dict[str, FieldProfile] = {}
    small: list[SqlField] = []
    for item in fields:
        filled, max_len, n_distinct, low, high = answer[position : position + 5]
        position += 5
        prof = FieldProfile(
            name=item.name,
            filled=int(filled or 0),
            max_length=max_len,
            min_value=_convert(item, low),
            max_value=_convert(item, high),
        )
        if n_distinct is not None and n_distinct <= SMALL_DOMAIN:
            prof.distinct = n_distinct
            small.append(item)
        profiles[item.name] = prof
    small += _short_long_text(src, sub, [f for f in fields if f.type in LONG_TEXT], profiles)
    for group in chunks(small, DOMAINS_PER_STATEMENT):
        for item, top in zip(group, _top_values(src, obj, group), strict=True):
            profiles[item.name].top_values = top
    profiles.update(_pivot_profiles(src, obj))
    if obj.python_fields:
        streamed = profile_records(_only(obj, obj.python_fields), src.iter_records(obj.name))
        profiles.update(streamed.fields)
    _samples(src, obj, profiles)
    result.fields = {item.name: profiles[item.name] for item in obj.fields}
    return result


def _short_long_text(src: SqlSource, sub: Any, fields: list[SqlField], profiles: dict[str, FieldProfile]) -> list[SqlField]:
    """Distinct counts of the long-text columns whose values are all short; the ones with
    a small domain are returned (their values are counted next)."""
    short = [f for f in fields if profiles[f.name].filled and (profiles[f.name].max_length or 0) <= SHORT_TEXT]
    if not short:
        return []
    counts = src.rows(select(*[
        func.count(distinct(case((comparable(sub.c[f.name]) != nstr(""), comparable(sub.c[f.name]))))) for f in short
    ]), "profile short text")[0]
    small = []
    for item, n_distinct in zip(short, counts, strict=True):
        if n_distinct is not None and n_distinct <= SMALL_DOMAIN:
            profiles[item.name].distinct = n_distinct
            small.append(item)
    return small


def _top_values(src: SqlSource, obj: SqlObject, items: Sequence[SqlField]) -> list[list[tuple[Any, int]]]:
    """Each small-domain field's values with their counts, in one statement: the fields'
    columns read once (a CTE, which SQLite materialises once), a GROUP BY per field joined
    by UNION ALL. Each field's values come in a column of their own (NULL in the other
    branches), so no database has to reconcile one field's type with another's."""
    read = select(*[item.expr.label(f"f{i}") for i, item in enumerate(items)]).select_from(obj.from_)
    base = read.where(*obj.where).cte("tv")
    empty = [type_coerce(null(), item.expr.type).label(f"v{j}") for j, item in enumerate(items)]
    branches = []
    for i, item in enumerate(items):
        col = base.c[f"f{i}"]
        value = comparable(col) if item.is_text else col
        inner = select(value.label("v")).where(_filled(col, item.is_text)).subquery(f"g{i}")
        slots = [*empty[:i], inner.c.v.label(f"v{i}"), *empty[i + 1 :]]
        branches.append(
            select(literal_column(str(i)).label("i"), *slots, func.count().label("n")).group_by(inner.c.v)
        )
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    counts: list[dict[Any, int]] = [{} for _ in items]
    for row in src.rows(statement, "profile values"):
        i = int(row[0])
        key = domain_value(_convert(items[i], row[1 + i]))
        counts[i][key] = counts[i].get(key, 0) + row[-1]
    return [sorted(found.items(), key=lambda kv: (-kv[1], str(kv[0])))[:SMALL_DOMAIN] for found in counts]


def _pivot_profiles(src: SqlSource, obj: SqlObject) -> dict[str, FieldProfile]:
    profiles: dict[str, FieldProfile] = {}
    owners = select(obj.key).select_from(obj.from_).where(*obj.where)
    for pivot in obj.pivots:
        for name in pivot.fields.values():
            profiles[name] = FieldProfile(name=name, distinct=0, top_values=[])
        if not pivot.fields:
            continue
        content = comparable(pivot.content)
        nonempty = _filled(pivot.content, True)
        inner = (
            select(pivot.field_id.label("f"), content.label("v"))
            .select_from(pivot.values)
            .where(pivot.entity.in_(owners), pivot.field_id.in_(list(pivot.fields)), nonempty)
            .subquery("cf")
        )
        rows = src.rows(
            select(inner.c.f, func.count(), func.max(text_length(inner.c.v)), func.count(distinct(inner.c.v))).group_by(
                inner.c.f
            ),
            "profile custom fields",
        )
        small = []
        for field_id, filled, max_len, n_distinct in rows:
            prof = profiles[pivot.fields[field_id]]
            prof.filled, prof.max_length, prof.distinct = int(filled), max_len, n_distinct
            if n_distinct <= SMALL_DOMAIN:
                small.append(field_id)
            else:
                prof.distinct = None
        if small:
            grouped = src.rows(
                select(inner.c.f, inner.c.v, func.count()).where(inner.c.f.in_(small)).group_by(inner.c.f, inner.c.v),
                "profile custom field values",
            )
            tops: dict[Any, dict[Any, int]] = {}
            for field_id, value, count in grouped:
                tops.setdefault(field_id, {})[value] = count
            for field_id, counts in tops.items():
                profiles[pivot.fields[field_id]].top_values = sorted(
                    counts.items(), key=lambda kv: (-kv[1], str(kv[0]))
                )[:SMALL_DOMAIN]
    return profiles


def _only(obj: SqlObject, fields: list[SqlField]) -> ObjectSpec:
    return ObjectSpec(name=obj.name, role=obj.role, fields=tuple(item.spec() for item in fields))


def _samples(src: SqlSource, obj: SqlObject, profiles: dict[str, FieldProfile]) -> None:
    """A few real values per field, from the first records (as the streaming profile takes)."""
    seen = 0
    for batch in src.iter_records(obj.name, batch_size=200):
        for record in batch:
            for name, prof in profiles.items():
                value = record.data.get(name)
                if value is None or value == "" or value == []:
                    continue
                if len(prof.samples) < SAMPLE_VALUES and value not in prof.samples:
                    prof.samples.append(value)
        seen += len(batch)
        if seen >= SAMPLE_SCAN or all(len(p.samples) >= SAMPLE_VALUES for p in profiles.values()):
            return


def duplicate_values(
    src: SqlSource, obj: SqlObject, field: str, *, casefold: bool, sample: int
) -> list[tuple[str, int, tuple[str, ...]]]:
    """Values held by more than one record, by GROUP BY ... HAVING COUNT(*) > 1."""
    item = obj.field(field)
    sub = obj.lean_select(field).subquery("d")
    col = sub.c[field]
    if item.is_text:
        base = trimmed(comparable(col))
        value = func.lower(base, type_=Unicode()) if casefold else case_sensitive(base)
        keep = [col.is_not(None), base != nstr("")]
    else:
        value, keep = col, [col.is_not(None)]
    norm = select(sub.c["__key"].label("k"), value.label("v")).where(*keep).subquery("n")
    groups = src.rows(select(norm.c.v, func.count()).group_by(norm.c.v).having(func.count() > 1), "find duplicates")
    groups = sorted(((str(v), int(n)) for v, n in groups), key=lambda row: (-row[1], row[0]))
    keys: dict[str, list[str]] = {value: [] for value, _ in groups}
    raw_values = [v for v, _ in groups]
    for chunk in chunks(raw_values):
        query = select(norm.c.v, norm.c.k).where(norm.c.v.in_(list(chunk))).order_by(norm.c.v, norm.c.k)
        for value, key in src.rows(query, "find duplicates"):
            bucket = keys.get(str(value))
            if bucket is not None and len(bucket) < sample:
                bucket.append(str(key))
    return [(value, count, tuple(keys[value])) for value, count in groups]


def orphan_keys(
    src: SqlSource, obj: SqlObject, field: str, target: SqlObject, *, sample: int
) -> tuple[int, tuple[str, ...]]:
    """Records pointing at a target record that does not exist, by NOT EXISTS."""
    if field == "parent":
        if obj.parent_expr is None:
            raise KeyError(f"{obj.name} has no parent")
        sub = obj.lean_select().subquery("o")
        ref, is_text = sub.c["__parent"], False
    else:
        item = obj.field(field)
        sub = obj.lean_select(field).subquery("o")
        ref, is_text = sub.c[field], item.is_text
    # An anti-join against the distinct target keys rather than a correlated NOT EXISTS:
    # when the target is itself derived (Track-It!'s requesters are grouped from a view),
    # SQLite would re-evaluate it per row; a joined subquery is materialised and indexed once.
    targets = select(target.key.label("k")).select_from(target.from_).where(*target.where).distinct().subquery("t")
    joined = sub.outerjoin(targets, targets.c.k == ref)
    # a part with no parent (NULL) has nowhere to go: an orphan too; an empty reference is none
    condition = targets.c.k.is_(None) if field == "parent" else and_(_filled(ref, is_text), targets.c.k.is_(None))
    count = src.scalar(select(func.count()).select_from(joined).where(condition), "find orphans")
    keys = src.rows(
        select(sub.c["__key"]).select_from(joined).where(condition).order_by(sub.c["__key"]).limit(sample), "find orphans"
    )
    return int(count or 0), tuple(str(row[0]) for row in keys)


def child_counts(src: SqlSource, child: SqlObject, *, over: int) -> dict[str, int]:
    """Children per parent, for parents with more than `over`, by GROUP BY ... HAVING."""
    if child.parent_expr is None:
        raise KeyError(f"{child.name} is not a child object")
    sub = child.lean_select().subquery("c")
    parent = sub.c["__parent"]
    query = select(parent, func.count()).where(parent.is_not(None)).group_by(parent).having(func.count() > over)
    return {str(key): int(count) for key, count in src.rows(query, "count children")}


def childless_keys(src: SqlSource, parent: SqlObject, child: SqlObject, *, sample: int) -> tuple[int, tuple[str, ...]]:
    """Parents with no child at all, by NOT EXISTS."""
    if child.parent_expr is None:
        raise KeyError(f"{child.name} is not a child object")
    parents = parent.lean_select().subquery("p")
    children = child.lean_select().subquery("c")
    condition = ~exists().where(children.c["__parent"] == parents.c["__key"])
    count = src.scalar(select(func.count()).select_from(parents).where(condition), "find childless records")
    keys = src.rows(
        select(parents.c["__key"]).where(condition).order_by(parents.c["__key"]).limit(sample), "find childless records"
    )
    return int(count or 0), tuple(str(row[0]) for row in keys)
