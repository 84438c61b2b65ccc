"""The supplementary CSVs (objects with no home in Intercom) are reports like the others:
secrets masked, and a phase that stops half-way leaves the earlier complete file."""

from __future__ import annotations

import csv
from types import SimpleNamespace

from connectors.base import Record
from helpmig_tui import redact
from helpmig_tui.mapping.apply import MappedRecord
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.records import CsvSink

SECRET = "sk-supplementary-5e1f0a9c"


def _row(key: str, **columns: object) -> tuple[MappedRecord, Record]:
    return MappedRecord("assets", key, TargetKind.CSV, key, columns=dict(columns)), Record("assets", key, {})


def _read(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_rows_are_masked_and_a_stopped_write_keeps_the_earlier_file(tmp_path):
    redact.register(SECRET)
    ctx = SimpleNamespace(reports_dir=tmp_path)
    sink = CsvSink(ctx, "assets")
    sink.write(*_row("a1", name="Laptop", note=f"password {SECRET}"))
    sink.write(*_row("a2", name="Printer", note=None, extra="ignored"))
    sink.close()
    rows = _read(tmp_path / "supplementary" / "assets.csv")
    assert rows[0] == ["source_key", "name", "note"] and rows[2] == ["a2", "Printer", ""]
    assert SECRET not in (tmp_path / "supplementary" / "assets.csv").read_text(encoding="utf-8-sig")
    assert rows[1][:2] == ["a1", "Laptop"] and rows[1][2].startswith("password ")

    stopped = CsvSink(ctx, "assets")
    stopped.write(*_row("a1", name="Laptop (changed)", note=""))
    stopped.close(complete=False)  # the phase stopped: the earlier complete file stays, no .part is left
    assert _read(tmp_path / "supplementary" / "assets.csv") == rows
    assert sorted(p.name for p in (tmp_path / "supplementary").iterdir()) == ["assets.csv"]

    empty = CsvSink(ctx, "assets")
    empty.close()  # a run that found no rows says so: not the earlier run's rows
    assert (tmp_path / "supplementary" / "assets.csv").read_bytes() == b""
