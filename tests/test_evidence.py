"""The evidence bundle an auditor reads offline, and the rebuild inventory in summary.md."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import zipfile

import pytest

from helpmig_tui import redact
from helpmig_tui.cli import main
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.prepare import Resolutions
from helpmig_tui.project import open_project
from helpmig_tui.rebuild_inventory import rebuild_items
from helpmig_tui.settings import resolve_paths

SECRET = "sk-live-Zq81kWm0pX4y"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    import asyncio

    paths = resolve_paths(tmp_path_factory.mktemp("evidence") / "home")
    demo = prepare_demo(paths, "itsm365", 12)

    async def load() -> None:
        async with demo.session() as session:
            assert (await session.load(LoadOptions(accept_gates=True))).status == "done"

    asyncio.run(load())
    return paths, demo


def _plant_secrets(paths, project: str) -> None:
    """A secret where a careless writer could have put it: a journal error, an event, a
    report, the project's options, a log line."""
    with sqlite3.connect(paths.state_file(project)) as db:
        db.execute("UPDATE journal SET last_error = ? WHERE id = (SELECT min(id) FROM journal)",
                   (f"401 with token {SECRET}",))
        db.execute("INSERT INTO events (at, level, kind, message, data) VALUES ('2026-01-01T00:00:00+00:00', 'error', "
                   "'note', ?, '{}')", (f"Authorization: Bearer {SECRET}",))
        db.execute("UPDATE project SET source_options = json_set(source_options, '$.password', ?)", (SECRET,))
    (paths.reports_dir(project) / "notes.md").write_text(f"the key was {SECRET} and PWD=hunter22;\n", encoding="utf-8")
    paths.logs.mkdir(parents=True, exist_ok=True)
    (paths.logs / "helpmig-20260101-000000-1.log").write_text(
        f"INFO load of {project} started\nDEBUG header Authorization: Bearer {SECRET}\n", encoding="utf-8")
    (paths.logs / "helpmig-20260101-000000-2.log").write_text("INFO another project entirely\n", encoding="utf-8")


def test_the_bundle_holds_the_evidence_and_no_secret(loaded, tmp_path, monkeypatch):
    paths, demo = loaded
    _plant_secrets(paths, demo.project)
    with open_project(paths, demo.project) as store:  # an operator's decision after the load
        resolutions = Resolutions.load(store)
        resolutions.teams["groups:99"] = "skip"
        resolutions.save(store)
        resolutions.save(store)  # saved again unchanged: no second entry
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", SECRET)
    out = tmp_path / "evidence" / "bundle.zip"
    assert main(["--home", str(paths.home), "report", demo.project, "--bundle", str(out), "--json"]) == 0
    with zipfile.ZipFile(out) as bundle:
        names = bundle.namelist()
        data = {name: bundle.read(name) for name in names}
    # the contents, listed
    assert names[0] == "manifest.json" and "state.sqlite" in names and "timeline.csv" in names
    assert "reports/summary.md" in names and "reports/notes.md" in names and "maps/changes.csv" in names
    assert any(n.startswith("maps/map-v") for n in names)
    assert [n for n in names if n.startswith("logs/")] == ["logs/helpmig-20260101-000000-1.log"]
    assert any(n.startswith("reports/") and n.endswith(".csv") for n in names)  # phase reports, findings
    manifest = json.loads(data["manifest.json"])
    assert manifest["project"] == demo.project
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        n: hashlib.sha256(b).hexdigest() for n, b in data.items() if n != "manifest.json"}
    # no secret anywhere, not even in the SQLite file's free pages
    for name, raw in data.items():
        assert SECRET.encode() not in raw, name
        assert b"hunter22" not in raw, name
    # the state is a working SQLite file with the project's runs and journal, masked
    state = tmp_path / "state.sqlite"
    state.write_bytes(data["state.sqlite"])
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM runs WHERE kind = 'load'").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM journal").fetchone()[0] > 10
        assert redact.MASK in db.execute("SELECT last_error FROM journal ORDER BY id LIMIT 1").fetchone()[0]
    # the map versions say who confirmed them and when
    confirmed = [json.loads(data[n]) for n in names if n.startswith("maps/map-v")]
    assert any(m["status"] == "confirmed" and m["confirmed_by"] and m["confirmed_at"] for m in confirmed)
    # the timeline: every run and phase, the gate decisions, the map's confirmation, in time order
    rows = list(csv.DictReader(io.StringIO(data["timeline.csv"].decode("utf-8-sig"))))
    kinds = {r["kind"] for r in rows}
    assert {"run started", "run ended", "phase started", "map confirmed"} <= kinds
    assert kinds & {"phase ended", "gate decision"}
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    assert [r["detail"] for r in rows if r["kind"] == "operator"][-1:] == ["groups:99 left unmatched on purpose"]
    assert sum(r["detail"] == "groups:99 left unmatched on purpose" for r in rows) == 1
    # the summary carries the rebuild inventory for the platform, with what the audit counted
    summary = data["reports/summary.md"].decode("utf-8")
    assert "## Rebuild inventory" in summary and "Approval chains" in summary
    assert "Agreements (SLA)" in summary


def test_a_secret_that_masking_cannot_reach_refuses_the_bundle(loaded, tmp_path, capsys):
    paths, demo = loaded
    redact.register(SECRET)
    binary = paths.reports_dir(demo.project) / "attachment.bin"
    binary.write_bytes(b"\xff\xfe\x00" + SECRET.encode() + b"\x00\xff")  # not text: copied as it is
    try:
        out = tmp_path / "refused.zip"
        assert main(["--home", str(paths.home), "report", demo.project, "--bundle", str(out)]) == 1
        assert not out.exists() and not list(tmp_path.glob(".evidence-*"))
        err = capsys.readouterr().err
        assert "reports/attachment.bin" in err and SECRET not in err
    finally:
        binary.unlink()


def test_the_rebuild_inventory_lists_every_platform_item_counted_or_not(loaded):
    paths, demo = loaded
    with open_project(paths, demo.project) as store:
        items = rebuild_items(store)
    counted = [i for i in items if i.count is not None]
    assert counted and all(i.rows.startswith("supplementary/") for i in counted)
    assert any("Workflow" in i.what and i.count is None for i in items)  # not countable: still listed
