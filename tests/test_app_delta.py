"""The Delta screen: every delta phase has a row (deletions included), and the operator's
choice for records gone from the source reaches the run's options; the Rollback screen's
choice to take objects changed after the import too."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Checkbox, Input, Select

from screens.rollback import RollbackScreen
from screens.run import PhaseRow, RunScreen
from screens.run_messages import RollbackRequested, RunRequested


class _Host(App[None]):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.requested: list[RunRequested] = []

    def on_mount(self) -> None:
        self.push_screen(RunScreen("demo", self.kind))

    def on_run_requested(self, message: RunRequested) -> None:
        self.requested.append(message)


async def test_the_delta_screen_asks_what_becomes_of_records_gone_from_the_source():
    app = _Host("delta")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert [r.phase for r in screen.query(PhaseRow)][-1] == "deletions"
        await pilot.press("s")
        await pilot.pause()
        assert app.requested[-1].options.gone is None  # by default they are listed and wait
        screen.query_one("#gone", Select).value = "close"
        await pilot.press("s")
        await pilot.pause()
        assert app.requested[-1].kind == "delta" and app.requested[-1].options.gone == "close"


async def test_a_load_screen_has_no_such_choice():
    app = _Host("load")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not app.screen.query("#gone") and "deletions" not in [r.phase for r in app.screen.query(PhaseRow)]
        await pilot.press("s")
        await pilot.pause()
        assert app.requested[-1].options.gone is None


class _RollbackHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.requested: list[RollbackRequested] = []

    def on_mount(self) -> None:
        self.push_screen(RollbackScreen("demo"))

    def on_rollback_requested(self, message: RollbackRequested) -> None:
        self.requested.append(message)


async def test_the_rollback_screen_can_take_what_was_changed_after_the_import():
    app = _RollbackHost()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.requested[-1].dry_run and not app.requested[-1].include_changed
        app.screen.query_one("#include-changed", Checkbox).value = True
        await pilot.pause()
        assert app.requested[-1].dry_run and app.requested[-1].include_changed  # counted again with them
        app.screen.query_one("#confirm", Input).value = "demo"
        await pilot.pause()
        await pilot.click("#go")
        await pilot.pause()
        go = app.requested[-1]
        assert not go.dry_run and go.include_changed and go.sample_only
