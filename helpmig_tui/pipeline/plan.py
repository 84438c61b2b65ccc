"""The plan: what each phase will load, how many API calls it will take, and how long at
the workspace's rate limit; and the reconciliation queue of agents and groups with no
Intercom admin or team, which the operator settles before conversations load.

A phase takes at least its calls at the allowed rate, and at least its longest chain of
calls that cannot overlap (a long thread's parts, one after the other) at Intercom's
latency: its ETA is the larger of the two."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpmig_tui.audit_store import findings, source_objects
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.loader import PHASE_LABELS, PHASES
from helpmig_tui.pipeline.prepare import SCHEMA_AT_ONCE, Match
from helpmig_tui.state import ProjectStore

DEFAULT_LIMIT_PER_10S = 1667  # Intercom's published 10,000 per minute per app
DEFAULT_LATENCY_S = 0.25  # per call, when none was measured (a write to Intercom from far away)
CONVERSATION_CHAIN = 5  # a conversation's calls besides its parts: create, update, team, admin, close
K = TargetKind


@dataclass
class PlannedPhase:
    name: str
    label: str
    objects: dict[str, int]  # object -> records
    calls: int  # estimated API calls
    chain: int = 1  # the longest run of calls that must go one after the other
    object_calls: dict[str, int] = field(default_factory=dict)  # object -> its share of `calls`

    @property
    def records(self) -> int:
        return sum(self.objects.values())


def phase_eta(calls: float, chain: float, limit_per_10s: float, latency_s: float) -> float:
    """How long a phase takes: its calls at the allowed rate, or its longest chain of
    dependent calls at the measured latency, whichever is longer."""
    return max(calls / (limit_per_10s / 10), chain * latency_s) if calls > 0 else 0.0


@dataclass
class Plan:
    phases: list[PlannedPhase]
    limit_per_10s: int
    queue: list[Match] = field(default_factory=list)  # agents and groups waiting for the operator
    notes: list[str] = field(default_factory=list)
    latency_s: float = DEFAULT_LATENCY_S  # per call, as measured when planning
    apps: int = 1  # access tokens sharing the work (their limit is `limit_per_10s` together)

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.phases)

    def phase_eta_s(self, phase: PlannedPhase) -> float:
        return phase_eta(phase.calls, phase.chain, self.limit_per_10s, self.latency_s)

    @property
    def eta_s(self) -> float:
        return sum(self.phase_eta_s(p) for p in self.phases)

    @property
    def chain_bound(self) -> list[str]:
        """The phases whose ETA is set by their longest chain, not by the rate limit."""
        return [p.name for p in self.phases
                if p.calls and p.chain * self.latency_s > p.calls / (self.limit_per_10s / 10)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "phases": [{"name": p.name, "label": p.label, "objects": p.objects, "records": p.records, "calls": p.calls,
                        "chain": p.chain, "eta_s": round(self.phase_eta_s(p))} for p in self.phases],
            "calls": self.calls, "limit_per_10s": self.limit_per_10s, "apps": self.apps,
            "latency_ms": round(self.latency_s * 1000), "eta_s": round(self.eta_s), "chain_bound": self.chain_bound,
            "queue": [m.__dict__ for m in self.queue], "notes": self.notes,
        }


PHASE_TARGETS = {
    "match": (K.ADMIN, K.TEAM), "schema": (K.COLLECTION, K.TAG), "companies": (K.COMPANY,), "contacts": (K.CONTACT,),
    "conversations": (K.CONVERSATION, K.PART), "articles": (K.ARTICLE,), "custom_objects": (K.CUSTOM_OBJECT,),
    "supplementary": (K.CSV, K.INVENTORY),
}


def _mapped(mmap: MigrationMap, obj: str, standard: str) -> bool:
    return mmap.reference(obj, standard) is not None


def _calls(mmap: MigrationMap, obj: str, n: int, attachments: dict[str, int]) -> int:
    """The API calls `n` records of an object take."""
    target = mmap.object_map(obj).target  # type: ignore[union-attr]
    if target is K.COMPANY:
        return 2 * n  # does it exist already? then the upsert
    if target is K.CONTACT:
        return n * (1 + _mapped(mmap, obj, "company"))
    if target is K.CONVERSATION:
        extra = sum(_mapped(mmap, obj, s) for s in ("assignee", "team"))
        return n * (2 + extra)  # create, the update (title, attributes), assignment, close
    if target is K.PART:
        return n + attachments.get(obj, 0) // 10
    if target in (K.ARTICLE, K.CUSTOM_OBJECT, K.COLLECTION, K.TAG):
        return n
    return 0


def call_plan(plan: Plan, mmap: MigrationMap, sample: int | None = None) -> dict[str, dict[str, tuple[int, float]]]:
    """Phase -> object -> (records, API calls) the run will take, as the plan counts them
    (the live ETA's measure). A sample takes `sample` records of an object and the same
    share of its messages."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for phase in plan.phases:
        shares = {obj: min(1.0, sample / n) if sample and n else 1.0 for obj, n in phase.objects.items()}
        objects = {}
        for obj, n in phase.objects.items():
            parent = mmap.object_map(obj).parent  # type: ignore[union-attr]
            share = shares.get(parent, 1.0) if parent and sample else shares[obj]
            objects[obj] = (round(n * share), phase.object_calls.get(obj, 0) * share)
        out[phase.name] = objects
    return out


def build_plan(store: ProjectStore, mmap: MigrationMap, limit_per_10s: int | None = None,
               attributes_to_create: int = 0, *, longest_thread: int = 0, latency_s: float | None = None,
               apps: int = 1) -> Plan:
    """Calls per phase from the audit's counts and the map (a close upper estimate: the
    loader's actual calls are counted in its metrics). `longest_thread`: the parts of the
    longest conversation; `latency_s`: a call's measured latency."""
    counts = {o.name: o.count or 0 for o in source_objects(store)}
    attachments = {f.object: f.count for f in findings(store) if f.code == "attachment.count"}
    phases = []
    for name in PHASES:
        objects = {o.object: counts.get(o.object, 0) for o in mmap.active_objects() if o.target in PHASE_TARGETS[name]}
        object_calls = {obj: _calls(mmap, obj, n, attachments) for obj, n in objects.items()}
        calls = sum(object_calls.values())
        if name == "match":
            calls = 3  # /me, /admins, /teams
        if name == "schema":
            calls += attributes_to_create + 3
        chain = {"conversations": longest_thread + CONVERSATION_CHAIN if objects else 0,
                 "schema": -(-calls // SCHEMA_AT_ONCE),  # attributes, tags and collections several at a time
                 "contacts": 4, "companies": 2}.get(name, 1)  # a contact: create, company link, tags
        phases.append(PlannedPhase(name, PHASE_LABELS[name], objects, calls, min(chain, calls), object_calls))
    plan = Plan(phases, limit_per_10s or DEFAULT_LIMIT_PER_10S, latency_s=latency_s or DEFAULT_LATENCY_S, apps=apps)
    if limit_per_10s is None:
        plan.notes.append(f"ETA at Intercom's published {DEFAULT_LIMIT_PER_10S} requests per 10 s; "
                          "connect to Intercom to use the workspace's own limit")
    return plan
