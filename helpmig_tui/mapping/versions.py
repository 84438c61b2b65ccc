"""The map in the project store: a working draft, confirmed versions, every change.

- The latest `field_maps` row is the working map. A confirmed version is never changed:
  the first edit after a confirmation opens a new draft version copied from it.
- A draft becomes a confirmed version by itself when its last row is confirmed and it
  covers every required Intercom field; the version it replaces becomes superseded.
- Every proposal, edit, confirmation and skip is a `map_changes` row: who (the OS user),
  when, before and after.
- `require_confirmed_map` is the loader's gate.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpmig_tui.mapping.model import (
    FieldMap,
    FieldTarget,
    MigrationMap,
    ObjectMap,
    ObjectOptions,
    SkipTarget,
    target_problem,
)
from helpmig_tui.mapping.transforms import Transform
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import FieldMap as FieldMapRow
from helpmig_tui.state.models import MapChange, Project, Run


class MapStateError(Exception):
    """An operation on the map cannot be done (no map yet, an unknown row). For the operator."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class MapRequirementError(MapStateError):
    """The map is not ready for a load; `problems` says what is missing, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "the field map is not ready: " + "; ".join(problems),
            hint="review it in the wizard's Mapping step, or: helpmig map P --show",
        )
        self.problems = problems


@dataclass(frozen=True)
class MapVersion:
    version: int
    status: str  # draft | confirmed | superseded
    created_at: datetime
    hash: str
    proposer: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    note: str
    map: MigrationMap


def actor() -> str:
    """Who is making a change: the OS user name."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no user name in the environment (a service account without a profile)
        return "unknown"


def _version(row: FieldMapRow) -> MapVersion:
    return MapVersion(row.version, row.status, row.created_at, row.hash, row.proposer, row.confirmed_at,
                      row.confirmed_by, row.note, MigrationMap.model_validate(row.body))


def _latest_row(session: Session) -> FieldMapRow | None:
    return session.scalars(select(FieldMapRow).order_by(FieldMapRow.version.desc()).limit(1)).first()


def latest(store: ProjectStore) -> MapVersion | None:
    with store.reader() as session:
        row = _latest_row(session)
        return _version(row) if row else None


def last_confirmed(store: ProjectStore, before: int | None = None) -> MapVersion | None:
    """The newest confirmed (or since superseded) version, older than `before` if given."""
    with store.reader() as session:
        query = select(FieldMapRow).where(FieldMapRow.confirmed_at.is_not(None))
        if before is not None:
            query = query.where(FieldMapRow.version < before)
        row = session.scalars(query.order_by(FieldMapRow.version.desc()).limit(1)).first()
        return _version(row) if row else None


def _row_dump(row: ObjectMap | FieldMap | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return row.model_dump(mode="json", exclude={"samples"}, exclude_none=True)


def _record(session: Session, version: int, who: str, action: str, key: str,
            before: ObjectMap | FieldMap | None, after: ObjectMap | FieldMap | None) -> None:
    obj, _, field = key.partition(".")
    session.add(MapChange(version=version, actor=who, object=obj, field=field or "*", action=action,
                          before=_row_dump(before), after=_row_dump(after)))


def _write(session: Session, row: FieldMapRow, mmap: MigrationMap, who: str) -> None:
    """Store the working map, and seal it into a confirmed version when it is complete."""
    row.body = mmap.model_dump(mode="json", exclude_none=True)
    row.hash = mmap.hash()
    row.proposer = mmap.proposer
    if row.status == "draft" and not mmap.blockers():
        now = datetime.now(UTC)
        for older in session.scalars(select(FieldMapRow).where(FieldMapRow.status == "confirmed")):
            older.status = "superseded"
        row.status, row.confirmed_at, row.confirmed_by = "confirmed", now, who
        project = session.get(Project, 1)
        if project is not None and project.stage in ("created", "audited"):
            project.stage = "mapped"


def _working(session: Session) -> tuple[FieldMapRow, MigrationMap]:
    """The draft to change: the latest draft, or a new one copied from a confirmed version."""
    row = _latest_row(session)
    if row is None:
        raise MapStateError("there is no field map yet", hint="propose one first: helpmig map P --propose")
    if row.status == "draft":
        return row, MigrationMap.model_validate(row.body)
    draft = FieldMapRow(version=row.version + 1, hash=row.hash, status="draft", proposer=row.proposer,
                        body=row.body, note=f"edits after version {row.version}")
    session.add(draft)
    session.flush()
    return draft, MigrationMap.model_validate(row.body)


def carry_over(new: MigrationMap, old: MigrationMap) -> MigrationMap:
    """A fresh proposal that keeps the operator's decisions: rows of the old map that were
    edited, confirmed or skipped win where the object (and its target) still exist."""
    objects = []
    for om in new.objects:
        before = old.object_map(om.object)
        kept = before is not None and before.status != "proposed" and before.target is om.target
        objects.append(before if kept else om)  # type: ignore[arg-type]
    fields = []
    for fm in new.fields:
        before = old.field_map(fm.object, fm.field)
        old_obj, new_obj = old.object_map(fm.object), new.object_map(fm.object)
        same_kind = old_obj is not None and new_obj is not None and old_obj.target is new_obj.target
        if before is not None and before.status != "proposed" and same_kind:
            fields.append(before.model_copy(update={"samples": fm.samples}))
        else:
            fields.append(fm)
    return new.model_copy(update={"objects": objects, "fields": fields}).revalidated()


def save_map(store: ProjectStore, mmap: MigrationMap, *, action: str = "propose", keep_decisions: bool = True,
             who: str | None = None, note: str = "") -> MapVersion:
    """Store a proposal (or an imported map) as the new working draft."""
    who = who or actor()
    with store.session() as session:
        previous = _latest_row(session)
        if previous is not None and keep_decisions:
            mmap = carry_over(mmap, MigrationMap.model_validate(previous.body))
        if previous is not None and previous.status == "draft":
            previous.status = "superseded"
        row = FieldMapRow(version=(previous.version + 1) if previous else 1, hash=mmap.hash(), status="draft",
                          proposer=mmap.proposer, body={}, note=note)
        session.add(row)
        session.flush()
        session.add(MapChange(version=row.version, actor=who, object="*", field="*", action="reset",
                              before=None, after={"action": action, "proposer": mmap.proposer, "note": note,
                                                  "objects": len(mmap.objects), "fields": len(mmap.fields)}))
        _write(session, row, mmap, who)
        session.flush()
        return _version(row)


def _find(mmap: MigrationMap, key: str) -> ObjectMap | FieldMap:
    obj, _, field = key.partition(".")
    row = mmap.field_map(obj, field) if field else mmap.object_map(obj)
    if row is None:
        raise MapStateError(f"{key} is not in the map", hint="use OBJECT or OBJECT.FIELD as --show lists them")
    return row


def edit_field(store: ProjectStore, obj: str, field: str, *, target: FieldTarget | None = None,
               transforms: list[Transform] | None = None, who: str | None = None) -> MapVersion:
    """Change a field's target and/or transforms; the row becomes `edited` (unconfirmed)."""
    who = who or actor()
    with store.session() as session:
        row, mmap = _working(session)
        before = _find(mmap, f"{obj}.{field}")
        assert isinstance(before, FieldMap)
        om = mmap.object_map(obj)
        assert om is not None
        new_target = target if target is not None else before.target
        problem = target_problem(om.target, new_target)
        if problem:
            raise MapStateError(f"{obj}.{field}: {problem}")
        after = before.model_copy(update={
            "target": new_target,
            "transforms": list(transforms) if transforms is not None else before.transforms,
            "status": "edited", "confidence": 1.0, "reason": f"edited by {who}",
        })
        mmap = mmap.with_rows(fields=[after])
        _record(session, row.version, who, "edit", after.key, before, after)
        _write(session, row, mmap, who)
        session.flush()
        return _version(row)


def edit_object(store: ProjectStore, obj: str, *, options: ObjectOptions | None = None,
                replacement: MigrationMap | None = None, who: str | None = None) -> MapVersion:
    """Change an object's options, or swap in a re-proposal for a new target
    (`replacement` holds the object and its fields as proposed for it)."""
    who = who or actor()
    with store.session() as session:
        row, mmap = _working(session)
        before = _find(mmap, obj)
        assert isinstance(before, ObjectMap)
        if replacement is not None:
            new_om = replacement.object_map(obj)
            assert new_om is not None
            after = new_om.model_copy(update={"status": "edited", "reason": f"target chosen by {who}: {new_om.reason}"})
            others = [f for f in mmap.fields if f.object != obj]
            mmap = mmap.model_copy(update={
                "objects": [after if o.object == obj else o for o in mmap.objects],
                "fields": others + replacement.fields_of(obj),
            }).revalidated()
        else:
            after = before.model_copy(update={"options": options or before.options, "status": "edited",
                                              "reason": f"edited by {who}"})
            mmap = mmap.with_rows(objects=[after])
        _record(session, row.version, who, "edit", obj, before, after)
        _write(session, row, mmap, who)
        session.flush()
        return _version(row)


def include_left_out(store: ProjectStore, rule: str, who: str | None = None) -> MapVersion:
    """Drop the scope rule OBJECT:CODE, so the records it left out migrate (the object
    becomes edited, to be confirmed)."""
    obj, _, code = rule.partition(":")
    current = latest(store)
    om = current.map.object_map(obj) if current is not None else None
    if om is None:
        raise MapStateError(f"{obj!r} is not in the map", hint="`helpmig map P --show` lists the objects")
    codes = [r.code for r in om.options.skip_when]
    if code not in codes:
        raise MapStateError(f"{obj} has no scope rule {code!r}",
                            hint=f"its rules: {', '.join(codes)}" if codes else f"{obj} leaves nothing out")
    return edit_object(store, obj, options=om.options.without_rule(code), who=who)


def skip_field(store: ProjectStore, obj: str, field: str, who: str | None = None) -> MapVersion:
    """Decide that a field does not move (settled at once)."""
    who = who or actor()
    with store.session() as session:
        row, mmap = _working(session)
        before = _find(mmap, f"{obj}.{field}")
        after = before.model_copy(update={"target": SkipTarget(), "transforms": [], "status": "skipped",
                                           "reason": f"skipped by {who}"})
        mmap = mmap.with_rows(fields=[after])  # type: ignore[list-item]
        _record(session, row.version, who, "skip", after.key, before, after)
        _write(session, row, mmap, who)
        session.flush()
        return _version(row)


@dataclass(frozen=True)
class ConfirmResult:
    confirmed: list[str]  # the rows this call confirmed
    left: list[str]  # rows still unconfirmed
    version: MapVersion

    @property
    def sealed(self) -> bool:
        return self.version.status == "confirmed"


def confirm(store: ProjectStore, items: Iterable[str] | None = None, *, min_confidence: float | None = None,
            who: str | None = None) -> ConfirmResult:
    """Confirm rows: `items` are OBJECT or OBJECT.FIELD keys (None: every row), optionally
    only those proposed with at least `min_confidence`. Edited rows are confirmed as
    edited. Rows in an open review (a target without its source, two sources for one
    target) are confirmed only when named: never in bulk. Returns what was confirmed and
    what is left."""
    who = who or actor()
    with store.session() as session:
        row, mmap = _working(session)
        # naming an object confirms the object row only, not its fields
        rows = mmap.rows() if items is None else [_find(mmap, key) for key in items]
        bulk = items is None or min_confidence is not None
        done: list[str] = []
        changed_objects, changed_fields = [], []
        for item in rows:
            if item.settled:
                continue
            if bulk and isinstance(item, FieldMap) and item.status == "proposed" and mmap.in_open_review(item.key):
                continue
            if isinstance(item, FieldMap):
                om = mmap.object_map(item.object)
                if om is None or not om.active:
                    continue
            if min_confidence is not None and item.status == "proposed" and item.confidence < min_confidence:
                continue
            status = "skipped" if isinstance(item, FieldMap) and item.target.type == "skip" else "confirmed"
            after = item.model_copy(update={"status": status})
            (changed_fields if isinstance(after, FieldMap) else changed_objects).append(after)
            _record(session, row.version, who, "confirm", after.key, item, after)
            done.append(after.key)
        if done:
            mmap = mmap.with_rows(objects=changed_objects, fields=changed_fields)
        if done or row.status == "draft":  # a draft with nothing left to confirm is sealed now
            _write(session, row, mmap, who)
        session.flush()
        return ConfirmResult(done, mmap.unconfirmed(), _version(row))


def custom_object_types_by_run(store: ProjectStore) -> dict[int, dict[str, str]]:
    """Each run's custom object type per source object, by the map version it ran with: a
    rollback deletes an instance as the type it was written as, whatever a later map says
    (Intercom answers 404 to the wrong type, which would pass for "already gone")."""
    with store.reader() as session:
        runs = session.execute(select(Run.id, Run.map_version).where(Run.map_version.is_not(None))).all()
        rows = session.scalars(select(FieldMapRow).where(FieldMapRow.version.in_({v for _, v in runs}))).all()
        by_version = {row.version: {o.object: o.options.custom_object_type or ""
                                    for o in MigrationMap.model_validate(row.body).objects} for row in rows}
    return {run: by_version.get(version, {}) for run, version in runs}


def require_confirmed_map(store: ProjectStore) -> MigrationMap:
    """The confirmed map the loader uses; MapRequirementError says why there is none:
    no map, unconfirmed rows, required Intercom fields not covered, or a map that
    changed since the sample run and was not confirmed again."""
    return require_confirmed_version(store).map


def require_confirmed_version(store: ProjectStore) -> MapVersion:
    """require_confirmed_map with the version's number and hash (for runs.map_version
    and runs.map_hash)."""
    with store.reader() as session:
        row = _latest_row(session)
        if row is None:
            raise MapRequirementError(["there is no field map yet: propose one and confirm it"])
        mmap = MigrationMap.model_validate(row.body)
        problems: list[str] = []
        if mmap.hash() != row.hash:
            problems.append(f"the stored map (version {row.version}) does not match its hash: confirm it again")
        if row.status != "confirmed":
            sample = session.scalars(
                select(Run).where(Run.kind == "sample", Run.map_hash.is_not(None)).order_by(Run.id.desc()).limit(1)
            ).first()
            if sample is not None and sample.map_hash != row.hash:
                problems.append(
                    f"the map changed since the sample run (version {sample.map_version}, hash "
                    f"{(sample.map_hash or '')[:12]}): confirm it again"
                )
            problems += mmap.blockers() or [f"version {row.version} is not confirmed"]
        if problems:
            raise MapRequirementError(problems)
        return _version(row)

