"""The plan: what each phase will load, how many API calls it will take, and how long at
the workspace's rate limit; and the reconciliation queue of agents and groups with no
Intercom admin or team, which the operator settles before conversations load.

A phase takes at least its calls at the allowed rate, and at least its longest chain of
calls that cannot overlap (a long thread's parts, one after the other) at Intercom's
latency: its ETA is the larger of the two, after the phase's fixed costs (two source
queries per object, the phase's report).

The allowed rate is not a steady calls ÷ limit: Intercom counts calls in 10-second
windows and the pacer spreads what is left of the current window over the time to its
reset. A load that starts 3 s before a reset with the window unused may make a whole
window's calls in those 3 s (as fast as the requests in flight and the latency allow),
and so may a phase after a pause (fixed costs, a chain). Where the load will start in
Intercom's window is not known when planning: the plan walks the phases through the
windows from evenly spread starting points and takes each phase's mean (`window_times`),
and keeps the shortest and longest (`phase_range`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from helpmig_tui.audit_store import findings, source_objects
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.context import RECORDS_PER_APP
from helpmig_tui.pipeline.eta import QUERIES_PER_OBJECT, QUERY_S, USABLE_SHARE, WINDOW_S, report_s
from helpmig_tui.pipeline.loader import PHASE_LABELS, PHASES
from helpmig_tui.pipeline.prepare import SCHEMA_AT_ONCE, Match
from helpmig_tui.state import ProjectStore

DEFAULT_LIMIT_PER_10S = 1667  # Intercom's published 10,000 per minute per app
DEFAULT_LATENCY_S = 0.25  # per call, when none was measured (a write to Intercom from far away)
CONVERSATION_CHAIN = 5  # a conversation's calls besides its parts: create, update, team, admin, close
STARTS = 20  # starting points in the first window the plan averages over
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


@dataclass
class Plan:
    phases: list[PlannedPhase]
    limit_per_10s: int
    queue: list[Match] = field(default_factory=list)  # agents and groups waiting for the operator
    notes: list[str] = field(default_factory=list)
    latency_s: float = DEFAULT_LATENCY_S  # per call, as measured when planning
    apps: int = 1  # access tokens sharing the work (their limit is `limit_per_10s` together)
    query_s: float = QUERY_S  # a source query's fixed cost (measured on the plan's own reads)

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.phases)

    def fixed_s(self, phase: PlannedPhase) -> float:
        """What a phase costs besides its calls: two source queries per object (its records,
        those the scope leaves out), its report."""
        return QUERIES_PER_OBJECT * self.query_s * len(phase.objects) + report_s(self.query_s)

    def window_times(self) -> list[list[float]]:
        """Each phase's time (fixed costs, then its calls through the windows, or its chain
        at the latency if longer), for a load starting at each of STARTS points of a fresh
        window: [start][phase]."""
        budget = max(self.limit_per_10s * USABLE_SHARE, 1.0)
        host = RECORDS_PER_APP * self.apps / self.latency_s if self.latency_s > 0 else math.inf  # in flight, a round trip each
        return [_walk(self.phases, self, budget, WINDOW_S * (k + 0.5) / STARTS, host) for k in range(STARTS)]

    def phase_eta_s(self, phase: PlannedPhase) -> float:
        """The phase's mean time over where the load may start in Intercom's window."""
        return _spread(self.window_times(), self.phases.index(phase))[0]

    def phase_range(self, phase: PlannedPhase) -> tuple[float, float]:
        """The phase's shortest and longest time over the starting points."""
        return _spread(self.window_times(), self.phases.index(phase))[1:]

    @property
    def eta_s(self) -> float:
        return sum(sum(run) for run in self.window_times()) / STARTS

    @property
    def chain_bound(self) -> list[str]:
        """The phases whose ETA is set by their longest chain, not by the rate limit."""
        return [p.name for p in self.phases
                if p.calls and p.chain * self.latency_s > p.calls / (self.limit_per_10s / 10)]

    def to_dict(self) -> dict[str, Any]:
        times = self.window_times()  # walked once for every phase's figures
        spreads = [_spread(times, index) for index in range(len(self.phases))]
        return {
            "phases": [{"name": p.name, "label": p.label, "objects": p.objects, "records": p.records, "calls": p.calls,
                        "chain": p.chain, "eta_s": round(mean), "eta_range_s": [round(low, 1), round(high, 1)]}
                       for p, (mean, low, high) in zip(self.phases, spreads)],
            "calls": self.calls, "limit_per_10s": self.limit_per_10s, "apps": self.apps,
            "latency_ms": round(self.latency_s * 1000), "eta_s": round(sum(sum(run) for run in times) / STARTS),
            "chain_bound": self.chain_bound,
            "queue": [m.__dict__ for m in self.queue], "notes": self.notes,
        }


def _spread(times: list[list[float]], index: int) -> tuple[float, float, float]:
    """A phase's mean, shortest and longest time over the starting points."""
    mine = [t[index] for t in times]
    return sum(mine) / len(mine), min(mine), max(mine)


def _walk(phases: list[PlannedPhase], plan: Plan, budget: float, first_left: float, host: float) -> list[float]:
    """The phases one after the other through Intercom's windows, the first `first_left`
    seconds from its reset with its budget unused: each phase's time. In a window the
    pacer spreads what is left over the time left, never faster than `host` (the requests
    in flight at the latency) nor, in a phase its chain sets, than its calls spread over
    the chain."""
    left, budget_left, out = first_left, budget, []

    def wait(seconds: float) -> None:  # time passes with no call: the window may reset meanwhile
        nonlocal left, budget_left
        left -= seconds
        if left <= 1e-9:
            left, budget_left = WINDOW_S - (-left % WINDOW_S), budget

    for phase in phases:
        fixed = plan.fixed_s(phase) if phase.records or phase.calls else 0.0
        chain = phase.chain * plan.latency_s if phase.calls else 0.0
        calls, took = float(phase.calls), fixed
        spread = calls / chain if chain else math.inf
        wait(fixed)
        while calls > 1e-9:
            pace = min(budget_left / left, host, spread)
            if calls <= pace * left:
                took, budget_left = took + calls / pace, budget_left - calls
                wait(calls / pace)
                break
            calls -= pace * left
            took += left
            wait(left)
        if took - fixed < chain:  # the chain outlasts the calls
            wait(chain - (took - fixed))
            took = fixed + chain
        out.append(took)
    return out


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
               apps: int = 1, query_s: float | None = None) -> Plan:
    """Calls per phase from the audit's counts and the map (a close upper estimate: the
    loader's actual calls are counted in its metrics). `longest_thread`: the parts of the
    longest conversation; `latency_s`: a call's measured latency; `query_s`: a source
    query's (the reader's measure)."""
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
    plan = Plan(phases, limit_per_10s or DEFAULT_LIMIT_PER_10S, latency_s=latency_s or DEFAULT_LATENCY_S, apps=apps,
                query_s=QUERY_S if query_s is None else query_s)
    if limit_per_10s is None:
        plan.notes.append(f"ETA at Intercom's published {DEFAULT_LIMIT_PER_10S} requests per 10 s; "
                          "connect to Intercom to use the workspace's own limit")
    return plan
