"""The product's safety rule, per source: a part whose visibility flag cannot be read is loaded
as an internal note, never as a reply the customer sees, and the audit counts such parts.

Each source is the real connector over its sample, with a few parts' flags spoiled the way
the source would spoil them (an unknown code, a NULL, a value in a mis-decoded export);
the map is the one the proposer builds for it.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.base import ObjectRole, Source
from connectors.samples.infraon_fake import FakeInfraon
from connectors.samples.itsm365_fake import FakeItsm365
from connectors.samples.smart_export_sample import write_smart_export
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.apply import VISIBILITY_FLAG, apply_map
from helpmig_tui.mapping.evidence import evidence_from_schema
from helpmig_tui.mapping.propose import propose_map
from tests.support.findings import by_code

SPOILED = ("7", "Äà", None)  # an unknown code, a mis-decoded "Да", nothing at all


def _smartertrack(tmp_path: Path) -> tuple[Source, str, set[str]]:
    from connectors.samples import generate_smartertrack
    from connectors.smartertrack import SmarterTrackSource

    manifest = generate_smartertrack(tmp_path / "st", tickets=30, seed=5)
    with sqlite3.connect(manifest.options["sqlite"]) as db:
        ids = [str(r[0]) for r in db.execute("SELECT TicketMessageId FROM st_TicketMessages ORDER BY 1 LIMIT 3")]
        for mid, value in zip(ids, (7, "?", None), strict=True):
            db.execute("UPDATE st_TicketMessages SET MessageDirection = ? WHERE TicketMessageId = ?", (value, mid))
    return SmarterTrackSource.from_options(manifest.options, lambda _n: None), "messages", set(ids)


def _trackit(tmp_path: Path) -> tuple[Source, str, set[str]]:
    from connectors.samples import generate_trackit
    from connectors.trackit import TrackItSource

    manifest = generate_trackit(tmp_path / "ti", tickets=30, seed=9)
    with sqlite3.connect(manifest.options["sqlite"]) as db:
        ids = [str(r[0]) for r in db.execute("SELECT TaskNoteId FROM TaskNote ORDER BY 1 LIMIT 3")]
        # a bit column holds nothing but 0, 1 or NULL: NULL is how it spoils
        db.execute(f"UPDATE TaskNote SET IsPrivate = NULL WHERE TaskNoteId IN ({','.join(ids)})")
    return TrackItSource.from_options(manifest.options, lambda _n: None), "notes", set(ids)


def _itsm365(tmp_path: Path) -> tuple[Source, str, set[str]]:
    fake = FakeItsm365(size=30, seed=3)
    comments = fake.objects["comment"][:3]
    for comment, value in zip(comments, SPOILED, strict=True):
        comment["private"] = value
    return fake.source(), "incident_comments", {c["UUID"] for c in comments}


def _infraon(tmp_path: Path) -> tuple[Source, str, set[str]]:
    fake = FakeInfraon(size=30, seed=3)
    parts = [p for thread in fake.parts["conversations"].values() for p in thread][:3]
    for part, value in zip(parts, SPOILED, strict=True):
        part["is_private"] = value
    return fake.source(), "conversations", {p["id"] for p in parts}


def _smart(tmp_path: Path) -> tuple[Source, str, set[str]]:
    from connectors.smart_export import SmartExportSource

    folder = tmp_path / "export"
    write_smart_export(folder, size=40, seed=5, messy=False)
    path = folder / "comments.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("is_private")
    for row, value in zip(rows[1:4], SPOILED, strict=True):
        row[column] = value or ""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return SmartExportSource.from_options({"folder": str(folder)}, lambda _n: None), "comments", {r[0] for r in rows[1:4]}


@pytest.mark.parametrize("build", [_smartertrack, _trackit, _itsm365, _infraon, _smart],
                         ids=["smartertrack", "trackit", "itsm365", "infraon", "smart-export"])
def test_an_unreadable_visibility_flag_makes_an_internal_note(tmp_path, build: Callable):
    source, obj, spoiled = build(tmp_path)
    with source:
        schema = source.describe()
        assert schema.object(obj).role is ObjectRole.PART
        audit = run_audit(source)
        counted = [f for f in by_code(audit, "part.visibility_unreadable") if f.object == obj]
        assert len(counted) == 1 and counted[0].count == len(spoiled) and set(counted[0].keys) == spoiled
        mmap = propose_map(evidence_from_schema(schema, {o.spec.name: o.profile for o in audit.objects}))
        directions: dict[str, str | None] = {}
        for batch in source.iter_records(obj):
            for record in batch:
                mapped = apply_map(mmap, obj, record)
                directions[record.key] = mapped.standard.get("direction")
                flagged = [f for f in mapped.flags if f.code == VISIBILITY_FLAG]
                assert bool(flagged) == (record.key in spoiled), record.key
    assert spoiled <= set(directions)
    assert all(directions[key] == "note" for key in spoiled)
    # the rule only touches what it must: readable flags still make replies
    assert any(d != "note" for key, d in directions.items() if key not in spoiled)
