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
from pathlib import Path

from sqlalchemy import func, select

from connectors.intercom.sandbox import DEFAULT_TOKEN, running_server
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.runs import resumable_run
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import JournalEntry, Project
from tests.pipeline.test_load import assert_exactly_once

ROOT = Path(__file__).resolve().parents[2]
KILLS = 22


def test_killed_at_random_then_resumed_leaves_exactly_one_copy(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    # paced so the load lasts long enough to be killed many times: about 900 requests at
    # 20/s need some 45 s of loading, twice what 22 attempts of 1-3 s leave after each
    # start-up; 4% of requests fail, half of those after the write was applied
    demo = prepare_demo(paths, "smartertrack", 24, rate_limit=200, faults=0.04, fault_seed=3,
                        fault_kinds=("error_before", "error_after", "drop_after"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HELPMIG_INTERCOM_TOKEN": DEFAULT_TOKEN}
    rng = random.Random(11)
    kills, finished = 0, False
    with running_server(demo.sandbox) as url:
        with open_project(paths, demo.project) as store, store.session() as session:
            session.get(Project, 1).intercom_url = url  # as `helpmig connect --intercom-url` records it
        command = [sys.executable, "-m", "helpmig_tui", "--home", str(paths.home), "load", demo.project, "--yes"]
        for attempt in range(200):
            loader = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if kills < KILLS:
                try:
                    loader.wait(timeout=rng.uniform(1.0, 3.0))
                except subprocess.TimeoutExpired:
                    loader.kill()  # SIGKILL: no cleanup, no flush
                    loader.wait()
                    kills += 1
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
