"""Driving the wizard with Pilot: the App on a project home (and a demo), waiting for what
it started, opening a step from the overview. No sleeps: `settle` waits for the App's
workers and for the messages they posted, which may start more workers."""

from __future__ import annotations

from helpmig_tui.app import make_app
from helpmig_tui.settings import Secrets, Settings
from screens.overview import STEPS, OverviewScreen


def wizard(paths, demo=None):
    """The App as `helpmig` (or `helpmig demo`) starts it, with no token and no keyring."""
    return make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False), demo=demo)


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_step(pilot, step: str):
    """Back to the overview, then open `step` by keys; the screen it opened, settled."""
    from textual.widgets import OptionList

    while not isinstance(pilot.app.screen, OverviewScreen):
        await pilot.press("escape")
    steps = pilot.app.screen.query_one("#steps", OptionList)
    steps.focus()
    steps.highlighted = [s for s, _ in STEPS].index(step)
    await pilot.press("enter")
    await settle(pilot)
    return pilot.app.screen
