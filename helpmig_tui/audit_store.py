"""Saving an audit into the project store, reading it back, and settling findings.

A finding is settled by acknowledging it (done, understood) or waiving it (with a note);
decisions carry over to the next audit for the same code and object, so re-running the
audit never loses the operator's work. Open blockers stop the load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, select

from helpmig_tui.audit import AuditResult
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Audit, FindingRow, Project, SourceObject

Decision = Literal["open", "acknowledged", "waived"]


def save_audit(store: ProjectStore, result: AuditResult) -> int:
    """Store the inventory and the findings; returns the audit's id."""
    with store.session() as session:
        previous = session.scalar(select(Audit.id).where(Audit.status == "done").order_by(Audit.id.desc()).limit(1))
        decided: dict[tuple[str, str | None], FindingRow] = {}
        if previous is not None:
            for row in session.scalars(select(FindingRow).where(FindingRow.audit_id == previous, FindingRow.status != "open")):
                decided[(row.code, row.object)] = row
        audit = Audit(
            started_at=result.started_at,
            finished_at=result.finished_at,
            status="done",
            summary={"platform": result.platform, "severity": result.severity_counts(),
                     "objects": {o.spec.name: o.profile.count for o in result.objects}},
        )
        session.add(audit)
        session.flush()
        session.execute(delete(SourceObject))
        for item in result.objects:
            prof = item.profile
            session.add(
                SourceObject(
                    name=item.spec.name,
                    role=item.spec.role.value,
                    label=item.spec.label,
                    count=prof.count,
                    first_created=prof.first_created,
                    last_created=prof.last_created,
                    fields=[
                        {"name": f.name, "type": f.type.value, "label": f.label, "custom": f.custom,
                         "references": f.references, "max_length": f.max_length, "options": list(f.options)}
                        for f in item.spec.fields
                    ],
                    profile={
                        name: {"filled": fp.filled, "distinct": fp.distinct, "max_length": fp.max_length,
                               "samples": [str(v) for v in fp.samples],
                               "top_values": [[str(v), n] for v, n in fp.top_values]}
                        for name, fp in prof.fields.items()
                    },
                    spec={"key": item.spec.key, "parent": item.spec.parent, "parent_field": item.spec.parent_field,
                          "created_field": item.spec.created_field, "updated_field": item.spec.updated_field},
                    audited_at=result.finished_at,
                )
            )
        for finding in result.findings:
            before = decided.get((finding.code, finding.object))
            session.add(
                FindingRow(
                    audit_id=audit.id,
                    code=finding.code,
                    severity=finding.severity.value,
                    object=finding.object,
                    message=finding.message,
                    detail=finding.detail,
                    count=finding.count,
                    keys=list(finding.shown_keys()),  # with the numbers people know
                    status=before.status if before else "open",
                    status_note=before.status_note if before else "",
                    status_at=before.status_at if before else None,
                )
            )
        project = session.get(Project, 1)
        if project is not None:
            if project.stage == "created":
                project.stage = "audited"
            # a new audit: the scope check (what the load will not migrate) is made again
            project.settings = {k: v for k, v in (project.settings or {}).items() if k != "scope_map_hash"}
        return audit.id


def latest_audit_id(store: ProjectStore) -> int | None:
    with store.reader() as session:
        return session.scalar(select(Audit.id).where(Audit.status == "done").order_by(Audit.id.desc()).limit(1))


def findings(store: ProjectStore, audit_id: int | None = None) -> list[FindingRow]:
    """The findings of an audit (the latest by default), blockers first."""
    audit_id = audit_id if audit_id is not None else latest_audit_id(store)
    if audit_id is None:
        return []
    order = {"blocker": 0, "warning": 1, "info": 2}
    with store.reader() as session:
        rows = list(session.scalars(select(FindingRow).where(FindingRow.audit_id == audit_id)))
    return sorted(rows, key=lambda r: (order.get(r.severity, 3), r.code, r.object or ""))


def decide(store: ProjectStore, finding_id: int, status: Decision, note: str = "") -> FindingRow:
    """Acknowledge, waive (with a note) or reopen a finding."""
    if status == "waived" and not note.strip():
        raise ValueError("a waiver needs a note saying why")
    with store.session() as session:
        row = session.get(FindingRow, finding_id)
        if row is None:
            raise KeyError(f"no finding {finding_id}")
        row.status = status
        row.status_note = note.strip()
        row.status_at = datetime.now(UTC) if status != "open" else None
        return row


def open_blockers(store: ProjectStore) -> list[FindingRow]:
    return [row for row in findings(store) if row.severity == "blocker" and row.status == "open"]


def source_objects(store: ProjectStore) -> list[SourceObject]:
    with store.reader() as session:
        return list(session.scalars(select(SourceObject).order_by(SourceObject.name)))
