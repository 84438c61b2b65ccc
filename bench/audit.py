"""Benchmark: the whole audit (run_audit) on generated SQL desks: time and peak memory.

    python bench/audit.py                                   # 10k and 100k tickets, both platforms
    python bench/audit.py --tickets 5000 --platform trackit

Generation runs in one child process, the audit in another, so the audit's peak resident
memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_generate(platform_name: str, tickets: int, folder: str) -> dict:
    from connectors.samples import generate_smartertrack, generate_trackit

    generate = generate_smartertrack if platform_name == "smartertrack" else generate_trackit
    manifest = generate(folder, tickets=tickets, seed=1)
    manifest.write(Path(folder) / "manifest.json")
    return {"options": manifest.options, "records": sum(manifest.counts.values())}


def phase_audit(platform_name: str, options: dict) -> dict:
    from connectors.registry import open_source
    from helpmig_tui.audit import run_audit

    started = time.perf_counter()
    with open_source(platform_name, options, lambda _n: None) as source:
        result = run_audit(source)
    return {
        "seconds": time.perf_counter() - started,
        "records": sum(o.profile.count for o in result.objects),
        "findings": len(result.findings),
        "peak_mb": _peak_mb(),
    }


def _child(phase: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--platform", choices=("smartertrack", "trackit"), nargs="*", default=["smartertrack", "trackit"])
    parser.add_argument("--phase")
    parser.add_argument("args", nargs="*")
    ns = parser.parse_args()
    if ns.phase == "generate":
        print(json.dumps(phase_generate(ns.args[0], int(ns.args[1]), ns.args[2])))
        return
    if ns.phase == "audit":
        print(json.dumps(phase_audit(ns.args[0], json.loads(ns.args[1]))))
        return
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print("| platform | tickets | records audited | audit time | records/s | findings | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ns.platform:
        for tickets in ns.tickets:
            with tempfile.TemporaryDirectory() as folder:
                generated = _child("generate", name, str(tickets), folder)
                audit = _child("audit", name, json.dumps(generated["options"]))
                print(
                    f"| {name} | {tickets:,} | {audit['records']:,} | {audit['seconds']:.1f} s | "
                    f"{audit['records'] / audit['seconds']:,.0f} | {audit['findings']} | {audit['peak_mb']:.0f} MB |",
                    flush=True,
                )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
