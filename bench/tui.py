"""Benchmark: the wizard's responsiveness (not a test).

    python bench/tui.py                    # both measures
    python bench/tui.py --tickets 300      # a smaller load for the key-latency part
    python bench/tui.py --frame-only --runs 11   # the first frame only

1. Time from `helpmig` to the first frame: the real command in a pseudo-terminal, from
   the process start until the project picker's title is on the screen; and until its
   list shows the project the home holds (the picker reads the projects after its first
   frame). Repeated runs; the first is cold (file cache), the rest warm.
2. Key-press latency on the Load screen while a load runs at full speed: the demo's load
   against the in-process sandbox (no rate limit), and, every 50 ms, a key injected as
   the terminal driver would (`App.simulate_key`), timed until its action runs.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


PACKAGES = ("helpmig_tui", "screens", "connectors")


def compile_packages() -> None:
    """Byte-compile helpmig's own packages, as installing the wheel does (pip compiles at
    install). This machine sets PYTHONDONTWRITEBYTECODE, so a source checkout would
    otherwise compile every module again at each start, which no operator's install does."""
    for package in PACKAGES:
        compileall.compile_dir(str(ROOT / package), quiet=1)


def first_frame(home: str, runs: int) -> tuple[list[float], list[float]]:
    subprocess.run([sys.executable, "-m", "helpmig_tui", "--home", home, "init", "bench-project", "--source",
                    "trackit", "--sqlite", os.path.join(home, "t.db")], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    times, listed = [], []
    for _ in range(runs):
        main, child = pty.openpty()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "helpmig_tui", "--home", home], stdin=child, stdout=child,
                                stderr=child, env=env, close_fds=True)
        os.close(child)
        seen, elapsed, filled = b"", None, None
        while time.perf_counter() - started < 30:
            ready, _, _ = select.select([main], [], [], 0.01)
            if ready:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
                if elapsed is None and b"Migration projects" in seen:
                    elapsed = time.perf_counter() - started
                if b"bench-project" in seen:
                    filled = time.perf_counter() - started
                    break
        proc.kill()
        proc.wait()
        os.close(main)
        if elapsed is None or filled is None:
            raise RuntimeError("the picker never appeared")
        times.append(elapsed)
        listed.append(filled)
    return times, listed


async def key_latency(tickets: int) -> tuple[list[float], int, float]:
    from helpmig_tui.app import make_app
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.settings import Secrets, Settings, resolve_paths
    from screens.overview import STEPS, OverviewScreen
    from screens.run import RunScreen
    from screens.run_messages import RunFinished

    paths = resolve_paths(tempfile.mkdtemp())
    demo = prepare_demo(paths, "smartertrack", tickets)
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False), demo=demo)
    latencies: list[float] = []
    pending: list[float] = []
    done: list[RunFinished] = []
    progress_messages = 0

    original = RunScreen.action_validate

    def probe(self: RunScreen) -> None:  # bound to "v": does nothing on the Load screen
        if pending:
            latencies.append(time.perf_counter() - pending.pop(0))
        original(self)

    RunScreen.action_validate = probe  # type: ignore[method-assign]
    RunScreen.check_action = lambda self, action, parameters: True  # type: ignore[method-assign]  # v offered always

    def hook(message) -> None:
        nonlocal progress_messages
        if isinstance(message, RunFinished):
            done.append(message)
        if type(message).__name__ == "RunProgressed":
            progress_messages += 1

    started = time.perf_counter()
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        app.screen.query_one("#steps").highlighted = [s for s, _ in STEPS].index("load")
        await pilot.press("enter")
        await pilot.press("s")
        started = time.perf_counter()
        while not done:
            pending.append(time.perf_counter())
            app.simulate_key("v")
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    RunScreen.action_validate = original  # type: ignore[method-assign]
    assert done[0].error is None, done[0].error
    return latencies, progress_messages, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--frame-only", action="store_true", help="only the first frame")
    args = parser.parse_args()
    compile_packages()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    home = tempfile.mkdtemp()
    frames, listed = first_frame(home, args.runs)
    for name, values in (("first frame", frames), ("project list shown", listed)):
        print(f"{name}: cold {values[0] * 1000:.0f} ms; warm median {statistics.median(values[1:]) * 1000:.0f} ms "
              f"(min {min(values[1:]) * 1000:.0f}, max {max(values[1:]) * 1000:.0f}) over {len(values) - 1} runs")
    if args.frame_only:
        return
    latencies, progress, elapsed = asyncio.run(key_latency(args.tickets))
    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    print(f"load of {args.tickets} tickets: {elapsed:.1f} s, {progress} progress messages handled")
    print(f"key latency during the load: {len(latencies)} presses, median {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms, "
          f"max {ordered[-1] * 1000:.1f} ms")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
