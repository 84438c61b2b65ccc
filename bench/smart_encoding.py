"""How long deciding a SMART export's encoding takes, and how much memory, on large files.

Writes a Russian tickets export of N rows in each encoding (cp1251, UTF-8 without BOM,
UTF-8 with BOM, UTF-16), then, each in a fresh child process so its peak resident memory
is its own, decides the encoding of the whole file (encoding.py) and stages it through
the connector (reading every row). Prints one Markdown table.

    python bench/smart_encoding.py                 # 100k and 500k rows
    python bench/smart_encoding.py --rows 20000    # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENCODINGS = ("cp1251", "utf-8", "utf-8-sig", "utf-16")


def write(folder: Path, rows: int, encoding: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["ticket_id;subject;description;status;requester_email;created_at"]
    for n in range(rows):
        lines.append(f'T-{n};Новый ноутбук {n} не включается;"Шаги:\n1. Включить питание\n2. Нажать «Пуск», ждать {n % 60} с";'
                     f"Открыта;user{n % 500}@client.example;{1 + n % 28:02d}.03.2024 10:{n % 60:02d}")
    text = "\r\n".join(lines) + "\r\n"
    payload = b"\xff\xfe" + text.encode("utf-16-le") if encoding == "utf-16" else text.encode(encoding)
    (folder / "tickets.csv").write_bytes(payload)
    return folder / "tickets.csv"


def measure(path: str) -> dict:
    from connectors.smart_export import SmartExportSource
    from connectors.smart_export.encoding import decide_encoding

    started = time.perf_counter()
    decision = decide_encoding(Path(path))
    decided = time.perf_counter() - started
    started = time.perf_counter()
    with SmartExportSource(Path(path).parent) as source:
        records = source.describe().object("tickets").count
    staged = time.perf_counter() - started
    return {"encoding": decision.encoding, "decide_s": decided, "stage_s": staged, "records": records,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2])))
        return
    if len(sys.argv) == 5 and sys.argv[1] == "--write":
        print(write(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 500_000])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("| rows | written as | file size | decided as | decide time | stage time (every row) | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            for encoding in ENCODINGS:
                # written by a child too: Linux keeps a process's peak RSS across exec, so a parent that
                # held the file's text would lend its peak to the measuring child
                written = subprocess.run([sys.executable, __file__, "--write", str(Path(tmp) / f"{rows}-{encoding}"),
                                          str(rows), encoding], check=True, capture_output=True, text=True)
                path = Path(written.stdout.strip())
                out = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True, capture_output=True,
                                     text=True)
                got = json.loads(out.stdout)
                assert got["records"] == rows, got
                print(f"| {rows:,} | {encoding} | {path.stat().st_size / 1e6:.0f} MB | {got['encoding']} | "
                      f"{got['decide_s']:.1f} s | {got['stage_s']:.1f} s | {got['rss_mb']:.0f} MB |")
                path.unlink()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
