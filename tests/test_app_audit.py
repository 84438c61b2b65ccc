"""The Audit step in the wizard: run in an App-owned worker, findings, decisions (Pilot)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, OptionList

from connectors import registry
from helpmig_tui.app import make_app
from helpmig_tui.audit_store import findings
from helpmig_tui.project import create_project, open_project
from helpmig_tui.settings import Secrets, Settings
from screens.audit import AuditScreen, NoteDialog
from screens.messages import AuditFinished, AuditProgressed, AuditStarted
from screens.overview import OverviewScreen


@pytest.fixture
def project(paths, tmp_path, monkeypatch):
    monkeypatch.setitem(registry.PLATFORMS, "smartertrack", ("tests.support.handmade", "HandmadeSource", "SmarterTrack"))
    create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "st.db")}).close()
    return "acme"


async def _open_audit(pilot):
    await pilot.press("enter")  # open the only project
    assert isinstance(pilot.app.screen, OverviewScreen)
    assert pilot.app.screen.query_one("#steps", OptionList).highlighted == 0  # Connect, the first step
    await pilot.press("down", "enter")
    assert isinstance(pilot.app.screen, AuditScreen)
    return pilot.app.screen


async def test_run_the_audit_from_the_wizard(paths, project):
    messages = []
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False))
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        screen = await _open_audit(pilot)
        assert screen.query_one("#findings", DataTable).row_count == 0
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        stages = [type(m) for m in messages if isinstance(m, (AuditStarted, AuditProgressed, AuditFinished))]
        assert stages[0] is AuditStarted and stages[-1] is AuditFinished and AuditProgressed in stages
        finished = next(m for m in messages if isinstance(m, AuditFinished))
        assert finished.error is None and finished.audit_id == 1
        assert screen.query_one("#modules", DataTable).row_count == 8
        table = screen.query_one("#findings", DataTable)
        assert table.row_count == len(screen.rows) > 20
        assert screen.rows[0].code == "checklist.smartertrack_backup"
        assert "must be acknowledged or waived" in str(screen.query_one("#status").render())

        await pilot.press("k")  # acknowledge the backup blocker
        await pilot.press("down")
        await pilot.press("w")
        assert isinstance(app.screen, NoteDialog)
        await pilot.press("enter")  # an empty note is refused
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one("#note", Input).value = "checked with the customer"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert "No open blockers" in str(screen.query_one("#status").render())
    with open_project(paths, project) as store:
        rows = findings(store)
    assert rows[0].status == "acknowledged"
    assert rows[1].status == "waived" and rows[1].status_note == "checked with the customer"
    assert (paths.reports_dir(project) / "scope.md").is_file()


async def test_a_failing_source_is_reported_on_the_screen(paths, tmp_path, monkeypatch):
    monkeypatch.setitem(registry.PLATFORMS, "trackit", ("connectors.not_here", "X", "Track-It!"))
    create_project(paths, "ti", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_audit(pilot)
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "The audit failed: the Track-It! connector is not built yet" in str(screen.query_one("#status").render())
        assert not screen.running


async def test_leaving_the_screen_does_not_stop_the_audit(paths, project):
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_audit(pilot)
        await pilot.press("a", "escape", "escape")  # straight back to the picker
        await app.workers.wait_for_complete()
        await pilot.pause()
    with open_project(paths, project) as store:
        assert len(findings(store)) > 20
