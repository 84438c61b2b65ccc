"""The plan: what each phase will load, how many API calls it will take, and how long at
the workspace's rate limit; and the reconciliation queue of agents and groups with no
Intercom admin or team, which the operator settles before conversations load."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpmig_tui.audit_store import findings, source_objects
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.loader import PHASE_LABELS, PHASES
from helpmig_tui.pipeline.prepare import Match
from helpmig_tui.state import ProjectStore

DEFAULT_LIMIT_PER_10S = 1667  # Intercom's published 10,000 per minute per app
K = TargetKind


@dataclass
class PlannedPhase:
    name: str
    label: str
    objects: dict[str, int]  # object -> records
    calls: int  # estimated API calls

    @property
    def records(self) -> int:
        return sum(self.objects.values())


@dataclass
class Plan:
    phases: list[PlannedPhase]
    limit_per_10s: int
    queue: list[Match] = field(default_factory=list)  # agents and groups waiting for the operator
    notes: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.phases)

    @property
    def eta_s(self) -> float:
        return self.calls / (self.limit_per_10s / 10)

    def to_dict(self) -> dict[str, Any]:
        return {
            "phases": [{"name": p.name, "label": p.label, "objects": p.objects, "records": p.records, "calls": p.calls}
                       for p in self.phases],
            "calls": self.calls, "limit_per_10s": self.limit_per_10s, "eta_s": round(self.eta_s),
            "queue": [m.__dict__ for m in self.queue], "notes": self.notes,
        }


PHASE_TARGETS = {
    "match": (K.ADMIN, K.TEAM), "schema": (K.COLLECTION, K.TAG), "companies": (K.COMPANY,), "contacts": (K.CONTACT,),
    "conversations": (K.CONVERSATION, K.PART), "articles": (K.ARTICLE,), "custom_objects": (K.CUSTOM_OBJECT,),
    "supplementary": (K.CSV, K.INVENTORY),
}


def _mapped(mmap: MigrationMap, obj: str, standard: str) -> bool:
    return mmap.reference(obj, standard) is not None


def build_plan(store: ProjectStore, mmap: MigrationMap, limit_per_10s: int | None = None,
               attributes_to_create: int = 0) -> Plan:
    """Calls per phase from the audit's counts and the map (a close upper estimate: the
    loader's actual calls are counted in its metrics)."""
    counts = {o.name: o.count or 0 for o in source_objects(store)}
    attachments = {f.object: f.count for f in findings(store) if f.code == "attachment.count"}
    phases = []
    for name in PHASES:
        objects = {o.object: counts.get(o.object, 0) for o in mmap.active_objects() if o.target in PHASE_TARGETS[name]}
        calls = 0
        for obj, n in objects.items():
            target = mmap.object_map(obj).target  # type: ignore[union-attr]
            if target is K.COMPANY:
                calls += 2 * n  # does it exist already? then the upsert
            elif target is K.CONTACT:
                calls += n * (1 + _mapped(mmap, obj, "company"))
            elif target is K.CONVERSATION:
                extra = sum(_mapped(mmap, obj, s) for s in ("assignee", "team"))
                calls += n * (2 + extra)  # create, the update (title, attributes), assignment, close
            elif target is K.PART:
                calls += n + attachments.get(obj, 0) // 10
            elif target in (K.ARTICLE, K.CUSTOM_OBJECT, K.COLLECTION, K.TAG):
                calls += n
        if name == "match":
            calls = 3  # /me, /admins, /teams
        if name == "schema":
            calls += attributes_to_create + 3
        phases.append(PlannedPhase(name, PHASE_LABELS[name], objects, calls))
    plan = Plan(phases, limit_per_10s or DEFAULT_LIMIT_PER_10S)
    if limit_per_10s is None:
        plan.notes.append(f"ETA at Intercom's published {DEFAULT_LIMIT_PER_10S} requests per 10 s; "
                          "connect to Intercom to use the workspace's own limit")
    return plan
