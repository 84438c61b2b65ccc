"""Benchmark: the Plan's ETA and the run screen's live ETA against what the load took (not a test).

    python bench/eta.py                       # the wizard's demo: 200 SmarterTrack tickets
    python bench/eta.py --tickets 600 --latency-ms 40

The demo's load against its sandbox at Intercom's published limit (1,667 requests per
10 s), as `helpmig demo` runs it. Per phase: the plan's estimate (its API calls at the
limit), the time the phase took, and the live ETA the run screen would have shown
(`screens.run_progress.PhaseMeter`, fed the same progress) from the moment it is said
(a tenth of the phase done) to the end: its worst error against the time that was left,
and the same from a tenth of the phase's time on (the issue's ±20% measure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MIN_REMAINING_S = 1.0  # errors are judged while at least this much was left (below, a second is all of it)


class Recorder:
    def __init__(self) -> None:
        self.samples: list[tuple[float, str, list[tuple[str, int, int | None, int]]]] = []
        self.ended: dict[str, float] = {}

    def progress(self, progress) -> None:
        objects = [(o.object, o.finished, o.total, o.earlier) for o in progress.objects]
        self.samples.append((time.monotonic(), progress.phase, objects))

    def event(self, level: str, message: str) -> None:
        pass

    def phase_finished(self, report) -> None:
        self.ended[report.phase] = time.monotonic()


def evaluate(recorder: Recorder, planned: dict[str, dict[str, int | None]]):
    from screens.run_progress import PhaseMeter

    rows = []
    for phase, end in recorder.ended.items():
        samples = [(t, objs) for t, p, objs in recorder.samples if p == phase]
        if not samples:
            continue
        meter = PhaseMeter(dict(planned.get(phase, {})))
        start = samples[0][0]
        worst, later, said_at = 0.0, 0.0, None
        for t, objs in samples:
            meter.update(objs, t)
            eta = meter.eta_s(t)
            left = end - t
            if eta is None or left < MIN_REMAINING_S:
                continue
            into = (t - start) / max(end - start, 1e-9)
            said_at = said_at if said_at is not None else into
            worst = max(worst, abs(eta - left) / left)
            if into >= 0.1:  # the measure: after the first tenth of the phase
                later = max(later, abs(eta - left) / left)
        said = said_at is not None
        rows.append((phase, end - start, worst if said else None, later if said else None, said_at))
    return rows


async def run(tickets: int, latency_ms: float):
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.settings import resolve_paths
    from screens.run_progress import duration

    paths = resolve_paths(tempfile.mkdtemp())
    demo = prepare_demo(paths, "smartertrack", tickets, latency_ms=latency_ms)
    recorder = Recorder()
    async with demo.session(recorder) as session:
        plan = await session.plan()
        planned = {p.name: dict(p.objects) for p in plan.phases}
        started = time.monotonic()
        result = await session.load(LoadOptions(accept_gates=True))
        took = time.monotonic() - started
    demo.close()
    print(f"load of {tickets} tickets: {result.status} in {took:.1f} s; the plan said {duration(plan.eta_s)} "
          f"({plan.calls:,} calls at {plan.limit_per_10s:,} per 10 s)")
    print(f"{'phase':<16}{'plan':>8}{'took':>8}{'live ETA: said at':>20}{'worst error':>14}{'after 10%':>11}")
    by_name = {p.name: p for p in plan.phases}
    for phase, took_s, worst, later, said_at in evaluate(recorder, planned):
        plan_s = by_name[phase].calls / (plan.limit_per_10s / 10) if phase in by_name else float("nan")
        said = f"{said_at:.0%} of the phase" if said_at is not None else "never (too short)"
        error = f"{worst:.0%}" if worst is not None else "—"
        after = f"{later:.0%}" if later is not None else "—"
        print(f"{phase:<16}{plan_s:>7.1f}s{took_s:>7.1f}s{said:>20}{error:>14}{after:>11}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    asyncio.run(run(args.tickets, args.latency_ms))


if __name__ == "__main__":
    main()
