"""Benchmark: the load (issue 6) against the sandbox in another process, over loopback.

    python bench/load.py calls --tickets 2000                 # API calls per migrated record, against the plan
    python bench/load.py rate --tickets 3000                  # records/s, unlimited, at 1,667 per 10 s + 100 ms, three apps
    python bench/load.py cpu --tickets 3000 --seconds 100     # the engine's CPU per request against bare httpx
    python bench/load.py resume --tickets 14000 --journal-rows 118000   # a resumed load's start to its first new call
    python bench/load.py memory --tickets 20000 200000 --minutes 5      # RSS over time, peak RSS
    python bench/load.py scope --tickets 20000 200000 --keep /tmp/scope-desks   # the scope check alone: time, peak RSS

Every scenario generates a SmarterTrack desk and prepares a project with `prepare_demo`
(audit, proposed and confirmed map, teammates and teams seeded) in one child process, runs
the Intercom sandbox in a second one (`bench/load.py sandbox`, the sandbox app under
uvicorn, with the demo's custom object types) and the loader in a third, so that CPU time
and peak RSS are the loader's own. The loader child writes a sample line (requests, 429s,
records finished, CPU, RSS) every few seconds; the parent may stop it at a deadline and
still report what was measured. Not a test: figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eta import verdict  # noqa: E402
from intercom_client import free_port, machine, process_cpu_seconds  # noqa: E402  (bench/ is on sys.path)

TOKEN = "bench-token"
# what every load reads before its phases (/me, teammates, teams, the attribute schema)
STARTUP_READS = ("/me", "/admins", "/teams", "/data_attributes", "/conversations/attributes")
WINDOW_LIMIT = 1667  # Intercom's published 10,000 per minute per app, per 10-second window
WORKSPACE_LIMIT = 4167  # and 25,000 per minute for all apps of a workspace
LIVE_TARGET = 0.15  # issue 22: the live ETA within ±15 % from the first tenth of a phase on
RATE_DESK = "rate-desk.json"  # in a --keep folder of `rate`: the prepared desk's figures


# -- child: prepare a project ------------------------------------------------------------


def child_prepare(home: str, tickets: int) -> dict[str, Any]:
    """A demo project and the sandbox seed (teammates, teams) in `home`/seed.db."""
    import shutil

    from helpmig_tui.demo import SANDBOX_FILE, prepare_demo
    from helpmig_tui.settings import resolve_paths

    from helpmig_tui.mapping.versions import require_confirmed_map
    from helpmig_tui.pipeline.plan import build_plan
    from helpmig_tui.project import open_project

    started = time.perf_counter()
    paths = resolve_paths(home)
    demo = prepare_demo(paths, "smartertrack", tickets)
    demo.sandbox.close()
    shutil.copyfile(paths.project_dir(demo.project) / SANDBOX_FILE, Path(home) / "seed.db")  # the demo's sandbox
    seconds = round(time.perf_counter() - started, 1)
    with open_project(paths, demo.project) as store:
        plan = {p.name: p.calls for p in build_plan(store, require_confirmed_map(store)).phases}
    return {"project": demo.project, "truth": demo.truth, "seconds": seconds, "plan_calls": plan}


# -- child: the sandbox ------------------------------------------------------------------


def child_sandbox(seed: str, port: int, rate_limit: int | None, latency_ms: float, record: bool,
                  whole: bool = False) -> None:
    """The sandbox in memory, seeded from the prepared project's seed (its teammates and
    teams; with `whole`, a workspace saved by /__bench__/save: everything in it); with
    `record`, the time of every API request is kept and served at /__bench__/requests.
    POST /__bench__/save?to=PATH writes the workspace as it stands to PATH."""
    import shutil
    from urllib.parse import parse_qs

    import uvicorn

    from connectors.intercom.sandbox import Sandbox
    from connectors.intercom.sandbox.config import WORKSPACE_LIMIT
    from connectors.intercom.sandbox.store import Store
    from helpmig_tui.demo import CUSTOM_OBJECT_TYPES

    limits = {"rate_limit": rate_limit, "latency_ms": latency_ms,
              "workspace_rate_limit": None if not rate_limit else WORKSPACE_LIMIT}
    if whole:  # read from a copy, then kept in memory only: the saved workspace stays as it was
        copy = tempfile.mktemp(suffix=".sqlite", prefix="bench-sandbox-")
        shutil.copyfile(seed, copy)
        sandbox = Sandbox(custom_object_types=CUSTOM_OBJECT_TYPES, state_path=copy, **limits)
        sandbox.store.close()
        os.unlink(copy)
    else:
        sandbox = Sandbox(custom_object_types=CUSTOM_OBJECT_TYPES, **limits)
        prepared = Store(seed)
        for kind in ("admins", "teams"):
            for obj in prepared.all(kind):
                sandbox.store.put(kind, obj)
        prepared.close()
    requests: list[tuple[float, str, str]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__bench__/save":
            sandbox.store.save_as(parse_qs(scope["query_string"].decode())["to"][0])
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] == "http" and scope["path"] == "/__bench__/requests":
            body = json.dumps(requests).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        if record and scope["type"] == "http" and not scope["path"].startswith("/__"):
            requests.append((time.time(), scope["method"], scope["path"]))
        await sandbox.app(scope, receive, send)

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run()


# -- child: the loader -------------------------------------------------------------------


def _rss_kb() -> int:
    """This process's resident memory now (Linux /proc)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class Sampler:
    """An Observer that appends a line to `path` every `every` seconds: the load's progress
    as this process sees it."""

    def __init__(self, path: str, every: float) -> None:
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115  (closed by close())
        self.every = every
        self.started = time.monotonic()
        self.cpu0 = time.process_time()
        self.last = 0.0
        self.finished: dict[tuple[str, str], int] = {}
        self.metrics: Any = None  # set to the client's metrics() once the session is open
        self.commits: Any = None  # set to a callable: the journal's commits so far
        self.eta: float | None = None  # the phase's live ETA, as the last progress report gave it
        self.phases: list[dict[str, Any]] = []
        self.events: list[str] = []  # the loader's warnings and its writes in doubt, with their time
        self.etas: list[tuple[float, str, float | None]] = []  # every progress report's live ETA: (t, phase, ETA)
        self.starts: dict[str, float] = {}  # phase -> when the loader started it

    def records(self) -> int:
        return sum(self.finished.values())

    def sample(self, phase: str, force: bool = False) -> dict[str, Any] | None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return None
        self.last = now
        snapshot = self.metrics() if self.metrics else None
        line = {
            "t": round(now - self.started, 2), "phase": phase, "records": self.records(),
            "requests": snapshot.requests if snapshot else 0, "rate_limited": snapshot.rate_limited if snapshot else 0,
            "in_flight": snapshot.in_flight if snapshot else 0,
            "cpu": round(time.process_time() - self.cpu0, 2), "rss_kb": _rss_kb(),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "eta": self.eta,
            "commits": self.commits() if self.commits else None,
        }
        self.handle.write(json.dumps(line) + "\n")
        self.handle.flush()
        return line

    def progress(self, progress: Any) -> None:
        self.eta = None if progress.eta_s is None else round(progress.eta_s, 1)
        self.etas.append((round(time.monotonic() - self.started, 4), progress.phase,
                          None if progress.eta_s is None else round(progress.eta_s, 3)))
        for o in progress.objects:
            self.finished[(o.phase, o.object)] = o.finished - o.earlier
        self.sample(progress.phase)

    def event(self, level: str, message: str) -> None:
        if message.startswith("phase ") and message.endswith(" started"):
            self.starts[message.split()[1]] = round(time.monotonic() - self.started, 4)
        if level != "info" or "doubt" in message or "sending it again" in message:
            self.events.append(f"{time.monotonic() - self.started:.1f} s {level}: {message}"[:300])
            del self.events[:-20]

    def phase_finished(self, report: Any) -> None:
        line = self.sample(report.phase, force=True)
        assert line is not None
        line["records_in"] = sum(o.read for o in report.objects)
        line["end"] = round(time.monotonic() - self.started, 4)  # "t" is to 10 ms: a short phase's ETA needs better
        self.phases.append(line)

    def close(self) -> None:
        self.handle.close()


def _watch_chains(sampler: Sampler) -> dict[str, Any]:
    """The long threads' calls and the pacers' waits, by priority: whether a long thread's
    parts go first at the pacers, and whether the conversations phase ends when its calls
    end or waits for a thread alone. Wraps LiveEta's chain hooks and RatePacer.acquire."""
    from connectors.intercom.ratelimit import RatePacer, is_prioritized
    from helpmig_tui.pipeline.eta import LiveEta

    seen: dict[str, Any] = {"steps": {}, "done": {}, "waits": {"priority": [0.0, 0], "others": [0.0, 0]}}
    step, done, acquire = LiveEta.chain_step, LiveEta.chain_done, RatePacer.acquire

    def chain_step(self: LiveEta, key: str) -> None:
        if key in self.chains:
            seen["steps"].setdefault(key, []).append(time.monotonic() - sampler.started)
        step(self, key)

    def chain_done(self: LiveEta, key: str) -> None:
        if key in seen["steps"] and key not in seen["done"]:
            seen["done"][key] = (time.monotonic() - sampler.started, sampler.metrics().requests)
        done(self, key)

    async def timed_acquire(self: RatePacer, priority: bool | None = None) -> int:
        first = is_prioritized() if priority is None else priority
        began = time.monotonic()
        try:
            return await acquire(self, priority)
        finally:
            waits = seen["waits"]["priority" if first else "others"]
            waits[0] += time.monotonic() - began
            waits[1] += 1

    LiveEta.chain_step, LiveEta.chain_done, RatePacer.acquire = chain_step, chain_done, timed_acquire  # type: ignore[method-assign]
    return seen


def _chains_summary(seen: dict[str, Any], phases: list[dict[str, Any]]) -> dict[str, Any]:
    """The longest thread: its calls, when it started and ended, its pace, and the calls the
    rest of its phase made after it ended; the mean wait at a pacer, priority or not."""
    waits = {kind: {"acquires": n, "mean_wait_ms": round(total * 1000 / n, 2) if n else None}
             for kind, (total, n) in seen["waits"].items()}
    if not seen["steps"]:
        return {"pacer_waits": waits}
    key, steps = max(seen["steps"].items(), key=lambda item: len(item[1]))
    ended, requests_then = seen["done"].get(key, (steps[-1], None))
    phase = next((p for p in phases if p["phase"] == "conversations"), None)
    return {"longest": {"calls": len(steps), "first_s": round(steps[0], 2), "last_s": round(steps[-1], 2),
                        "ms_per_call": round((steps[-1] - steps[0]) * 1000 / max(len(steps) - 1, 1), 1),
                        "ms_per_call_first_100": round((steps[min(100, len(steps) - 1)] - steps[0]) * 1000
                                                       / max(min(100, len(steps) - 1), 1), 1),
                        "ms_per_call_last_50": round((steps[-1] - steps[-min(51, len(steps))]) * 1000
                                                     / max(min(50, len(steps) - 1), 1), 1),
                        "phase_end_s": phase["t"] if phase else None, "ended_s": round(ended, 2),
                        "phase_requests_after_it": phase["requests"] - requests_then
                        if phase and requests_then is not None else None},
            "pacer_waits": waits}


def _trace_estimates(sampler: Sampler, to: str) -> None:
    """Every live estimate's inputs and answer, one JSON line each, into `to` (BENCH_TRACE_ETA):
    what the estimator knew when it missed."""
    from dataclasses import asdict

    from helpmig_tui.pipeline.eta import LiveEta

    handle = open(to, "a", encoding="utf-8")  # noqa: SIM115  (open for the child's life)
    estimate = LiveEta.estimate

    def traced(self: LiveEta, done: Any, requests: int, window: Any, latency_s: float | None) -> float | None:
        done = list(done)
        now = self.clock()
        answer = estimate(self, done, requests, window, latency_s)
        snapshot = sampler.metrics() if sampler.metrics else None
        handle.write(json.dumps({
            "t": round(time.monotonic() - sampler.started, 4), "elapsed": round(now - self.started, 4),
            "made": requests - self.requests_at_start, "done": [asdict(d) for d in done],
            "planned": {k: list(v) for k, v in self.planned.items()}, "window": asdict(window),
            "latency": latency_s, "warm": snapshot.warm_latency_p50_ms if snapshot else None,
            "in_flight": snapshot.in_flight if snapshot else None, "query_s": self.query_s, "tail_s": self.tail_s,
            "chains": {k: [c.left, c.pace] for k, c in self.chains.items()}, "expected": dict(self.expected),
            "seen": [list(x) for x in self._seen], "eta": answer}) + "\n")
        handle.flush()
        return answer

    LiveEta.estimate = traced  # type: ignore[method-assign]


def child_load(home: str, project: str, url: str, samples: str, every: float, concurrency: int | None,
               tokens: int = 1) -> dict[str, Any]:
    from dataclasses import replace

    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.pipeline.session import Destination, PipelineSession
    from helpmig_tui.settings import resolve_paths

    sampler = Sampler(samples, every)
    chains = _watch_chains(sampler)
    if os.environ.get("BENCH_TRACE_ETA"):
        _trace_estimates(sampler, os.environ["BENCH_TRACE_ETA"])
    options = LoadOptions(accept_gates=True)
    if concurrency:
        options.concurrency = concurrency
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    commits = [0]
    event.listen(Engine, "commit", lambda conn: commits.__setitem__(0, commits[0] + 1))  # every SQLite commit
    sampler.commits = lambda: commits[0]
    token: str | list[str] = TOKEN if tokens == 1 else [f"{TOKEN}-{n}" for n in range(tokens)]

    async def run() -> dict[str, Any]:
        async with PipelineSession(resolve_paths(home), project, Destination(url, token), observer=sampler) as session:
            sampler.metrics = session.client.metrics
            plan = await session.plan()
            before = session.client.metrics()  # the plain median of the exchanges so far: what the plan once took
            plain = (before.latency_p50_ms or 0) / 1000 or plan.latency_s
            planned = {p.name: {"calls": p.calls, "chain": p.chain, "eta_s": round(plan.phase_eta_s(p), 3),
                                "range_s": [round(t, 3) for t in plan.phase_range(p)],
                                "eta_s_plain_latency": round(replace(plan, latency_s=plain).phase_eta_s(p), 1)}
                       for p in plan.phases}
            result = await session.load(options)
            snapshot = session.client.metrics()
            last = sampler.sample("end", force=True)
            return {"status": result.status, "message": result.message, "calls": snapshot.calls, "in_doubt": snapshot.in_doubt, "events": sampler.events,
                    "requests": snapshot.requests, "rate_limited": snapshot.rate_limited, "retries": snapshot.retries,
                    "latency_p50_ms": snapshot.latency_p50_ms, "latency_p95_ms": snapshot.latency_p95_ms,
                    "phases": sampler.phases, "end": last, "plan": planned, "etas": sampler.etas,
                    "phase_starts": sampler.starts, "plan_latency_ms": round(plan.latency_s * 1000),
                    "plan_plain_latency_ms": round(plain * 1000), "chains": _chains_summary(chains, sampler.phases),
                    "plan_limit_per_10s": plan.limit_per_10s,
                    "objects": {o.object: o.read for r in result.reports for o in r.objects}}

    profile_to = os.environ.get("BENCH_PROFILE")  # a file: the loader's profile (cProfile), for a look with pstats
    try:
        if not profile_to:
            return asyncio.run(run())
        import cProfile

        profiler = cProfile.Profile()
        try:
            return profiler.runcall(asyncio.run, run())
        finally:
            profiler.dump_stats(profile_to)
    finally:
        sampler.close()


def child_scope(home: str, project: str, url: str) -> dict[str, Any]:
    """The scope check alone (`PipelineSession.check_scope`: read the desk, write the findings
    and reports/not-migrated.csv), its time and this process's memory before and at its peak.
    BENCH_TRACEMALLOC=N also names the N lines that held the most Python memory at the peak."""
    from helpmig_tui.pipeline.session import Destination, PipelineSession
    from helpmig_tui.settings import resolve_paths

    traced = int(os.environ.get("BENCH_TRACEMALLOC") or 0)

    async def run() -> dict[str, Any]:
        async with PipelineSession(resolve_paths(home), project, Destination(url, TOKEN)) as session:
            before = _rss_kb()
            if traced:
                import tracemalloc

                tracemalloc.start(8)
            started = time.perf_counter()
            items = await session.check_scope()
            seconds = time.perf_counter() - started
            top: list[str] = []
            if traced:
                peak = tracemalloc.get_traced_memory()[1]
                top = [f"{peak / 2**20:.1f} MB traced at the peak"]
                top += [str(s) for s in tracemalloc.take_snapshot().statistics("lineno")[:traced]]
                tracemalloc.stop()
            return {"seconds": round(seconds, 1), "rss_before_mb": round(before / 1024, 1),
                    "not_migrated": len(items), "tracemalloc_at_end": top}

    result = asyncio.run(run())
    status = Path("/proc/self/status").read_text().splitlines()
    result["peak_rss_mb"] = round(int(next(s.split()[1] for s in status if s.startswith("VmHWM"))) / 1024, 1)
    return result


# -- the parent ----------------------------------------------------------------------------


def _child(*args: str, **popen: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT, **popen)


def _json_child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class SandboxProcess:
    def __init__(self, seed: Path, rate_limit: int | None, latency_ms: float, record: bool = False,
                 whole: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["sandbox", str(seed), str(self.port), str(rate_limit or 0), str(latency_ms), str(int(record)),
                str(int(whole))]
        self.process = _child(*args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/__sandbox/state", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            self.process.kill()
            raise SystemExit("the sandbox did not start")
        self.cpu0 = process_cpu_seconds(self.process.pid)

    def cpu(self) -> float:
        return process_cpu_seconds(self.process.pid) - self.cpu0

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=60).json()

    def save(self, to: Path) -> None:
        """The workspace as it stands, into a state file a later sandbox starts from."""
        httpx.post(f"{self.url}/__bench__/save", params={"to": str(to)}, timeout=300).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def prepare(home: Path, tickets: int) -> dict[str, Any]:
    return _json_child("prepare", str(home), str(tickets))


@contextlib.contextmanager
def _ro(home: Path, project: str) -> Iterator[sqlite3.Connection]:
    """The project's state database, read-only (the loader may be writing it); closed after."""
    from helpmig_tui.settings import resolve_paths

    with contextlib.closing(sqlite3.connect(f"file:{resolve_paths(home).state_file(project)}?mode=ro", uri=True,
                                            timeout=30)) as db:
        yield db


@contextlib.contextmanager
def _rw(home: Path, project: str) -> Iterator[sqlite3.Connection]:
    """The project's state database, committed and closed after (the state is put back
    under it between resumes)."""
    from helpmig_tui.settings import resolve_paths

    with contextlib.closing(sqlite3.connect(resolve_paths(home).state_file(project), timeout=30)) as db, db:
        yield db


def journal_rows(home: Path, project: str) -> int:
    with _ro(home, project) as db:
        return db.execute("SELECT count(*) FROM journal").fetchone()[0]


def run_loader(home: Path, project: str, url: str, *, every: float = 5.0, max_seconds: float | None = None,
               concurrency: int | None = None, stop_at_rows: int | None = None, tokens: int = 1) -> dict[str, Any]:
    """The loader in a child; stopped (SIGKILL) after `max_seconds` or once the journal
    holds `stop_at_rows` rows. Returns its result (when it finished) and its samples."""
    samples = home / f"samples-{time.monotonic_ns()}.jsonl"
    args = ["load", str(home), project, url, str(samples), str(every), str(concurrency or 0), str(tokens)]
    started = time.monotonic()
    process = _child(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    peak_kb = 0
    while process.poll() is None:
        time.sleep(0.5)
        try:
            peak_kb = max(peak_kb, int(next(line.split()[1] for line in
                                            Path(f"/proc/{process.pid}/status").read_text().splitlines()
                                            if line.startswith("VmHWM"))))
        except (OSError, StopIteration):
            pass
        elapsed = time.monotonic() - started
        if (max_seconds is not None and elapsed > max_seconds) or (
                stop_at_rows is not None and journal_rows(home, project) >= stop_at_rows):
            process.kill()
            killed = True
    out, err = process.communicate()
    lines = [json.loads(line) for line in samples.read_text().splitlines()] if samples.exists() else []
    if not killed and process.returncode != 0:
        raise SystemExit(f"the loader failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1]) if not killed else None
    return {"result": result, "samples": lines, "killed": killed, "wall": time.monotonic() - started,
            "peak_kb": peak_kb}


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def _write_rows(home: Path, project: str) -> int:
    """Journal rows that stand for a call (begun at least once and done)."""
    with _ro(home, project) as db:
        return db.execute("SELECT count(*) FROM journal WHERE attempts > 0 AND status = 'done'").fetchone()[0]


def _journal_by_kind(home: Path, project: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with _ro(home, project) as db:
        for kind, calls, rows in db.execute(
                "SELECT kind, sum(attempts > 0 AND status = 'done'), count(*) FROM journal GROUP BY kind"):
            out[kind] = {"written": calls, "rows": rows}
    return out


# -- scenarios -----------------------------------------------------------------------------


@contextlib.contextmanager
def _workdir(keep: str | None, reuse: bool = False) -> Iterator[Path]:
    """A temporary folder, or `keep` (created unless `reuse`, and left behind for a look
    afterwards or a later run)."""
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=reuse)
        yield Path(keep)
        return
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        yield Path(folder)


def scenario_calls(args: argparse.Namespace) -> dict[str, Any]:
    """API calls per migrated record, unlimited sandbox, against the writes the journal holds."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        home = Path(folder)
        prepared = prepare(home, args.tickets)
        sandbox = SandboxProcess(home / "seed.db", None, 0.0)
        try:
            run = run_loader(home, prepared["project"], sandbox.url)
            landed, report = sandbox.get("/__sandbox/state"), sandbox.get("/__sandbox/report")
        finally:
            sandbox.stop()
        result = run["result"]
        by_kind = _journal_by_kind(home, prepared["project"])
        phases = _phase_rates(run["samples"], result["phases"])
        records_in = {p["phase"]: p["records_in"] for p in result["phases"]}
        return {"tickets": args.tickets, "truth": prepared["truth"], "status": result["status"],
                "requests": result["requests"], "writes": _write_rows(home, prepared["project"]),
                "per_phase": {name: {"records": records_in.get(name, 0), "requests": phase["requests"],
                                     "plan_calls": prepared["plan_calls"].get(name)}
                              for name, phase in phases.items()},
                "calls": result["calls"], "journal": by_kind, "landed": landed,
                "violations": {rule: item["count"] for rule, item in report["by_rule"].items()}}


def _prepared(home: Path, tickets: int, keep: str | None) -> dict[str, Any]:
    """The desk prepared in `home`; with `keep`, prepared once in KEEP/<tickets> and copied
    from there by later runs (its generation and audit are most of a short run's time)."""
    import shutil

    if not keep:
        return prepare(home, tickets)
    seed = Path(keep) / str(tickets)
    if not (seed / RATE_DESK).exists():
        seed.mkdir(parents=True, exist_ok=True)
        (seed / RATE_DESK).write_text(json.dumps(prepare(seed, tickets)))
    shutil.copytree(seed, home, dirs_exist_ok=True)
    return json.loads((seed / RATE_DESK).read_text())


def scenario_rate(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Records/s and requests/s: no limit and no latency (the engine's own overhead), then the
    published limit with 100 ms of latency."""
    if args.prepare_only:
        if not args.keep:
            raise SystemExit("--prepare-only needs --keep DIR")
        with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
            return [_prepared(Path(folder), args.tickets, args.keep)]
    out = []
    # name: (per-app limit, latency, tokens); with a limit the sandbox also holds the workspace's 4,167
    cases = {"unlimited": (None, 0.0, 1), "limited": (WINDOW_LIMIT, args.latency_ms, 1),
             "workspace": (WINDOW_LIMIT, args.latency_ms, 3)}
    for name in args.cases:
        rate_limit, latency, tokens = cases[name]
        with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
            home = Path(folder)
            prepared = _prepared(home, args.tickets, args.keep)
            before = load_avg()
            sandbox = SandboxProcess(home / "seed.db", rate_limit, latency)
            try:
                run = run_loader(home, prepared["project"], sandbox.url, every=args.every,
                                 max_seconds=args.max_seconds, concurrency=args.concurrency, tokens=tokens)
                sandbox_cpu = sandbox.cpu()
                refused = sandbox.get("/__sandbox/stats")["rate_limited"]
            finally:
                sandbox.stop()
        allowed = None if not rate_limit else min(rate_limit * tokens, WORKSPACE_LIMIT)
        summary = _rate_summary(name, args, prepared, run, sandbox_cpu, refused, before, allowed)
        summary["tokens"] = tokens
        out.append(summary)
        print(json.dumps(summary), flush=True)
    return out


def _eta_accuracy(etas: list[list[Any]], starts: dict[str, float], phases: list[dict[str, Any]],
                  plan: dict[str, Any]) -> dict[str, Any]:
    """Per phase, from the loader's start of it to its report: the plan's ETA against the
    phase's actual time, and the live ETA's first and worst error from the first 10% of the
    phase on (elapsed + ETA against the actual time), over every progress report (the screen
    gets each one), relative and in seconds; the verdict against issue 22's ±15 %, or under
    the screen's resolution (bench/eta.py's `verdict`, said so)."""
    out, start = {}, 0.0
    for p in phases:
        start, end = starts.get(p["phase"], start), p.get("end", p["t"])
        actual = end - start
        judged = [(t - start + eta) - actual for t, phase, eta in etas
                  if phase == p["phase"] and eta is not None and start + 0.1 * actual <= t <= end]
        errors = [round(e / actual, 3) for e in judged] if actual > 0 else []
        worst = max(errors, key=abs) if errors else None
        worst_s = round(max(judged, key=abs), 3) if judged and actual > 0 else None
        planned = plan.get(p["phase"], {})
        out[p["phase"]] = {"actual_s": round(actual, 3), "plan_eta_s": planned.get("eta_s"),
                           "plan_range_s": planned.get("range_s"),
                           "plan_error": round(planned["eta_s"] / actual - 1, 3) if planned.get("eta_s") and actual > 0
                           else None,
                           "plan_eta_s_plain_latency": planned.get("eta_s_plain_latency"),
                           "reports": sum(1 for _, phase, _ in etas if phase == p["phase"]),
                           "live_samples": len(errors), "live_worst_error": worst, "live_worst_error_s": worst_s,
                           "live_first_error": errors[0] if errors else None,
                           "live_first_error_s": round(judged[0], 3) if errors else None,
                           "live_verdict": verdict(worst, worst_s, LIVE_TARGET),
                           "live_errors": errors[::max(1, len(errors) // 40)]}  # every report judged; 40 kept
        start = end
    return out


def _rate_summary(name: str, args: argparse.Namespace, prepared: dict[str, Any], run: dict[str, Any],
                  sandbox_cpu: float, refused: int, before: float, rate_limit: int | None) -> dict[str, Any]:
    samples = run["samples"]
    last = run["result"]["end"] if run["result"] else samples[-1]
    summary: dict[str, Any] = {
        "case": name, "tickets": args.tickets, "concurrency": args.concurrency or "default",
        "finished": not run["killed"], "seconds": last["t"], "requests": last["requests"],
        "records": last["records"], "rate_limited": last["rate_limited"],
        "requests_per_s": round(last["requests"] / last["t"], 1), "records_per_s": round(last["records"] / last["t"], 1),
        "cpu_ms_per_request": round(last["cpu"] * 1000 / max(last["requests"], 1), 2),
        "sandbox_cpu_ms_per_request": round(sandbox_cpu * 1000 / max(last["requests"], 1), 2),
        "sandbox_refused_429": refused, "peak_rss_mb": round(run["peak_kb"] / 1024, 1),
        "load_before": before, "load_after": load_avg(),
    }
    summary["commits_per_request"] = round((last.get("commits") or 0) / max(last["requests"], 1), 3)
    if rate_limit:
        summary["share_of_allowed_whole_run"] = round(last["requests"] / last["t"] / (rate_limit / 10), 3)
    if run["result"]:
        summary["latency_p50_ms"] = run["result"]["latency_p50_ms"]
        summary["in_doubt"], summary["events"] = run["result"].get("in_doubt"), run["result"].get("events")
        failures: dict[str, int] = {}  # requests with no HTTP answer, by what happened (timeout, disconnected)
        for outcomes in run["result"]["calls"].values():
            for outcome, n in outcomes.items():
                if not str(outcome).isdigit():
                    failures[outcome] = failures.get(outcome, 0) + n
        summary["failures"] = failures
        summary["phases"] = _phase_rates(samples, run["result"]["phases"])
        summary["plan"] = {"latency_ms": run["result"]["plan_latency_ms"],
                           "plain_latency_ms": run["result"].get("plan_plain_latency_ms"),
                           "limit_per_10s": run["result"]["plan_limit_per_10s"]}
        summary["eta"] = _eta_accuracy(run["result"]["etas"], run["result"]["phase_starts"], run["result"]["phases"],
                                       run["result"]["plan"])
        summary["chains"] = run["result"].get("chains")
    # steady state: the conversations phase, between the first and the last sample inside it
    inside = [s for s in samples if s["phase"] == "conversations"]
    if len(inside) >= 2:
        a, b = inside[0], inside[-1]
        dt = b["t"] - a["t"]
        summary["conversations_steady"] = {
            "seconds": round(dt, 1), "requests_per_s": round((b["requests"] - a["requests"]) / dt, 1),
            "records_per_s": round((b["records"] - a["records"]) / dt, 1),
            "cpu_ms_per_request": round((b["cpu"] - a["cpu"]) * 1000 / max(b["requests"] - a["requests"], 1), 2),
            "share_429": round((b["rate_limited"] - a["rate_limited"]) / max(b["requests"] - a["requests"], 1), 4),
            # requests in flight at the samples: far under the slots means the records did not keep them busy
            "in_flight_mean": round(sum(s.get("in_flight", 0) for s in inside) / len(inside), 1),
        }
        if rate_limit:
            summary["conversations_steady"]["share_of_allowed"] = round(
                summary["conversations_steady"]["requests_per_s"] / (rate_limit / 10), 3)
    return summary


def _phase_rates(samples: list[dict[str, Any]], phases: list[dict[str, Any]]) -> dict[str, Any]:
    out, previous = {}, {"t": 0.0, "requests": 0, "records": 0, "cpu": 0.0}
    for p in phases:
        dt = max(p["t"] - previous["t"], 1e-6)
        out[p["phase"]] = {"seconds": round(dt, 1), "requests": p["requests"] - previous["requests"],
                           "records": p["records"] - previous["records"],
                           "requests_per_s": round((p["requests"] - previous["requests"]) / dt, 1)}
        previous = p
    return out


def scenario_cpu(args: argparse.Namespace) -> dict[str, Any]:
    """The engine's CPU per request against bare sharded httpx, in the same run, rounds
    interleaved (engine, bare, engine, bare, ...): the loader against an unlimited sandbox
    with no latency (its CPU is the limit), measured over its conversations phase; then the
    bare client (bench/side_by_side.py) against the same sandbox for as long."""
    import shutil

    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as folder:
        seed_home = Path(folder) / "prepared"
        seed_home.mkdir()
        prepared = prepare(seed_home, args.tickets)
        for n in range(args.repeat):
            home = Path(folder) / f"round-{n}"
            shutil.copytree(seed_home, home)
            sandbox = SandboxProcess(home / "seed.db", None, 0.0)
            try:
                before = load_avg()
                run = run_loader(home, prepared["project"], sandbox.url, every=2.0, max_seconds=args.seconds)
                middle = load_avg()
                bare = _bare(sandbox.url, args.seconds)
                after = load_avg()
            finally:
                sandbox.stop()
            inside = [s for s in run["samples"] if s["phase"] == "conversations"]
            if len(inside) < 2:
                raise SystemExit(f"the loader did not reach its conversations phase in {args.seconds:.0f} s: "
                                 "give it more --seconds")
            a, b = inside[0], inside[-1]
            made = max(b["requests"] - a["requests"], 1)
            engine = {"requests": made, "cpu_ms_per_request": round((b["cpu"] - a["cpu"]) * 1000 / made, 3),
                      "requests_per_s": round(made / max(b["t"] - a["t"], 1e-6), 1),
                      "commits_per_request": round(((b.get("commits") or 0) - (a.get("commits") or 0)) / made, 3),
                      "load_before": before, "load_after": middle}
            bare.update(load_before=middle, load_after=after)
            rounds.append({"engine": engine, "bare": bare,
                           "ratio": round(engine["cpu_ms_per_request"] / bare["cpu_ms_per_request"], 2)})
            print(json.dumps(rounds[-1]), flush=True)
    return {"tickets": args.tickets, "rounds": rounds}


def _bare(url: str, seconds: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "side_by_side.py"), "child", "bare", url,
                          f"bare-{time.monotonic_ns()}", str(time.time() + 1), str(seconds)],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the bare client failed:\n{out.stderr[-3000:]}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: found[k] for k in ("requests", "cpu_ms_per_request", "ok_per_s")}


RESUME_DESK = "resume-desk.json"  # in a kept folder: the prepared desk, reused by a later run
RESUME_SNAPSHOT = "resume-snapshot.sqlite"  # the project's state as the killed first load left it
RESUME_WORKSPACE = "resume-workspace.sqlite"  # and the sandbox's workspace (what that load wrote)


def scenario_resume(args: argparse.Namespace) -> dict[str, Any]:
    """Load until the journal holds `journal_rows` rows, kill the loader (SIGKILL), then time
    `python -m helpmig_tui load P --yes` from its start to its first requests. Every attempt
    is the same resume: the project's state and the sandbox's workspace are put back as the
    killed first load left them (an attempt let run long enough finishes the load, and the
    next would time a new run, not a resume). With --keep, a folder that already holds a
    desk prepared this way is reused and only the resumes are run again."""
    reuse = bool(args.keep) and (Path(args.keep) / RESUME_DESK).exists()
    with _workdir(args.keep, reuse) as home:
        if reuse:
            desk = json.loads((home / RESUME_DESK).read_text())
        else:
            project = prepare(home, args.tickets)["project"]
            sandbox = SandboxProcess(home / "seed.db", None, 0.0, record=True)
            try:
                first = run_loader(home, project, sandbox.url, stop_at_rows=args.journal_rows)
                with _ro(home, project) as db, contextlib.closing(sqlite3.connect(home / RESUME_SNAPSHOT)) as snapshot:
                    db.backup(snapshot)
                sandbox.save(home / RESUME_WORKSPACE)
            finally:
                sandbox.stop()
            desk = {"project": project, "tickets": args.tickets, "first_run_killed": first["killed"]}
            (home / RESUME_DESK).write_text(json.dumps(desk))
        project = desk["project"]
        _put_back(home, project)
        rows = journal_rows(home, project)
        with _ro(home, project) as db:
            statuses = dict(db.execute("SELECT status, count(*) FROM journal GROUP BY status").fetchall())
        results = []
        for attempt in range(args.repeat):
            _put_back(home, project)
            sandbox = SandboxProcess(home / RESUME_WORKSPACE, None, 0.0, record=True, whole=True)
            try:
                # the sandbox's first request builds what it keeps for every later one: not the resume's to pay
                httpx.get(f"{sandbox.url}/me", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
                results.append(_time_resume(home, project, sandbox, args.resume_seconds))
            finally:
                sandbox.stop()
        return {"tickets": desk["tickets"], "journal_rows": rows, "statuses": statuses, "reused_desk": reuse,
                "first_run_killed": desk["first_run_killed"], "resumes": results}


def _put_back(home: Path, project: str) -> None:
    """The project's state as the killed first load left it (its snapshot), on disk: the
    copy's write-back is the bench's work, not the resume's."""
    import shutil

    from helpmig_tui.settings import resolve_paths

    state = resolve_paths(home).state_file(project)
    for suffix in ("-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(home / RESUME_SNAPSHOT, state)
    with open(state, "rb+") as restored:
        os.fsync(restored.fileno())


def _time_resume(home: Path, project: str, sandbox: SandboxProcess, seconds: float) -> dict[str, Any]:
    with _rw(home, project) as db:  # as `helpmig connect --intercom-url` records it
        db.execute("UPDATE project SET intercom_url = ?", (sandbox.url,))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HELPMIG_INTERCOM_TOKEN": TOKEN}
    command = [sys.executable, "-m", "helpmig_tui", "--home", str(home), "load", project, "--yes"]
    before = load_avg()
    started = time.time()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    process.kill()  # interrupted again: the next attempt resumes too
    process.wait()
    requests = [r for r in sandbox.get("/__bench__/requests") if r[0] >= started]
    work = [r for r in requests if not (r[1] == "GET" and r[2].startswith(STARTUP_READS))]
    writes = [r for r in work if r[1] != "GET" and not r[2].endswith("/search")]
    return {
        "log": _log_marks(home, started),
        "first_request_s": round(requests[0][0] - started, 3) if requests else None,
        "first_request": requests[0][1:] if requests else None,
        "first_new_call_s": round(work[0][0] - started, 3) if work else None,
        "first_new_call": work[0][1:] if work else None,
        "first_write_s": round(writes[0][0] - started, 3) if writes else None,
        "first_write": writes[0][1:] if writes else None,
        "startup_reads": sum(1 for r in requests if not work or r[0] < work[0][0]),
        "load_before": before, "load_after": load_avg(),
    }


LOG_MARKS = {"log_started": "helpmig.cli: helpmig ", "match_started": "phase match (",
             "match_kept": "phase match: finished before the run was interrupted",
             "conversations_started": "phase conversations ("}


def _log_marks(home: Path, started: float) -> dict[str, float]:
    """When the resumed process wrote its first log line and began the match and the
    conversations phases, in seconds from its start (its log, one file per process)."""
    import datetime as dt

    logs = [p for p in (home / "logs").glob("*.log") if p.stat().st_mtime >= started]
    if not logs:
        return {}
    marks: dict[str, float] = {}
    for line in max(logs, key=lambda p: p.stat().st_mtime).read_text(errors="replace").splitlines():
        for name, text in LOG_MARKS.items():
            if name not in marks and text in line:
                at = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # local time, as logged
                marks[name] = round(at - started, 3)
    return marks


def scenario_memory(args: argparse.Namespace) -> list[dict[str, Any]]:
    """RSS over time of a load against an unlimited sandbox, for each desk size."""
    out = []
    for tickets in args.tickets_list:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
            home = Path(folder)
            prepared = prepare(home, tickets)
            before = load_avg()
            sandbox = SandboxProcess(home / "seed.db", None, 0.0)
            try:
                run = run_loader(home, prepared["project"], sandbox.url, every=args.every,
                                 max_seconds=args.minutes * 60 if args.minutes else None)
            finally:
                sandbox.stop()
        samples = run["samples"]
        out.append({
            "tickets": tickets, "finished": not run["killed"], "prepare_s": prepared["seconds"],
            "seconds": samples[-1]["t"] if samples else None, "records": samples[-1]["records"] if samples else 0,
            "requests": samples[-1]["requests"] if samples else 0, "peak_rss_mb": round(run["peak_kb"] / 1024, 1),
            "rss_mb_over_time": [(s["t"], s["phase"], s["records"], round(s["rss_kb"] / 1024, 1)) for s in samples],
            "load_before": before, "load_after": load_avg(),
        })
    return out


SCOPE_DESK = "scope-desk.json"  # in a kept folder per desk size: the prepared project, reused by a later run


def scenario_scope(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The scope check alone in a child, for each desk size: its time and peak RSS. With
    --keep, each desk is prepared once in DIR/<tickets> and reused by later runs (the check
    reads the source and rewrites its findings and CSV; it changes nothing else)."""
    out = []
    for tickets in args.tickets_list:
        keep = str(Path(args.keep) / str(tickets)) if args.keep else None
        reuse = bool(keep) and (Path(keep) / SCOPE_DESK).exists()
        with _workdir(keep, reuse) as home:
            if reuse:
                desk = json.loads((home / SCOPE_DESK).read_text())
            else:
                desk = prepare(home, tickets)
                (home / SCOPE_DESK).write_text(json.dumps({"project": desk["project"], "seconds": desk["seconds"]}))
            sandbox = SandboxProcess(home / "seed.db", None, 0.0)
            try:
                for _ in range(args.repeat):
                    before = load_avg()
                    run = _json_child("scopecheck", str(home), desk["project"], sandbox.url)
                    out.append({"tickets": tickets, "reused_desk": reuse, **run,
                                "load_before": before, "load_after": load_avg()})
                    print(json.dumps(out[-1]), flush=True)
            finally:
                sandbox.stop()
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "scopecheck":
        print(json.dumps(child_scope(*sys.argv[2:5])))
        return
    if len(sys.argv) > 1 and sys.argv[1] in ("prepare", "sandbox", "load"):
        role, *rest = sys.argv[1:]
        if role == "prepare":
            print(json.dumps(child_prepare(rest[0], int(rest[1]))))
        elif role == "sandbox":
            child_sandbox(rest[0], int(rest[1]), int(rest[2]) or None, float(rest[3]), rest[4] == "1",
                          rest[5:6] == ["1"])
        else:
            print(json.dumps(child_load(rest[0], rest[1], rest[2], rest[3], float(rest[4]), int(rest[5]) or None,
                                        int(rest[6]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)
    calls = sub.add_parser("calls", help="API calls per migrated record")
    calls.add_argument("--tickets", type=int, default=2000)
    rate = sub.add_parser("rate", help="records/s and requests/s, unlimited and rate-limited")
    rate.add_argument("--tickets", type=int, default=5000)
    rate.add_argument("--cases", nargs="*", choices=("unlimited", "limited", "workspace"),
                      default=["unlimited", "limited", "workspace"])
    rate.add_argument("--latency-ms", type=float, default=100.0)
    rate.add_argument("--concurrency", type=int, default=None, help="LoadOptions.concurrency (default: the loader's)")
    rate.add_argument("--max-seconds", type=float, default=None, help="stop the loader after this long")
    rate.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    rate.add_argument("--keep", metavar="DIR", help="prepare the desk in DIR/<tickets> once; later runs copy it")
    rate.add_argument("--prepare-only", action="store_true", help="with --keep: prepare the desk, run nothing")
    cpu = sub.add_parser("cpu", help="the engine's CPU per request against bare httpx, interleaved")
    cpu.add_argument("--tickets", type=int, default=3000)
    cpu.add_argument("--seconds", type=float, default=40.0, help="each side's time per round")
    cpu.add_argument("--repeat", type=int, default=3)
    resume = sub.add_parser("resume", help="start-up time of a resumed load")
    resume.add_argument("--tickets", type=int, default=12000)
    resume.add_argument("--journal-rows", type=int, default=100_000)
    resume.add_argument("--repeat", type=int, default=3)
    resume.add_argument("--resume-seconds", type=float, default=15.0, help="how long each resumed run is let run")
    resume.add_argument("--keep", metavar="DIR", help="work in DIR and leave the project there; a DIR kept by an "
                        "earlier run is reused (its desk and first load; --tickets and --journal-rows are then its own)")
    memory = sub.add_parser("memory", help="RSS over time and peak RSS")
    memory.add_argument("--tickets", dest="tickets_list", type=int, nargs="*", default=[20_000, 200_000])
    memory.add_argument("--minutes", type=float, default=None, help="stop each load after this long")
    memory.add_argument("--every", type=float, default=10.0)
    scope = sub.add_parser("scope", help="the scope check alone: time and peak RSS")
    scope.add_argument("--tickets", dest="tickets_list", type=int, nargs="*", default=[20_000, 200_000])
    scope.add_argument("--repeat", type=int, default=1)
    scope.add_argument("--keep", metavar="DIR", help="prepare each desk in DIR/<tickets> once, reuse it later")
    args = parser.parse_args()
    print(json.dumps({"machine": machine()}), flush=True)
    result = {"calls": scenario_calls, "rate": scenario_rate, "resume": scenario_resume, "cpu": scenario_cpu,
              "memory": scenario_memory, "scope": scenario_scope}[args.scenario](args)
    print(json.dumps(result, indent=1, default=str))
    print(json.dumps({"machine_after": machine()}))


if __name__ == "__main__":
    main()
