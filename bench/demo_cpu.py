"""Benchmark: the CPU a demo costs, the unit most of the test suite is made of (not a test).

    python bench/demo_cpu.py                      # SmarterTrack, 30 tickets, 3 runs
    python bench/demo_cpu.py --tickets 60 --runs 5 --platform trackit
    python bench/demo_cpu.py --profile out.prof   # one run under cProfile

`prepare_demo` (generate, audit, propose, confirm, seed the sandbox) and `run_headless`
(sample, its validation and rollback, full load, validation) against the in-process
sandbox, timed with `time.process_time` (this process's CPU, imports excluded). The first
run of a process is `cold`: a run of another platform before it has loaded the modules and
the API description, and none of this platform's bodies has been made yet; the others are
`warm`, as in a test worker that already ran a demo of the same sample.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import tempfile
import time
from pathlib import Path

from helpmig_tui.demo import prepare_demo, run_headless
from helpmig_tui.settings import resolve_paths


def once(platform: str, tickets: int) -> tuple[float, float]:
    """CPU seconds of prepare_demo and of run_headless."""
    with tempfile.TemporaryDirectory() as home:
        paths = resolve_paths(Path(home) / "home")
        start = time.process_time()
        demo = prepare_demo(paths, platform, tickets)
        prepared = time.process_time()
        try:
            asyncio.run(run_headless(demo))
        finally:
            demo.close()
        return prepared - start, time.process_time() - prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default="smartertrack")
    parser.add_argument("--tickets", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", help="write one warm run's cProfile stats here instead")
    args = parser.parse_args()
    once("trackit" if args.platform != "trackit" else "smartertrack", 10)  # modules and the description loaded
    for run in range(args.runs):
        if args.profile and run == 1:
            profile = cProfile.Profile()
            profile.runcall(once, args.platform, args.tickets)
            profile.dump_stats(args.profile)
            return
        prepared, headless = once(args.platform, args.tickets)
        print(f"{'cold' if run == 0 else 'warm'}: prepare_demo {prepared:.2f} s, run_headless {headless:.2f} s CPU")


if __name__ == "__main__":
    main()
