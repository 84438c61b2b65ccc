"""Benchmark: sample generation, connector read throughput and peak memory (not a test).

    python bench/sources_read.py                      # 10k and 100k tickets, both platforms
    python bench/sources_read.py --tickets 2000 --platform trackit

Each phase runs in its own child process so its peak resident memory (ru_maxrss) is its
own: generation, a streaming read of every main object, conversations read the way the
loader reads them (a batch of tickets, then their parts in one query per object), and
the audit primitives pushed down to SQL.
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

PARTS = {"smartertrack": ("messages", "comments"), "trackit": ("notes",)}
STREAMED = {
    "smartertrack": ("tickets", "messages", "comments", "customers"),
    "trackit": ("tickets", "notes", "requesters"),
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _open(manifest: dict):
    from connectors.registry import open_source

    return open_source(manifest["platform"], manifest["options"], lambda name: None)


def phase_generate(platform_name: str, tickets: int, folder: str) -> dict:
    from connectors.samples import generate_smartertrack, generate_trackit

    generate = generate_smartertrack if platform_name == "smartertrack" else generate_trackit
    started = time.perf_counter()
    manifest = generate(folder, tickets=tickets, seed=1)
    seconds = time.perf_counter() - started
    manifest.write(Path(folder) / "manifest.json")
    rows = sum(manifest.counts.values()) + sum(len(k) for r in manifest.skipped.values() for k in r.values())
    size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return {
        "seconds": seconds,
        "rows": rows,
        "rows_per_s": rows / seconds,
        "disk_mb": size / 2**20,
        "peak_mb": _peak_mb(),
    }


def phase_stream(folder: str) -> dict:
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    source = _open(manifest)
    source.describe()
    result = {}
    total, started = 0, time.perf_counter()
    for name in STREAMED[manifest["platform"]]:
        t0, n = time.perf_counter(), 0
        for batch in source.iter_records(name, batch_size=500):
            n += len(batch)
        assert n == manifest["counts"][name], (name, n)
        result[name] = {"records": n, "records_per_s": n / (time.perf_counter() - t0)}
        total += n
    seconds = time.perf_counter() - started
    source.close()
    return {
        "objects": result,
        "records": total,
        "seconds": seconds,
        "records_per_s": total / seconds,
        "peak_mb": _peak_mb(),
    }


def phase_conversations(folder: str) -> dict:
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    source = _open(manifest)
    parts_names = PARTS[manifest["platform"]]
    conversations = parts = 0
    started = time.perf_counter()
    for batch in source.iter_records("tickets", batch_size=500):
        keys = [record.key for record in batch]
        for name in parts_names:
            parts += sum(len(found) for found in source.children(name, keys).values())
        conversations += len(batch)
    seconds = time.perf_counter() - started
    source.close()
    return {
        "conversations": conversations,
        "parts": parts,
        "seconds": seconds,
        "records_per_s": (conversations + parts) / seconds,
        "peak_mb": _peak_mb(),
    }


def phase_pushdown(folder: str) -> dict:
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    source = _open(manifest)
    platform_name = manifest["platform"]
    child = PARTS[platform_name][0]
    timings = {}

    def timed(label, call):
        t0 = time.perf_counter()
        call()
        timings[label] = time.perf_counter() - t0

    timed("describe", source.describe)
    timed("profile tickets", lambda: source.profile("tickets"))
    timed(f"profile {child}", lambda: source.profile(child))
    timed(f"childless tickets/{child}", lambda: source.childless_keys("tickets", child))
    timed(f"child_counts {child} over 500", lambda: source.child_counts(child, over=500))
    contacts = "customers" if platform_name == "smartertrack" else "requesters"
    timed(f"duplicate {contacts}.email", lambda: source.duplicate_values(contacts, "email"))
    timed(
        f"attachments of {'messages' if platform_name == 'smartertrack' else 'tickets'}",
        lambda: sum(1 for _ in source.iter_attachments("messages" if platform_name == "smartertrack" else "tickets")),
    )
    source.close()
    return {"timings": timings, "seconds": sum(timings.values()), "peak_mb": _peak_mb()}


PHASES = {
    "generate": phase_generate,
    "stream": phase_stream,
    "conversations": phase_conversations,
    "pushdown": phase_pushdown,
}


def child(phase: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    model = next(
        (line.split(":", 1)[1].strip() for line in run("lscpu").splitlines() if line.startswith("Model name")), "?"
    )
    return (
        f"{run('nproc')} CPUs ({model}), Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--platform", choices=["smartertrack", "trackit"], nargs="+", default=["smartertrack", "trackit"]
    )
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.phase:
        args = options.args
        result = (
            PHASES[options.phase](args[0], int(args[1]), args[2])
            if options.phase == "generate"
            else PHASES[options.phase](args[0])
        )
        print(json.dumps(result))
        return
    print(f"machine: {machine()}")
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for name in options.platform:
        for tickets in options.tickets:
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
                generated = child("generate", name, str(tickets), folder)
                streamed = child("stream", folder)
                conversations = child("conversations", folder)
                pushed = child("pushdown", folder)
            print(f"\n{name}, {tickets:,} tickets")
            print(
                f"  generate       {generated['seconds']:7.1f} s  {generated['rows']:>9,} rows  "
                f"{generated['rows_per_s']:>9,.0f} rows/s  {generated['disk_mb']:7.1f} MB on disk  peak {generated['peak_mb']:.0f} MB"
            )
            print(
                f"  stream         {streamed['seconds']:7.1f} s  {streamed['records']:>9,} records "
                f"{streamed['records_per_s']:>9,.0f} rec/s  peak {streamed['peak_mb']:.0f} MB"
            )
            for obj, figures in streamed["objects"].items():
                print(f"    {obj:<13}{figures['records']:>9,} records {figures['records_per_s']:>9,.0f} rec/s")
            print(
                f"  conversations  {conversations['seconds']:7.1f} s  {conversations['conversations']:>9,} tickets + "
                f"{conversations['parts']:,} parts  {conversations['records_per_s']:,.0f} rec/s  peak {conversations['peak_mb']:.0f} MB"
            )
            print(f"  pushdown       {pushed['seconds']:7.1f} s  peak {pushed['peak_mb']:.0f} MB")
            for label, seconds in pushed["timings"].items():
                print(f"    {label:<36}{seconds:7.2f} s")
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
