"""Every step at 80x24 (Pilot, on the demo): the footer's keys are whole and F1 and quit
are among them, every key a screen offers is in F1 and works wherever the focus is,
dialogs show their buttons, finished steps are marked and the cursor stays where it was,
and the Delta step says what it found."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import Button, Input, Markdown, OptionList
from textual.widgets._footer import FooterKey

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.settings import resolve_paths
from screens.audit import NoteDialog
from screens.confirm import ConfirmDialog
from screens.help import HelpScreen, step_keys
from screens.new_project import NewProjectScreen
from screens.overview import STEPS
from screens.plan import AdminPicker, ContactDialog
from screens.run import RunScreen, SampleDialog
from screens.run_messages import RunFinished, ValidationFinished
from screens.validate import ValidateScreen
from tests.support.wizard import open_step, settle, wizard


SIZE = (80, 24)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A demo project with its map confirmed and everything loaded."""
    import asyncio

    paths = resolve_paths(tmp_path_factory.mktemp("home"))
    demo = prepare_demo(paths, "smartertrack", 12)

    async def load() -> None:
        async with demo.session() as session:
            assert (await session.load(LoadOptions(accept_gates=True))).status == "done"

    asyncio.run(load())
    return paths, demo


def footer_problems(app) -> list[str]:
    """Footer keys cut off at the right edge, or F1 and quit missing."""
    keys = list(app.screen.query(FooterKey))
    width = app.screen.size.width
    cut = [f"{k.key_display} {k.description}" for k in keys if k.region.right > width or not k.region.width]
    shown = {k.description for k in keys}
    missing = [d for d in ("Keys", "Quit") if d not in shown]
    return cut + [f"{d} missing" for d in missing]


def inside(app, widget) -> bool:
    screen = app.screen.region
    return widget.region.width > 0 and screen.contains_region(widget.region)


async def fits_at_both_sizes(pilot, where: str) -> None:
    """The footer checked at the size the terminal has, then at the other of 80x24 and
    100x30 (the terminal resized under the open screen, its layout redone at that size)."""
    first = (pilot.app.size.width, pilot.app.size.height)
    assert footer_problems(pilot.app) == [], (where, first)
    other = (100, 30) if first == (80, 24) else (80, 24)
    await pilot.resize_terminal(*other)
    await settle(pilot)
    assert (pilot.app.screen.size.width, pilot.app.screen.size.height) == other
    assert footer_problems(pilot.app) == [], (where, other)


async def test_every_step_footer_fits_with_keys_and_quit(loaded):
    """One App walks every screen at both sizes: each screen opened at one, then resized to
    the other (which size a step opens at alternates)."""
    paths, demo = loaded
    async with wizard(paths, demo).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await fits_at_both_sizes(pilot, "overview")
        await pilot.press("escape")
        await settle(pilot)
        await fits_at_both_sizes(pilot, "picker")
        await pilot.press("enter")
        for step, _ in STEPS:
            screen = await open_step(pilot, step)
            await fits_at_both_sizes(pilot, step)
            shown = {k.description for k in screen.query(FooterKey)}
            described = {b.description for b, _ in step_keys(screen)}
            assert shown - {"Keys", "Quit", "Back", "Projects"} <= described, step  # every footer key is in F1
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(pilot.app.screen, HelpScreen)
            table = pilot.app.screen.query_one(Markdown).source
            assert all(f"| {text} |" in table for _, text in step_keys(screen)), step
            await pilot.press("escape")


async def test_dialogs_show_their_buttons_at_80x24(loaded):
    paths, demo = loaded
    async with wizard(paths, demo).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(pilot.app.screen, NewProjectScreen)
        for button in pilot.app.screen.query(Button):
            assert inside(pilot.app, button), button.id
        await pilot.press("escape")
        await pilot.press("enter")
        await settle(pilot)

        dialogs = {"sample": ("e", SampleDialog), "plan": ("c", ContactDialog), "audit": ("w", NoteDialog)}
        for step, (key, kind) in dialogs.items():
            await open_step(pilot, step)
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(pilot.app.screen, kind), step
            for button in pilot.app.screen.query(Button):
                assert inside(pilot.app, button), (step, button.id)
            await pilot.press("escape")
        await open_step(pilot, "plan")
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(pilot.app.screen, AdminPicker)
        options = pilot.app.screen.query_one(OptionList)
        assert inside(pilot.app, options) and options.option_count > 1
        await pilot.press("escape")


async def test_validate_works_by_its_key_with_the_field_focused(loaded):
    paths, demo = loaded
    finished: list[ValidationFinished] = []
    app = wizard(paths, demo)
    async with app.run_test(size=SIZE, message_hook=lambda m: isinstance(m, ValidationFinished) and finished.append(m)) \
            as pilot:
        await settle(pilot)
        screen = await open_step(pilot, "validate")
        assert isinstance(screen, ValidateScreen)
        field = screen.query_one("#sample", Input)
        field.focus()
        await pilot.pause()
        assert "Press v to validate" in str(screen.query_one("#status").render())
        await pilot.press("v")
        await settle(pilot)
        assert field.value == "50" and finished and finished[-1].result.passed
        assert str(screen.query_one("#status").render()).startswith("Passed")
        verdicts = str(screen.query_one("#verdicts").render())
        assert "✓ conversation" in verdicts and "differ" in verdicts
        reports = sorted(p.name for p in paths.reports_dir(demo.project).glob("validation-*.md"))
        assert reports, "the validation report is written"


async def test_the_cursor_stays_on_the_step_and_done_steps_are_marked(loaded):
    paths, demo = loaded
    async with wizard(paths, demo).run_test(size=SIZE) as pilot:
        await settle(pilot)
        steps = pilot.app.screen.query_one("#steps", OptionList)
        prompts = [str(steps.get_option_at_index(i).prompt) for i in range(len(STEPS))]
        done = [label for (step, label), prompt in zip(STEPS, prompts) if prompt.startswith("✓")]
        assert {"Connect", "Audit", "Mapping review", "Plan", "Load"} <= set(done) and "Sample run" not in done
        following = next(i for i, prompt in enumerate(prompts) if not prompt.startswith("✓") and "waits:" not in prompt)
        assert steps.highlighted == following  # the next step to do
        await open_step(pilot, "audit")
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen.query_one("#steps", OptionList).highlighted == 1  # still on Audit


async def test_sample_rollback_asks_first_and_cancel_keeps_the_sample(tmp_path):
    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 8)
    finished: list[RunFinished] = []
    app = wizard(paths, demo)
    async with app.run_test(size=SIZE, message_hook=lambda m: isinstance(m, RunFinished) and finished.append(m)) \
            as pilot:
        await settle(pilot)
        screen = await open_step(pilot, "sample")
        assert isinstance(screen, RunScreen)
        footer = {k.description for k in screen.query(FooterKey)}
        assert "Roll back" not in footer and "Validate" not in footer  # offered once the sample is in
        await pilot.press("s")
        await settle(pilot)
        assert finished[-1].result.status == "done"
        assert "v validates the sample, b rolls it back" in str(screen.query_one("#status").render())
        footer = {k.description for k in screen.query(FooterKey)}
        assert {"Validate", "Roll back"} <= footer
        before = demo.sandbox.state.counts()["conversations"]
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and demo.sandbox.state.counts()["conversations"] == before > 0


async def test_delta_says_what_it_found(loaded):
    paths, demo = loaded
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        ticket, when = conn.execute("SELECT TicketId, MAX(DateReceivedUtc) FROM st_TicketMessages GROUP BY TicketId "
                                    "ORDER BY TicketId LIMIT 1").fetchone()
        conn.execute("INSERT INTO st_TicketMessages (TicketMessageId, TicketId, DateReceivedUtc, BodyText, BodyHtml, "
                     "MessageDirection, IsDraft) VALUES (999002, ?, ?, 'After the load', '<p>After the load</p>', 0, 0)",
                     (ticket, when))
        conn.execute("UPDATE st_Users SET DisplayName = 'Renamed In Delta' WHERE UserId = "
                     "(SELECT MIN(UserIdCustomer) FROM st_Tickets WHERE UserIdCustomer IS NOT NULL)")
    conn.close()
    parts = demo.sandbox.state.counts()["parts"]
    async with wizard(paths, demo).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_step(pilot, "delta")
        await pilot.press("s")
        await settle(pilot)
        status = str(screen.query_one("#status").render())
        assert demo.sandbox.state.counts()["parts"] == parts + 1
        assert status.startswith("Delta done: 0 created, ") and ", 1 messages appended, " in status, status
        assert " 0 updated" not in status and "unchanged; run it again until it finds nothing new" in status
        await pilot.press("s")
        await settle(pilot)
        status = str(screen.query_one("#status").render())
        assert status.startswith("Delta done: nothing new: ") and "nothing is left to carry over" in status, status
