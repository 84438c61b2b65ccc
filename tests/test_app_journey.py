"""The whole journey in the wizard, driven by keys on the demo (Pilot): picker, audit,
mapping confirmation, plan, sample run with its validation and rollback, load,
validation, rollback (a load quit and resumed: test_demo_resume.py)."""

from __future__ import annotations

from textual.widgets import DataTable, Input, RadioButton

from helpmig_tui.demo import prepare_demo
from helpmig_tui.mapping.versions import latest
from helpmig_tui.project import open_project, project_status
from screens.audit import AuditScreen
from screens.confirm import ConfirmDialog
from screens.mapping import MappingScreen
from screens.messages import AuditFinished
from screens.overview import OverviewScreen
from screens.plan import PlanScreen
from screens.reports import ReportsScreen
from screens.rollback import RollbackScreen
from screens.run import RunScreen
from screens.run_messages import (
    PhaseReported,
    PlanReady,
    RollbackFinished,
    RunFinished,
    RunProgressed,
    RunStarted,
    ValidationFinished,
)
from screens.validate import ValidateScreen
from screens.welcome import WelcomeScreen
from tests.support.wizard import open_step, settle, wizard


def kinds(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


async def test_walk_the_whole_journey(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 15, confirm_map=False)
    messages: list = []
    app = wizard(paths, demo)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)  # the demo opens its project
        await pilot.press("escape")
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("enter")  # open it again from the picker
        assert isinstance(app.screen, OverviewScreen)

        screen = await open_step(pilot, "audit")
        assert isinstance(screen, AuditScreen)
        await pilot.press("a")
        await settle(pilot)
        assert kinds(messages, AuditFinished)[-1].error is None
        await pilot.press("k")  # acknowledge the first blocker again (the audit carried decisions over)

        screen = await open_step(pilot, "mapping")
        assert isinstance(screen, MappingScreen)
        await pilot.pause()
        await pilot.press("b")  # bulk confirm ...
        app.screen.query_one("#threshold", Input).value = "0"
        await pilot.press("enter")  # ... every proposal
        await settle(pilot)
        with open_project(paths, demo.project) as store:
            assert latest(store).map.unconfirmed() == []

        screen = await open_step(pilot, "plan")
        assert isinstance(screen, PlanScreen)
        await settle(pilot)
        ready = kinds(messages, PlanReady)[-1]
        assert ready.error is None and ready.plan.calls > 0 and ready.plan.queue == []

        screen = await open_step(pilot, "sample")
        assert isinstance(screen, RunScreen) and screen.kind == "sample"
        await pilot.press("e")  # the sample's settings
        await pilot.pause()
        app.screen.query_one("#sample-size", Input).value = "3"
        app.screen.query_one("#test-contact", Input).value = "qa@localhost"  # no domain: every write would fail
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not screen and "an email address" in str(app.screen.query_one("#error").render())
        app.screen.query_one("#test-contact", Input).value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.sample_size == 3
        await pilot.press("s")
        await settle(pilot)
        finished = kinds(messages, RunFinished)[-1]
        assert finished.kind == "sample" and finished.error is None and finished.result.status == "done"
        await pilot.press("v")
        await settle(pilot)
        assert kinds(messages, ValidationFinished)[-1].result.passed
        await pilot.press("b")  # asks first, with what it would remove
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and "conversation" in str(app.screen.query_one("#what").render())
        assert not [m for m in kinds(messages, RollbackFinished) if m.report is not None]
        await pilot.press("y")
        await settle(pilot)
        assert sum(kinds(messages, RollbackFinished)[-1].report.removed.values()) > 0

        screen = await open_step(pilot, "load")
        await pilot.press("s")
        await settle(pilot)
        finished = kinds(messages, RunFinished)[-1]
        assert finished.kind == "load" and finished.result.status == "done"
        assert len([m for m in kinds(messages, PhaseReported) if m.report.run_id == finished.result.reports[0].run_id]) == 8
        assert kinds(messages, RunProgressed) and kinds(messages, RunStarted)
        with open_project(paths, demo.project) as store:
            assert project_status(store).stage == "loaded"

        screen = await open_step(pilot, "validate")
        assert isinstance(screen, ValidateScreen)
        await pilot.press("v")
        await settle(pilot)
        assert kinds(messages, ValidationFinished)[-1].result.passed

        conversations = demo.sandbox.state.counts()["conversations"]
        assert conversations > 0
        screen = await open_step(pilot, "rollback")
        assert isinstance(screen, RollbackScreen)
        screen.query_one("#all", RadioButton).value = True
        await settle(pilot)
        assert kinds(messages, RollbackFinished)[-1].planned["conversation"] > 0
        screen.query_one("#confirm", Input).value = demo.project
        await pilot.pause()
        await pilot.click("#go")
        await settle(pilot)
        assert demo.sandbox.state.counts()["conversations"] == 0
        assert "removed" in str(screen.query_one("#status").render())

        # Reports: the summary first, then what the runs above left behind
        screen = await open_step(pilot, "reports")
        assert isinstance(screen, ReportsScreen)
        await settle(pilot)
        files = screen.query_one("#files", DataTable)
        rows = [(str(files.get_row_at(i)[0]), str(files.get_row_at(i)[1])) for i in range(files.row_count)]
        assert rows[0] == ("summary.md", "summary")
        listed = dict(rows)
        for what, kind in (("validation", "validation"), ("rollback", "rollback")):
            sample = [n for n in listed if n.startswith(f"{what}-sample-")]
            full = [n for n in listed if n.startswith(f"{what}-") and n not in sample]
            assert len(sample) == len(full) == 1 and {listed[sample[0]], listed[full[0]]} == {kind}, rows
        assert [n for n, k in rows if k == "phase"], rows
    folder = paths.reports_dir(demo.project)
    rollback = (folder / next(n for n in listed if n.startswith("rollback-") and "sample" not in n)).read_text()
    assert "# Rollback of everything the project created" in rollback and "| conversation |" in rollback
    validation = (folder / next(n for n in listed if n.startswith("validation-") and "sample" not in n)).read_text()
    assert "# Validation of the load" in validation
