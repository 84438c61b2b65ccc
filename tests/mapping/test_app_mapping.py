"""The Mapping review step in the wizard (Pilot): propose in an App-owned worker, review,
edit, confirm row by row and in bulk, filter, diff, and what blocks progress."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from textual.widgets import DataTable, Input, OptionList, Select, TextArea

from helpmig_tui.app import make_app
from helpmig_tui.mapping import llm as llm_module
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.versions import latest
from helpmig_tui.project import open_project
from helpmig_tui.settings import LlmSettings, Secrets, Settings
from helpmig_tui.state.models import MapChange
from screens.mapping import MappingScreen
from screens.mapping_dialogs import BulkConfirmDialog, DiffDialog, FieldDialog, ObjectDialog
from screens.messages import MappingFinished, MappingProgressed, MappingStarted
from screens.overview import OverviewScreen


def _app(paths, settings=None):
    return make_app(paths=paths, settings=settings or Settings(), secrets=Secrets(env={}, use_keyring=False))


async def _open_mapping(pilot) -> MappingScreen:
    await pilot.press("enter")  # the only project
    assert isinstance(pilot.app.screen, OverviewScreen)
    steps = pilot.app.screen.query_one("#steps", OptionList)
    steps.highlighted = 2  # Mapping review
    await pilot.press("enter")
    assert isinstance(pilot.app.screen, MappingScreen)
    return pilot.app.screen


def _status(screen) -> str:
    return str(screen.query_one("#status").render())


def _go_to(screen, key: str) -> None:
    table = screen.query_one("#rows", DataTable)
    table.move_cursor(row=table.get_row_index(key))


async def test_propose_review_edit_and_confirm_in_the_wizard(paths, audited):
    messages = []
    app = _app(paths)
    async with app.run_test(size=(140, 44), message_hook=messages.append) as pilot:
        screen = await _open_mapping(pilot)
        assert screen.query_one("#rows", DataTable).row_count == 0
        assert "No map yet. Press p" in _status(screen)

        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        stages = [type(m) for m in messages if isinstance(m, (MappingStarted, MappingProgressed, MappingFinished))]
        assert stages[0] is MappingStarted and stages[-1] is MappingFinished and MappingProgressed in stages
        table = screen.query_one("#rows", DataTable)
        assert table.row_count == 8 + 18
        assert ("Blocking the load: 8 objects and 18 fields unconfirmed; notes: part.created_at not mapped"
                in _status(screen))

        # confidence by colour, reason and samples in the detail
        _go_to(screen, "customers.cf_notes")
        await pilot.pause()
        row = table.get_row("customers.cf_notes")
        assert row[2].style == "yellow" and str(row[2]) == "0.75"  # confidence beside the target: never scrolled off
        assert str(row[5]) == "x" * 27 + "…"  # the samples, cut to the column
        assert str(table.get_row("customers.email")[5]) == "ann@acme.com, ANN@acme.com …"  # its trailing space kept
        detail = str(screen.query_one("#detail").render())
        assert "long text: kept as a note line" in detail and "Samples: xxxx" in detail

        # edit a field: an attribute, cut at 255, then confirm just that row
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, FieldDialog)
        dialog.query_one("#type", Select).value = "attribute"
        dialog.query_one("#name", Input).value = "st notes!"
        dialog.query_one("#transforms", TextArea).text = '{"op": "truncate", "max_length": 255}'
        await pilot.press("ctrl+s")
        assert app.screen is dialog and "attribute name 'st notes!'" in str(dialog.query_one("#error").render())
        dialog.query_one("#name", Input).value = "st_notes"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        row = table.get_row("customers.cf_notes")
        assert str(row[1]) == "attribute st_notes (string)" and str(row[4]) == "truncate 255" and str(row[3]) == "edited"
        await pilot.press("c")
        assert str(table.get_row("customers.cf_notes")[3]) == "confirmed"

        # the notes cannot be loaded (no time): leave the object behind
        _go_to(screen, "notes")
        await pilot.press("e")
        assert isinstance(app.screen, ObjectDialog)
        app.screen.query_one("#target", Select).value = "skip"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "notes.text" not in [str(k.value) for k in table.rows]

        # filters
        await pilot.press("l")
        assert all(r.confidence < 0.7 for r in screen.rows)
        await pilot.press("l", "u")
        assert screen.rows and all(not r.settled for r in screen.rows)
        assert "Showing unconfirmed rows only." in _status(screen)
        await pilot.press("u")

        # bulk confirm over a threshold, then everything
        await pilot.press("b")
        assert isinstance(app.screen, BulkConfirmDialog)
        app.screen.query_one("#threshold", Input).value = "0.95"
        await pilot.press("enter")
        await pilot.pause()
        with open_project(paths, audited) as store:
            left = latest(store).map.unconfirmed()
        assert left and all(r.confidence < 0.95 for r in latest_rows(paths, audited, left))
        await pilot.press("b")
        app.screen.query_one("#threshold", Input).value = "0"
        await pilot.press("enter")
        await pilot.pause()
        assert "Confirmed, hash" in _status(screen)

        # a change after confirmation shows in the diff against the confirmed version
        _go_to(screen, "tickets.subject")
        await pilot.press("s")
        await pilot.press("d")
        assert isinstance(app.screen, DiffDialog)
        changes = app.screen.query_one("#changes", DataTable)
        assert changes.row_count == 1 and str(changes.get_row_at(0)[0]) == "tickets.subject"
        assert str(changes.get_row_at(0)[3]) == "skip"
        await pilot.press("escape")
    with open_project(paths, audited) as store:
        with store.reader() as session:
            actions = [(c.action, c.object, c.field) for c in session.scalars(select(MapChange))]
        assert ("edit", "customers", "cf_notes") in actions and ("skip", "tickets", "subject") in actions
        assert latest(store).map.object_map("notes").target is K.SKIP


def latest_rows(paths, project, keys):
    with open_project(paths, project) as store:
        mmap = latest(store).map
    return [next(r for r in mmap.rows() if r.key == key) for key in keys]


async def test_a_proposal_before_the_audit_says_why_on_the_screen(paths, tmp_path):
    from helpmig_tui.project import create_project

    create_project(paths, "fresh", "smartertrack", {"sqlite": str(tmp_path / "x.db")}).close()
    app = _app(paths)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_mapping(pilot)
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "The proposal failed: the source has not been audited yet" in _status(screen)
        assert not screen.running
        await pilot.press("L")  # the LLM is off by default
        assert not any(w.name.startswith("mapping:") and w.is_running for w in app.workers)


async def test_leaving_the_screen_does_not_stop_the_proposer(paths, audited):
    app = _app(paths)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_mapping(pilot)
        await pilot.press("p", "escape", "escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
    with open_project(paths, audited) as store:
        assert latest(store).version == 1


async def test_the_llm_proposal_runs_from_the_wizard_when_enabled(paths, audited, monkeypatch):
    def refused(request):
        raise httpx.ConnectError("connection refused")

    real_init = llm_module.LlmProposer.__init__
    monkeypatch.setattr(llm_module.LlmProposer, "__init__", lambda self, settings, api_key=None, transport=None:
                        real_init(self, settings, api_key, transport=httpx.MockTransport(refused)))
    settings = Settings(llm=LlmSettings(enabled=True, base_url="http://llm.local/v1", timeout_s=2))
    app = _app(paths, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_mapping(pilot)
        assert "L to ask the LLM as well" in _status(screen)
        await pilot.press("L")
        await app.workers.wait_for_complete()
        await pilot.pause()
    with open_project(paths, audited) as store:
        version = latest(store)
    assert version.map.proposer == "llm"
    reasons = [fm.reason for fm in version.map.fields]
    assert sum(r.startswith("LLM failed (cannot reach http://llm.local/v1: ConnectError)") for r in reasons) >= 1
    assert version.map.field_map("tickets", "subject").reason.startswith("LLM not asked (it failed on ")
