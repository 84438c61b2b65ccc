"""Start-up of the command line: `helpmig --version`, `--help` and `status P`, wall clock
of fresh processes (the minimum and the median of N runs), and where the import time of
`status` goes (`python -X importtime`, the top-level modules by cumulative time).

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True)
        took.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{argv} failed: {done.stderr.decode(errors='replace')}")
    return min(took), statistics.median(took)


def import_profile(argv: list[str], env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    """The slowest imports `argv` makes, two levels deep, by cumulative milliseconds."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env, capture_output=True, text=True)
    found = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        depth = (len(parts[2]) - len(parts[2].lstrip()) - 1) // 2
        if depth <= 1:
            found.append(("  " * depth + parts[2].strip(), int(parts[1]) / 1000))
    return sorted(found, key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="helpmig-startup-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HELPMIG_HOME": str(home)}
    helpmig = [sys.executable, "-m", "helpmig_tui"]
    try:
        subprocess.run([*helpmig, "init", "p", "--source", "smart-export", "--folder", str(home)], env=env,
                       check=True, capture_output=True)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print(f"{'command':<28} {'min':>8} {'median':>8}")
        for label, argv in (("python -c pass", [sys.executable, "-c", "pass"]),
                            ("helpmig --version", [*helpmig, "--version"]),
                            ("helpmig --help", [*helpmig, "--help"]),
                            ("helpmig status p", [*helpmig, "status", "p"])):
            low, middle = timed(argv, args.runs, env)
            print(f"{label:<28} {low * 1000:>6.0f}ms {middle * 1000:>6.0f}ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        for label, argv in (("--version", ["-m", "helpmig_tui", "--version"]),
                            ("status p", ["-m", "helpmig_tui", "status", "p"])):
            print(f"\nslowest imports of `helpmig {label}` (cumulative):")
            for name, ms in import_profile(argv, env):
                print(f"  {name:<40} {ms:>7.1f} ms")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
