"""The Delta screen: every delta phase has a row (deletions included), and the operator's
choice for records gone from the source reaches the run's options."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Select

from screens.run import PhaseRow, RunScreen
from screens.run_messages import RunRequested


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
