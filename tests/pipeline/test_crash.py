"""The crash test: the loading process is killed (SIGKILL) at random moments, more than
twenty times, against a sandbox that also fails writes after applying them; each time it
is started again and resumes. At the end Intercom holds exactly one copy of every object
and part, the journal agrees, nothing is left in doubt, and the strict sandbox refused
nothing."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from connectors.intercom.sandbox import DEFAULT_TOKEN
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.runs import resumable_run
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import JournalEntry
from tests.support.exactly_once import assert_exactly_once
from tests.support.cli import serving

ROOT = Path(__file__).resolve().parents[2]
KILLS = 22
STARTED_WITHIN_S = 120  # the most an attempt may take to send its first request (seconds when quiet)


def _kill_at_random(loader: subprocess.Popen, requests, rng: random.Random) -> bool:
    """SIGKILL the loader at a random moment: one attempt in four during its start-up, the
    others at a random moment of its load (counted from its first request to Intercom, so
    a slow start-up on a busy machine does not use the kills up before any write); False if
    it finished first."""
    spawned, before = time.monotonic(), requests()
    if rng.random() < 0.25:
        deadline = spawned + rng.uniform(0.1, 1.0)
    else:
        while requests() == before and loader.poll() is None and time.monotonic() - spawned < STARTED_WITHIN_S:
            time.sleep(0.01)
        deadline = time.monotonic() + rng.uniform(0.0, 1.5)
    try:
        loader.wait(timeout=max(0.0, deadline - time.monotonic()))
        return False
    except subprocess.TimeoutExpired:
        loader.kill()  # SIGKILL: no cleanup, no flush
        loader.wait()
        loader.stderr.close()
        return True


def test_killed_at_random_then_resumed_leaves_exactly_one_copy(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    # paced until the last kill so that the load outlasts the kills: about 1,000 requests at
    # 20/s need some 50 s of loading, more than the most that 22 kills at up to 1.5 s into a
    # load leave (with a whole 10-s window's burst); 4% of requests fail, half of those after
    # the write was applied. The demo's read-back of a write left in doubt waits for its
    # sandbox's search (no lag here), not for Intercom's minutes.
    demo = prepare_demo(paths, "smartertrack", 24, rate_limit=200, faults=0.04, fault_seed=3,
                        fault_kinds=("error_before", "error_after", "drop_after"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HELPMIG_INTERCOM_TOKEN": DEFAULT_TOKEN}
    rng = random.Random(11)
    kills, finished = 0, False
    with serving(demo):
        command = [sys.executable, "-m", "helpmig_tui", "--home", str(paths.home), "load", demo.project, "--yes"]
        for attempt in range(200):
            loader = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if kills < KILLS:
                if _kill_at_random(loader, lambda: demo.sandbox.report()["requests"], rng):
                    kills += 1
                    if kills == KILLS:  # the pace only made the load outlast the kills; faults stay on
                        demo.sandbox.limiter.per_token = demo.sandbox.limiter.per_workspace = None
                    continue
            else:
                loader.wait(timeout=600)
            error = loader.stderr.read()
            loader.stderr.close()
            assert loader.returncode == 0, error[-2000:]
            finished = True
            break
        assert finished, "the load never finished"
    assert kills >= 20
    assert sum(demo.sandbox.faults.injected.values()) > 0
    with open_project(paths, demo.project) as store:
        assert resumable_run(store) is None  # the last run ended
        with store.reader() as session:
            in_flight = session.scalar(select(func.count()).where(JournalEntry.status == "in_flight"))
    assert in_flight == 0  # nothing left in doubt
    assert demo.sandbox.report()["violations"] == 0  # the strict sandbox refused nothing
    assert_exactly_once(paths, demo)
