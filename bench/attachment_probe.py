"""Benchmark: what checking that each attachment file can be opened costs.

    python bench/attachment_probe.py                  # 20,000 files in 200 folders
    python bench/attachment_probe.py --files 100000

The audit and the load open every attachment file once (open, close, nothing read) so
that a file the account may not read is a finding with its reason instead of a failed
upload. This times the index walk, the refs without the probe and the probe alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors import attachment_files  # noqa: E402
from connectors.attachment_files import FileIndex  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--folders", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for n in range(args.files):
            folder = Path(tmp) / f"{n % args.folders:04d}"
            folder.mkdir(exist_ok=True)
            name = f"{n:08x}.dat"
            (folder / name).write_bytes(b"x" * 512)
            names.append(name)
        real = attachment_files.read_problem
        figures = {}
        for label, probe in (("refs without the probe", lambda _p: ""), ("refs with the probe", real)):
            attachment_files.read_problem = probe
            index = FileIndex(tmp)
            started = time.perf_counter()
            index.find(names[0])
            walk = time.perf_counter() - started
            started = time.perf_counter()
            for name in names:
                index.ref(name, name, "k")
            figures[label] = time.perf_counter() - started
            figures["walk (index build)"] = walk
        attachment_files.read_problem = real
        paths = [os.path.join(tmp, f"{n % args.folders:04d}", name) for n, name in enumerate(names)]
        started = time.perf_counter()
        for path in paths:
            real(path)
        figures["the probe alone"] = time.perf_counter() - started
    print(f"{args.files} files in {args.folders} folders; Python {platform.python_version()}, {os.cpu_count()} CPUs")
    for label, seconds in figures.items():
        print(f"  {label:<24} {seconds:7.3f} s  {seconds / args.files * 1e6:7.1f} us/file")


if __name__ == "__main__":
    main()
