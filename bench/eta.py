"""Benchmark: the Plan's ETA and the live ETA against what the load took (not a test).

    python bench/eta.py                       # the wizard's demo: 200 SmarterTrack tickets
    python bench/eta.py --tickets 600 --latency-ms 40

The demo's load against its sandbox at Intercom's published limit (1,667 requests per
10 s), as `helpmig demo` runs it. Per phase: the plan's calls and ETA, the calls made and
the time the phase took (from the loader's "phase ... started" to its report), the plan's
mean over where the load may start in Intercom's window and its range, and the live ETA
(`LoadProgress.eta_s`, the engine's, which the Load screen and the CLI show) from the
first tenth of the phase's time on: its worst error as the issue measures it, the end it
predicts (elapsed + ETA) against the phase's actual end, relative to the phase's duration
and in seconds. Every progress report is judged (the screen gets each one; it shows the
ETA in whole seconds).

The verdict: within ±20 % (issue 18), or, for a phase shorter than the screen can show,
off by less than SCREEN_S: the screen rounds the ETA to whole seconds, so an error under
half a second is below its resolution ("0 s" and "1 s" are all it can say of a 0.03 s
phase). Such a phase is marked as held by that floor, never silently, and its relative
error is printed all the same.
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

FROM = 0.10  # the share of a phase's time after which the ETA is judged (the measure)
TARGET = 0.20  # issue 18: the live ETA within ±20 %
SCREEN_S = 0.5  # an error under this is below the screen's resolution (whole seconds, rounded)


def verdict(worst: float | None, worst_s: float | None, target: float = TARGET) -> str:
    """Held within the target, held only because the error is under the screen's resolution
    (said so), or missed; no report judged is no verdict."""
    if worst is None or worst_s is None:
        return "—"
    if abs(worst) <= target:
        return f"held ±{target:.0%}"
    if abs(worst_s) < SCREEN_S:
        return f"under {SCREEN_S} s only"
    return "MISSED"


class Recorder:
    def __init__(self) -> None:
        self.samples: list[tuple[float, str, float | None, int]] = []  # (time, phase, live ETA, requests)
        self.starts: dict[str, float] = {}  # phase -> when the loader started it (its "phase ... started" event)
        self.ended: dict[str, tuple[float, int]] = {}
        self.started = time.monotonic()

    def progress(self, progress) -> None:
        self.samples.append((time.monotonic(), progress.phase, progress.eta_s, progress.api_requests))

    def event(self, level: str, message: str) -> None:
        if message.startswith("phase ") and message.endswith(" started"):
            self.starts[message.split()[1]] = time.monotonic()

    def phase_finished(self, report) -> None:
        self.ended[report.phase] = (time.monotonic(), self.samples[-1][3] if self.samples else 0)


def evaluate(recorder: Recorder) -> list[dict]:
    """Per phase (from its start to its report): its time and calls, and the live ETA's
    errors from FROM of its time on, relative and in seconds; every progress report the
    screen got in that span is judged."""
    rows, start, calls_before = [], recorder.started, 0
    for phase, (end, _) in recorder.ended.items():
        start = recorder.starts.get(phase, start)
        inside = [s for s in recorder.samples if s[1] == phase]
        took = end - start
        judged = [(t - start + eta - took) for t, p, eta, _ in inside
                  if eta is not None and t >= start + FROM * took and took > 0]
        calls = (inside[-1][3] if inside else calls_before) - calls_before
        rows.append({"phase": phase, "took": took, "calls": calls, "samples": len(judged), "reports": len(inside),
                     "first": judged[0] / took if judged else None, "first_s": judged[0] if judged else None,
                     "worst": max(judged, key=abs) / took if judged else None,
                     "worst_s": max(judged, key=abs) if judged else None})
        calls_before += calls
        start = end
    return rows


async def run(tickets: int, latency_ms: float, rate_limit: int) -> None:
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.settings import resolve_paths
    from screens.run_progress import duration

    paths = resolve_paths(tempfile.mkdtemp())
    demo = prepare_demo(paths, "smartertrack", tickets, latency_ms=latency_ms, rate_limit=rate_limit)
    recorder = Recorder()
    async with demo.session(recorder) as session:
        plan = await session.plan()
        recorder.started = time.monotonic()
        result = await session.load(LoadOptions(accept_gates=True))
        took = time.monotonic() - recorder.started
    demo.close()
    print(f"load of {tickets} tickets: {result.status} in {took:.1f} s; the plan said {duration(plan.eta_s)} "
          f"({plan.calls:,} calls at {plan.limit_per_10s:,} per 10 s, {plan.latency_s * 1000:.0f} ms a call, "
          f"{plan.query_s * 1000:.1f} ms a source query); load {os.getloadavg()[0]:.2f}")
    print(f"{'phase':<16}{'plan calls':>11}{'calls':>7}{'plan (range)':>20}{'took':>8}{'plan err':>9}"
          f"{'live ETA from 10%: first':>26}{'in s':>8}{'worst':>22}{'in s':>8}  verdict")
    by_name = {p.name: p for p in plan.phases}
    for row in evaluate(recorder):
        p = by_name.get(row["phase"])
        if row["worst"] is not None:
            worst = f"{row['worst']:+.0%} ({row['samples']} samples)"
        elif row["reports"]:
            worst = f"— (its {row['reports']} reports before 10 %)"
        else:
            worst = "— (no report: no ETA shown)"
        eta = plan.phase_eta_s(p) if p else 0.0
        low, high = plan.phase_range(p) if p else (0.0, 0.0)
        error = f"{eta / row['took'] - 1:+.0%}" if row["took"] > 0 and p and p.records else "—"
        seconds = f"{row['worst_s']:+.3f}" if row["worst_s"] is not None else ""
        first = f"{row['first']:+.0%}" if row["first"] is not None else "—"
        first_s = f"{row['first_s']:+.3f}" if row["first_s"] is not None else ""
        print(f"{row['phase']:<16}{p.calls if p else 0:>11,}{row['calls']:>7,}"
              f"{f'{eta:.2f}s ({low:.2f}-{high:.2f})':>20}{row['took']:>7.2f}s{error:>9}{first:>26}{first_s:>8}"
              f"{worst:>22}{seconds:>8}  {verdict(row['worst'], row['worst_s'])}")
    print(f"(verdict: the worst error within ±{TARGET:.0%}, or \"under {SCREEN_S} s only\": outside ±{TARGET:.0%} "
          f"but off by less than {SCREEN_S} s, below the screen's resolution of whole seconds)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=int, default=1667, help="requests per 10 s (Intercom's published)")
    parser.add_argument("--runs", type=int, default=1, help="loads one after the other, each a new demo")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    for _ in range(args.runs):
        asyncio.run(run(args.tickets, args.latency_ms, args.rate_limit))


if __name__ == "__main__":
    main()
