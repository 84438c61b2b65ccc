"""Benchmark: the CPU each test costs, as a pytest plugin (not a test).

    PYTHONPATH=$PWD python -m pytest -q -n 2 -p bench.per_test_cpu tests/        # records
    python bench/per_test_cpu.py DIR [DIR_AFTER]                                  # sums, compares

Each pytest process (every xdist worker) writes `cpu-<worker>.tsv` to `$CPU_PER_TEST_DIR`
(default `bench/out/cpu`): per test, the CPU of the process itself and of the child
processes it waited for (`getrusage`), setup and teardown included, and the wall time;
its first line holds the process's totals (start-up and collection included). Given two
folders, the summary compares them file by file.
"""

from __future__ import annotations

import collections
import os
import resource
import sys
import time
from pathlib import Path

import pytest

OUT = Path(os.environ.get("CPU_PER_TEST_DIR", Path(__file__).with_name("out") / "cpu"))
_rows: list[tuple[str, float, float, float]] = []


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    own, children = _cpu()
    start = time.perf_counter()
    yield
    own_after, children_after = _cpu()
    _rows.append((item.nodeid, own_after - own, children_after - children, time.perf_counter() - start))


def pytest_sessionfinish(session: pytest.Session) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    own, children = _cpu()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    lines = [f"#total\t{own:.2f}\t{children:.2f}\t0"] + [f"{n}\t{o:.3f}\t{c:.3f}\t{w:.3f}" for n, o, c, w in _rows]
    (OUT / f"cpu-{worker}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _by_file(folder: Path) -> tuple[dict[str, float], float, float]:
    files: dict[str, float] = collections.defaultdict(float)
    in_tests = processes = 0.0
    for path in folder.glob("cpu-gw*.tsv") if any(folder.glob("cpu-gw*.tsv")) else folder.glob("cpu-*.tsv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            name, own, children, _wall = line.split("\t")
            if name == "#total":
                processes += float(own) + float(children)
                continue
            files[name.split("::")[0]] += float(own) + float(children)
            in_tests += float(own) + float(children)
    return files, in_tests, processes


def main(argv: list[str]) -> None:
    before, in_before, all_before = _by_file(Path(argv[0]))
    if len(argv) == 1:
        for name, cpu in sorted(before.items(), key=lambda kv: -kv[1])[:40]:
            print(f"{cpu:8.1f} s  {name}")
        print(f"in tests {in_before:.1f} s; the workers in all {all_before:.1f} s")
        return
    after, in_after, all_after = _by_file(Path(argv[1]))
    for name in sorted(before, key=lambda n: -before[n])[:40]:
        print(f"{before[name]:8.1f} -> {after.get(name, 0.0):8.1f} s  {name}")
    print(f"in tests {in_before:.1f} -> {in_after:.1f} s; the workers in all {all_before:.1f} -> {all_after:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
