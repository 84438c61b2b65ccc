"""Benchmark: a resumed load's wall and CPU time to `GET /me` and to its first new call,
for one or more source trees interleaved on one kept desk (`bench/load.py resume --keep`).

    python bench/resume_cpu.py --keep /tmp/resume-desk --rounds 8 /path/to/base /path/to/branch
    python bench/resume_cpu.py --keep /tmp/resume-desk --rounds 8 /path/to/base /path/to/branch=/tmp/other-desk

A tree given as `TREE=DESK` resumes from its own kept desk (one whose state only that tree
can open, a newer schema), on a sandbox of its own.

Each resume starts from the kept journal (the project's state put back), runs
`python -m helpmig_tui load P --yes` with the tree on PYTHONPATH and is killed once it made
its first new call. An audit hook in the child notes the process's CPU time (user + system,
every thread) at its first socket connect (`GET /me`) and at its seventh (the six start-up
reads each take a slot's connection; the next one is the first new call). CPU time depends
less on what else the machine runs than wall time does, so two trees can be compared on a
busy machine; wall times (the sandbox's clock) are reported beside it. Rounds alternate
which tree goes first. The desk is copied, never changed: the project's folder goes to a
temporary home. Not a test: figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from load import RESUME_DESK, RESUME_SNAPSHOT, RESUME_WORKSPACE, STARTUP_READS, TOKEN, SandboxProcess, load_avg  # noqa: E402

CHILD = """
import os, runpy, sys, time
out = open(os.environ["RESUME_MARKS"], "w", buffering=1)
connects = [0]
def hook(event, args):
    if event == "socket.connect":
        connects[0] += 1
        if connects[0] in (1, 7):
            t = os.times()
            out.write(f"{connects[0]} {time.time():.4f} {t.user + t.system:.3f}\\n")
sys.addaudithook(hook)
sys.argv = ["helpmig_tui", *sys.argv[1:]]
runpy.run_module("helpmig_tui", run_name="__main__", alter_sys=True)
"""


def resume_once(tree: Path, home: Path, project: str, sandbox: SandboxProcess, snapshot: Path) -> dict:
    state = home / "projects" / project / "state.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(snapshot, state)
    db = sqlite3.connect(state)
    with db:
        db.execute("UPDATE project SET intercom_url = ?", (sandbox.url,))
    db.close()
    with open(state, "rb+") as restored:
        os.fsync(restored.fileno())
    marks_file = home / "marks.txt"
    marks_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(tree), "HELPMIG_INTERCOM_TOKEN": TOKEN, "RESUME_MARKS": str(marks_file)}
    before = load_avg()
    started = time.time()
    child = subprocess.Popen([sys.executable, "-c", CHILD, "--home", str(home), "load", project, "--yes"], cwd=tree,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marks: dict[int, tuple[float, float]] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(marks) < 2:
        time.sleep(0.05)
        if marks_file.exists():
            marks = {int(n): (float(at), float(cpu)) for n, at, cpu in
                     (line.split() for line in marks_file.read_text().splitlines() if line)}
    time.sleep(0.5)  # the connection is open: let its request reach the sandbox before the kill
    child.kill()
    child.wait()
    requests = [r for r in sandbox.get("/__bench__/requests") if r[0] >= started]
    work = [r for r in requests if not (r[1] == "GET" and r[2].startswith(STARTUP_READS))]
    return {"load_before": before,
            "me_s": round(requests[0][0] - started, 3) if requests else None,
            "new_s": round(work[0][0] - started, 3) if work else None,
            "new_call": work[0][1:3] if work else None,
            "me_cpu_s": marks.get(1, (0, None))[1], "new_cpu_s": marks.get(7, (0, None))[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", help="source trees (byte-compiled) to time, interleaved; TREE=DESK "
                                                 "for a tree that resumes from its own kept desk")
    parser.add_argument("--keep", type=Path, required=True, help="a desk kept by `bench/load.py resume --keep`")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    trees = [(Path(t.split("=", 1)[0]), Path(t.split("=", 1)[1]) if "=" in t else args.keep) for t in args.trees]
    results: dict[str, list[dict]] = {str(t): [] for t, _ in trees}
    with tempfile.TemporaryDirectory(prefix="bench-resume-cpu-") as folder, ExitStack() as stack:
        desks = {}  # kept desk -> (home, project, sandbox)
        for n, keep in enumerate(dict.fromkeys(keep for _, keep in trees)):
            project = json.loads((keep / RESUME_DESK).read_text())["project"]
            home = Path(folder) / str(n)
            shutil.copytree(keep / "projects" / project, home / "projects" / project,
                            ignore=shutil.ignore_patterns("state.sqlite*"))
            sandbox = SandboxProcess(keep / RESUME_WORKSPACE, None, 0.0, record=True, whole=True)
            stack.callback(sandbox.stop)
            httpx.get(f"{sandbox.url}/me", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            desks[keep] = (home, project, sandbox)
        for round_ in range(args.rounds):
            for tree, keep in trees if round_ % 2 == 0 else trees[::-1]:
                home, project, sandbox = desks[keep]
                row = resume_once(tree, home, project, sandbox, keep / RESUME_SNAPSHOT)
                results[str(tree)].append(row)
                print(json.dumps({"tree": str(tree), "desk": str(keep), **row}), flush=True)
    for tree, rows in results.items():
        summary = {key: statistics.median(values) for key in ("me_s", "new_s", "me_cpu_s", "new_cpu_s")
                   if (values := [r[key] for r in rows if r[key] is not None])}
        print(json.dumps({"tree": tree, "median": summary, "resumes": len(rows)}), flush=True)


if __name__ == "__main__":
    main()
