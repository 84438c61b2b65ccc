"""The Reports step (it writes the summary and lists every report) and the keys screen (Pilot)."""

from __future__ import annotations

from textual.widgets import DataTable, Markdown, MarkdownViewer

from helpmig_tui import desktop
from helpmig_tui.app import make_app
from helpmig_tui.project import create_project
from helpmig_tui.reports import write_csv, write_text
from helpmig_tui.settings import Secrets, Settings
from screens.help import HelpScreen
from screens.overview import OverviewScreen
from screens.reports import ReportsScreen


def _app(paths):
    return make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False))


async def _open_reports(pilot):
    await pilot.press("enter")
    assert isinstance(pilot.app.screen, OverviewScreen)
    await pilot.press("end", "enter")  # Reports is the last step
    assert isinstance(pilot.app.screen, ReportsScreen)
    return pilot.app.screen


async def test_reports_are_listed_and_shown(paths, tmp_path, monkeypatch):
    create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    reports = paths.reports_dir("p")
    write_csv(reports / "findings.csv", ("severity", "code"), [("warning", "text.nul"), ("info", "attachment.count")])
    write_text(reports / "scope.md", "# Migration scope: p\n\nAll good.\n")
    opened = []
    monkeypatch.setattr(desktop, "open_folder", lambda folder: opened.append(folder) or True)
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        files = screen.query_one("#files", DataTable)
        names = [str(files.get_row_at(i)[0]) for i in range(files.row_count)]
        assert names[0] == "summary.md" and sorted(names[1:]) == ["findings.csv", "scope.md"]
        assert [str(files.get_row_at(i)[1]) for i in range(files.row_count)][0] == "summary"
        screen.show(reports / "findings.csv")
        await pilot.pause()
        table = screen.query_one("#csv", DataTable)
        assert table.display and table.row_count == 2 and str(table.get_row_at(0)[1]) == "text.nul"
        screen.show(reports / "scope.md")
        await pilot.pause()
        viewer = screen.query_one("#markdown", MarkdownViewer)
        assert viewer.display and "Migration scope" in viewer.document.source
        await pilot.press("o")
        assert opened == [reports]


async def test_the_summary_is_written_and_shown_first(paths, tmp_path):
    create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    assert not (paths.reports_dir("p") / "summary.md").exists()
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        screen = await _open_reports(pilot)
        assert (paths.reports_dir("p") / "summary.md").exists()
        assert "Migration summary: p" in screen.query_one("#markdown", MarkdownViewer).document.source
        assert "Summary written" in str(screen.query_one("#status").render())
        await pilot.press("escape")
        steps = pilot.app.screen.query_one("#steps")
        assert steps.highlighted == 9 and str(steps.get_option_at_index(9).prompt).startswith("✓ Reports")


async def test_f1_lists_the_keys_of_the_current_step(paths, tmp_path):
    create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    async with _app(paths).run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        text = pilot.app.screen.query_one(Markdown).source
        assert "Create a new migration project" in text and "ctrl+p" in text
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_f2_switches_theme(paths):
    async with _app(paths).run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme == "textual-dark"
        await pilot.press("f2")
        assert pilot.app.theme == "textual-light"
