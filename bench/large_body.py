"""Benchmark: a load whose desk holds one very long message body (issue 14, item 5).

    python bench/large_body.py 1000 1100000 10000000 50000000

For each body size (characters), in a child process of its own: generate a 30-ticket
SmarterTrack desk whose one large message has that body, prepare the demo project (audit,
proposed and confirmed map), then time the full load against the in-process sandbox and
read the child's peak RSS. The 1,000-character desk is the baseline: what the long body
adds is the difference. Not a test: figures go to bench/README.md.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(size: int) -> dict:
    from connectors.registry import open_source
    from connectors.samples import generate_smartertrack
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.settings import resolve_paths

    def sample(folder: Path, tickets: int):
        manifest = generate_smartertrack(folder, tickets=tickets, large_body=size, attachment_files=False)
        skipped = {obj: sum(len(k) for k in reasons.values()) for obj, reasons in manifest.skipped.items()}
        return (manifest.options, lambda: open_source("smartertrack", manifest.options, lambda _n: None),
                dict(manifest.counts), skipped)

    events: list[str] = []

    class Events:
        def progress(self, progress) -> None:
            pass

        def event(self, level: str, message: str) -> None:
            events.append(message)

        def phase_finished(self, report) -> None:
            pass

    with tempfile.TemporaryDirectory() as home:
        paths = resolve_paths(Path(home))
        started = time.perf_counter()
        demo = prepare_demo(paths, "smartertrack", 30, sample=sample)
        prepared = time.perf_counter() - started

        async def load():
            async with demo.session(Events()) as session:
                return await session.load(LoadOptions(accept_gates=True))

        started = time.perf_counter()
        result = asyncio.run(load())
        loaded = time.perf_counter() - started
    noted = {f"{o}:{c}": n for r in result.reports for o, c, n, _ in r.noted if c in ("body.attached_as_file",
                                                                                      "value.oversized")}
    return {"size": size, "prepare_s": round(prepared, 1), "load_s": round(loaded, 1), "status": result.status,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "noted": noted, "slow_notices": sum("taking longer" in e for e in events)}


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(int(sys.argv[2]))))
        return
    for size in [int(a) for a in sys.argv[1:]] or [1000, 50_000_000]:
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True)
        print(out.stdout.strip().splitlines()[-1] if out.returncode == 0 else f"{size}: failed\n{out.stderr[-2000:]}",
              flush=True)


if __name__ == "__main__":
    main()
