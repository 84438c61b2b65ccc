"""What the run screen's bars show, kept apart from the widgets (and tested alone).

A bar's total is known before it starts (the plan's records per object, from the audit)
or it has none and shows a count only; counts only grow, so a bar only moves forward.
When more records finish than the audit counted (what the scope skips is counted at the
end), the total grows with them and the bar stays full. A phase's bar is its planned
objects' records together; objects the plan did not know (attributes, contacts a sample
creates on demand) get rows of their own and never pull the phase's bar back.

The ETA is not counted here: the engine's (`LoadProgress.eta_s`, pipeline/eta.py) counts
API calls, which records are not (a 505-message thread costs 500 calls, a contact one).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Meter:
    """One object's records: a total fixed before the bar starts, a count that only grows."""

    total: int | None = None
    done: int = 0
    planned: bool = False  # the total was decided before the run (None then: no length, e.g. a delta)
    started: bool = False

    def update(self, finished: int, total: int | None) -> None:
        if not self.planned and not self.started and self.total is None:
            self.total = total  # known before anything finished: the bar has a length
        self.started = self.started or finished > 0
        self.done = max(self.done, finished)
        if self.total is not None and self.done > self.total:
            self.total = self.done  # more than the audit counted: full, and it stays full

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else self.done / self.total


@dataclass
class PhaseMeter:
    """A phase's objects and its bar."""

    planned: dict[str, int | None] = field(default_factory=dict)  # object -> records, before the phase starts
    meters: dict[str, Meter] = field(default_factory=dict)
    shown: float = 0.0  # the bar's fraction as last shown

    def __post_init__(self) -> None:
        for obj, total in self.planned.items():
            self.meters[obj] = Meter(total, planned=True)

    def update(self, objects: list[tuple[str, int, int | None]]) -> None:
        """`objects`: (object, records finished, total as the engine knows it) for each."""
        for obj, finished, total in objects:
            self.meters.setdefault(obj, Meter()).update(finished, total)
        fraction = self.fraction
        if fraction is not None:
            self.shown = max(self.shown, fraction)  # never backwards (it cannot go back anyway)

    def _planned_meters(self) -> list[Meter]:
        counted = [self.meters[o] for o in self.planned if self.planned[o] is not None]
        return counted or [m for m in self.meters.values() if m.total is not None]

    @property
    def total(self) -> int | None:
        meters = self._planned_meters()
        return sum(m.total or 0 for m in meters) if meters else None

    @property
    def done(self) -> int:
        return sum(min(m.done, m.total or 0) for m in self._planned_meters())

    @property
    def fraction(self) -> float | None:
        total = self.total
        if total is None:
            return None
        return 1.0 if total == 0 else self.done / total


def duration(seconds: float) -> str:
    """12 s, 3 min 5 s, 1 h 20 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds < 600 else f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
