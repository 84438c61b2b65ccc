"""What the run screen's bars and ETAs show, kept apart from the widgets (and tested alone).

A bar's total is known before it starts (the plan's records per object, from the audit)
or it has none and shows a count only; counts only grow, so a bar only moves forward.
When more records finish than the audit counted (what the scope skips is counted at the
end), the total grows with them and the bar stays full. A phase's bar is its planned
objects' records together; objects the plan did not know (attributes, contacts a sample
creates on demand) get rows of their own and never pull the phase's bar back.

The ETA is measured, not modelled: the records this run finished in the phase (not those
an earlier run did, which a resume counts as it passes them), over the time it took,
against the records still to go; said only once a tenth of what the run has to do in the
phase is done (before that, the rate says too little).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ETA_AFTER = 0.10  # share of the phase's remaining records done in this run before an ETA is said


@dataclass
class Meter:
    """One object's records: a total fixed before the bar starts, a count that only grows."""

    total: int | None = None
    done: int = 0
    earlier: int = 0  # of done: finished by an earlier run
    planned: bool = False  # the total was decided before the run (None then: no length, e.g. a delta)
    started: bool = False

    def update(self, finished: int, total: int | None, earlier: int = 0) -> None:
        if not self.planned and not self.started and self.total is None:
            self.total = total  # known before anything finished: the bar has a length
        self.started = self.started or finished > 0
        self.done = max(self.done, finished)
        self.earlier = max(self.earlier, earlier)
        if self.total is not None and self.done > self.total:
            self.total = self.done  # more than the audit counted: full, and it stays full

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else self.done / self.total


@dataclass
class PhaseMeter:
    """A phase's objects, its bar and its ETA."""

    planned: dict[str, int | None] = field(default_factory=dict)  # object -> records, before the phase starts
    meters: dict[str, Meter] = field(default_factory=dict)
    shown: float = 0.0  # the bar's fraction as last shown
    first_seen: float | None = None  # when this run's first progress of the phase came

    def __post_init__(self) -> None:
        for obj, total in self.planned.items():
            self.meters[obj] = Meter(total, planned=True)

    def update(self, objects: list[tuple[str, int, int | None, int]], now: float) -> None:
        """`objects`: (object, records finished, total as the engine knows it, of them
        finished by an earlier run) for each."""
        for obj, finished, total, earlier in objects:
            self.meters.setdefault(obj, Meter()).update(finished, total, earlier)
        if self.first_seen is None:
            self.first_seen = now
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

    def eta_s(self, now: float) -> float | None:
        """Seconds to the end of the phase at the rate this run has kept in it, once a tenth
        of what it had to do is done; None before (or with no total to measure against)."""
        total = self.total
        if total is None or self.first_seen is None:
            return None
        earlier = sum(min(m.earlier, m.done) for m in self._planned_meters())
        to_do = total - earlier
        finished = self.done - earlier
        elapsed = now - self.first_seen
        if to_do <= 0 or finished < max(1, ETA_AFTER * to_do) or elapsed <= 0:
            return None
        return max(0.0, (total - self.done) * elapsed / finished)


def duration(seconds: float) -> str:
    """12 s, 3 min 5 s, 1 h 20 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds < 600 else f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
