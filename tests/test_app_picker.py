"""The app shell: the project picker lists, creates and opens projects (Pilot)."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select, Static

from helpmig_tui.app import make_app
from helpmig_tui.project import create_project
from helpmig_tui.settings import Secrets, Settings
from screens.new_project import NewProjectScreen
from screens.overview import OverviewScreen
from screens.welcome import WelcomeScreen


def _app(paths):
    return make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False))


async def _listed(pilot) -> None:
    """The picker draws first and reads the projects just after (its first frame is fast)."""
    for screen in pilot.app.screen_stack:
        if isinstance(screen, WelcomeScreen):
            await screen.listed()
    await pilot.pause()


def _rows(app) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_picker_lists_projects_with_their_stage(paths, tmp_path):
    create_project(paths, "alpha", "smartertrack", {"sqlite": str(tmp_path / "a.db")}).close()
    create_project(paths, "beta", "smart-export", {"folder": str(tmp_path)}).close()
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
        rows = _rows(pilot.app)
        assert [row[:3] for row in rows] == [["alpha", "SmarterTrack", "created"], ["beta", "SMART Service Desk", "created"]]


async def test_empty_picker_explains_what_to_do(paths):
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        empty = pilot.app.screen.query_one("#empty", Static)
        assert empty.display and "Press n" in str(empty.render())
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, WelcomeScreen)


async def test_create_a_project_in_the_dialog_then_open_it(paths, tmp_path):
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        await pilot.press("n")
        dialog = pilot.app.screen
        assert isinstance(dialog, NewProjectScreen)
        await pilot.press(*"gamma")
        dialog.query_one("#platform", Select).value = "smart-export"
        await pilot.pause()
        dialog.query_one("#location", Input).value = str(tmp_path)
        await pilot.click("#create")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OverviewScreen)
        assert pilot.app.screen.status.name == "gamma"
        assert pilot.app.screen.status.source == {"folder": str(tmp_path)}
        await pilot.press("escape")
        assert [row[0] for row in _rows(pilot.app)] == ["gamma"]
    assert paths.state_file("gamma").exists()


async def test_the_dialog_shows_errors_and_keeps_the_input(paths, tmp_path):
    create_project(paths, "taken", "smart-export", {"folder": str(tmp_path)}).close()
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        await pilot.press("n")
        dialog = pilot.app.screen
        await pilot.press(*"taken")
        dialog.query_one("#location", Input).value = str(tmp_path / "st.db")
        await pilot.click("#create")
        await pilot.pause()
        assert pilot.app.screen is dialog
        assert "already exists" in str(dialog.query_one("#error", Static).render())
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, WelcomeScreen)


async def test_open_with_enter_and_go_back(paths, tmp_path):
    create_project(paths, "alpha", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        await pilot.press("enter")
        screen = pilot.app.screen
        assert isinstance(screen, OverviewScreen)
        assert screen.status.source_problem.startswith("source file not found")
        assert pilot.app.sub_title == "alpha"
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, WelcomeScreen)


async def test_a_project_is_read_once_to_open_and_again_back_from_a_step(paths, tmp_path):
    """The overview shows what was read to open it (no second read on its first showing);
    back from a step it reads the project again and shows what changed meanwhile."""
    import sqlite3

    from tests.support.wizard import open_step, settle

    create_project(paths, "alpha", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    app = _app(paths)
    reads: list[str] = []
    real = app._standing
    app._standing = lambda name: (reads.append(name), real(name))[1]
    async with app.run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        await pilot.press("enter")
        await settle(pilot)
        overview = pilot.app.screen
        assert isinstance(overview, OverviewScreen) and reads == ["alpha"]
        assert overview.query_one("#source-problem", Static).display
        await open_step(pilot, "audit")
        sqlite3.connect(tmp_path / "t.db").close()  # the source file appears while a step is open
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is overview and reads == ["alpha", "alpha"]
        assert not overview.status.source_problem and not overview.query_one("#source-problem", Static).display


async def test_a_damaged_project_is_listed_and_not_opened(paths, tmp_path):
    create_project(paths, "broken", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    paths.state_file("broken").write_bytes(b"\0" * 4096)
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        assert _rows(pilot.app)[0][:3] == ["broken", "", "cannot be read"]
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, WelcomeScreen)
        assert any("not a SQLite database" in str(n.message) for n in pilot.app._notifications)


async def _hits_listed(pilot, seconds: float = 30) -> None:
    """Until the palette's search (a worker, polled by Textual) lists a hit: a fixed pause
    raced a loaded machine."""
    from textual.command import CommandList

    for _ in range(int(seconds / 0.05)):
        if pilot.app.screen.query_one(CommandList).option_count:
            return
        await pilot.pause(0.05)
    raise AssertionError("the command palette listed nothing")


async def test_command_palette_opens_a_project(paths, tmp_path):
    create_project(paths, "alpha", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await _listed(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"open project alpha")
        await _hits_listed(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OverviewScreen)


async def test_ctrl_q_quits_cleanly(paths):
    app = _app(paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await pilot.press("ctrl+q")
    assert app.return_code in (0, None)
