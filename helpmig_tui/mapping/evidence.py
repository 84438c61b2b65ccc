"""What the proposers know about the source: its objects and fields, with the audit's
profiles (fill, distinct values, longest value, samples).

Built from the project store (offline, after an audit) or from a live schema and its
profiles (tests, the benchmark). Field names a connector lists twice are kept once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from connectors.base import FieldType, ObjectProfile, ObjectRole, SourceSchema
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Project, SourceObject


@dataclass(frozen=True)
class FieldEvidence:
    name: str
    type: FieldType = FieldType.STRING
    label: str = ""
    custom: bool = False
    references: str | None = None
    declared_max: int | None = None  # the source's declared limit
    options: tuple[str, ...] = ()
    filled: int | None = None  # None: not profiled
    distinct: int | None = None  # None: too many to count
    longest: int | None = None
    samples: tuple[str, ...] = ()
    top_values: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ObjectEvidence:
    name: str
    role: ObjectRole
    fields: tuple[FieldEvidence, ...]
    label: str = ""
    count: int | None = None
    key: str = "id"
    parent: str | None = None
    parent_field: str | None = None
    created_field: str | None = None
    updated_field: str | None = None

    def field(self, name: str) -> FieldEvidence | None:
        return next((f for f in self.fields if f.name == name), None)

    def fill_rate(self, f: FieldEvidence) -> float | None:
        if f.filled is None or not self.count:
            return None
        return f.filled / self.count


@dataclass(frozen=True)
class SourceEvidence:
    platform: str
    objects: tuple[ObjectEvidence, ...]
    timezone: str = "UTC"

    def object(self, name: str) -> ObjectEvidence | None:
        return next((o for o in self.objects if o.name == name), None)


def _unique(fields: list[FieldEvidence]) -> tuple[FieldEvidence, ...]:
    seen: set[str] = set()
    out = []
    for f in fields:
        if f.name not in seen:
            seen.add(f.name)
            out.append(f)
    return tuple(out)


def _as_type(value: str | None) -> FieldType:
    try:
        return FieldType(value or "string")
    except ValueError:
        return FieldType.STRING


def evidence_from_schema(
    schema: SourceSchema, profiles: Mapping[str, ObjectProfile] | None = None, timezone: str = "UTC"
) -> SourceEvidence:
    profiles = profiles or {}
    objects = []
    for spec in schema.objects:
        prof = profiles.get(spec.name)
        fields = []
        for f in spec.fields:
            fp = prof.fields.get(f.name) if prof else None
            fields.append(
                FieldEvidence(
                    f.name, f.type, f.label, f.custom, f.references, f.max_length, tuple(f.options),
                    filled=fp.filled if fp else None,
                    distinct=fp.distinct if fp else None,
                    longest=fp.max_length if fp else None,
                    samples=tuple(str(v) for v in fp.samples) if fp else (),
                    top_values=tuple((str(v), n) for v, n in fp.top_values) if fp else (),
                )
            )
        objects.append(
            ObjectEvidence(
                spec.name, spec.role, _unique(fields), spec.label, prof.count if prof else spec.count,
                spec.key, spec.parent, spec.parent_field, spec.created_field, spec.updated_field,
            )
        )
    return SourceEvidence(schema.platform, tuple(objects), timezone)


def source_timezone(options: Mapping[str, Any]) -> str:
    """The source's time zone from a project's options (--timezone, or a connector's own)."""
    return str(options.get("timezone") or options.get("time_zone") or "UTC")


def evidence_from_store(store: ProjectStore) -> SourceEvidence:
    """The last audit's view of the source. Empty objects when there was no audit."""
    with store.reader() as session:
        project = session.get(Project, 1)
        rows = list(session.scalars(select(SourceObject).order_by(SourceObject.name)))
    assert project is not None
    objects = []
    for row in rows:
        profile = row.profile or {}
        spec = row.spec or {}
        fields = []
        for f in row.fields:
            fp = profile.get(f["name"], {})
            fields.append(
                FieldEvidence(
                    f["name"], _as_type(f.get("type")), f.get("label") or "", bool(f.get("custom")),
                    f.get("references"), f.get("max_length"), tuple(f.get("options") or ()),
                    filled=fp.get("filled"), distinct=fp.get("distinct"), longest=fp.get("max_length"),
                    samples=tuple(fp.get("samples") or ()),
                    top_values=tuple((str(v), int(n)) for v, n in fp.get("top_values") or ()),
                )
            )
        try:
            role = ObjectRole(row.role)
        except ValueError:
            role = ObjectRole.RECORD
        objects.append(
            ObjectEvidence(
                row.name, role, _unique(fields), row.label, row.count, spec.get("key") or "id",
                spec.get("parent"), spec.get("parent_field"), spec.get("created_field"), spec.get("updated_field"),
            )
        )
    return SourceEvidence(project.platform, tuple(objects), source_timezone(project.source_options))
