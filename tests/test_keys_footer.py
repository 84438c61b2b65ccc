"""The footer's keys are rebuilt only when they change, and the one Textual private
attribute it reads (`screens.help.being_removed`) still means what it did."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button

from screens.help import KeysFooter, being_removed, footer


class Step(Screen):
    BINDINGS = [Binding("s", "start", "Start"), Binding("p", "pause", "Pause")]
    paused_allowed = True

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.paused_allowed if action == "pause" else True

    def action_start(self) -> None:
        pass

    def action_pause(self) -> None:
        pass


class OneStep(App):
    def on_mount(self) -> None:
        self.push_screen(Step())


def shown(screen: Screen) -> list:
    """The footer's key widgets, the very objects."""
    return list(screen.query_one(KeysFooter).query("FooterKey"))


async def test_the_keys_are_built_again_only_when_they_change():
    app = OneStep()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        before = shown(screen)
        assert [key.description for key in before] == ["Start", "Pause"]
        screen.refresh_bindings()  # the keys may have changed: they have not
        screen.query_one("#two", Button).focus()  # a focus move: the same keys
        await pilot.pause()
        assert shown(screen) == before  # not removed and mounted again
        screen.paused_allowed = False  # now they change
        screen.refresh_bindings()
        await pilot.pause()
        assert [key.description for key in shown(screen)] == ["Start"]


async def test_textual_still_marks_the_widgets_it_removes():
    app = OneStep()
    async with app.run_test() as pilot:
        await pilot.pause()
        going, staying = app.screen.query_one("#one", Button), app.screen.query_one("#two", Button)
        assert not being_removed(going) and not being_removed(staying)
        removal = going.remove()
        assert being_removed(going) and not being_removed(staying)
        await removal
