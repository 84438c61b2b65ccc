"""Benchmark: the Plan's ETA and the live ETA against what the load took (not a test).

    python bench/eta.py                       # the wizard's demo: 200 SmarterTrack tickets
    python bench/eta.py --tickets 600 --latency-ms 40

The demo's load against its sandbox at Intercom's published limit (1,667 requests per
10 s), as `helpmig demo` runs it. Per phase: the plan's calls and ETA, the calls made and
the time the phase took, and the live ETA (`LoadProgress.eta_s`, the engine's, which the
Load screen and the CLI show) from the first tenth of the phase's time on: its worst error
as the issue measures it, the end it predicts (elapsed + ETA) against the phase's actual
end, relative to the phase's duration.
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


class Recorder:
    def __init__(self) -> None:
        self.samples: list[tuple[float, str, float | None, int]] = []  # (time, phase, live ETA, requests)
        self.ended: dict[str, tuple[float, int]] = {}
        self.started = time.monotonic()

    def progress(self, progress) -> None:
        self.samples.append((time.monotonic(), progress.phase, progress.eta_s, progress.api_requests))

    def event(self, level: str, message: str) -> None:
        pass

    def phase_finished(self, report) -> None:
        self.ended[report.phase] = (time.monotonic(), self.samples[-1][3] if self.samples else 0)


def evaluate(recorder: Recorder) -> list[dict]:
    """Per phase: its time and calls, and the live ETA's errors from FROM of its time on."""
    rows, start, calls_before = [], recorder.started, 0
    for phase, (end, _) in recorder.ended.items():
        inside = [s for s in recorder.samples if s[1] == phase]
        if inside:
            start = min(start if start > 0 else inside[0][0], inside[0][0])
        took = end - start
        errors = [(t - start + eta) / took - 1 for t, p, eta, _ in inside
                  if eta is not None and t >= start + FROM * took and took > 0]
        calls = (inside[-1][3] if inside else calls_before) - calls_before
        rows.append({"phase": phase, "took": took, "calls": calls, "samples": len(errors),
                     "worst": max(errors, key=abs) if errors else None})
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
          f"({plan.calls:,} calls at {plan.limit_per_10s:,} per 10 s, {plan.latency_s * 1000:.0f} ms a call)")
    print(f"{'phase':<16}{'plan calls':>11}{'calls':>8}{'plan':>8}{'took':>8}{'live ETA from 10%: worst':>26}")
    by_name = {p.name: p for p in plan.phases}
    for row in evaluate(recorder):
        p = by_name.get(row["phase"])
        worst = f"{row['worst']:+.0%} ({row['samples']} samples)" if row["worst"] is not None else "— (too short)"
        print(f"{row['phase']:<16}{p.calls if p else 0:>11,}{row['calls']:>8,}{plan.phase_eta_s(p) if p else 0:>7.1f}s"
              f"{row['took']:>7.1f}s{worst:>26}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=int, default=1667, help="requests per 10 s (Intercom's published)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    asyncio.run(run(args.tickets, args.latency_ms, args.rate_limit))


if __name__ == "__main__":
    main()
