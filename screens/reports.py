"""The Reports step: writes the project's summary (where every record went), then lists
it first and every other report (validation, rollback, each phase's reconciliation, the
audit's scope), viewed in the app; `o` opens the folder."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, MarkdownViewer, Static

from helpmig_tui.pipeline.summary import write_summary
from helpmig_tui.project import open_project
from helpmig_tui.settings import Paths
from screens.help import footer

PREVIEW_ROWS = 200
VIEWABLE = {".md", ".csv", ".txt", ".json"}


class OpenFolderRequested(Message):
    """Ask the App to open a folder in the operator's file manager."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder


KINDS = (("summary", "summary"), ("validation", "validation"), ("rollback", "rollback"), ("run-", "phase"),
         ("scope", "audit"), ("findings", "audit"), ("supplementary/", "rebuild"))


def report_kind(name: str) -> str:
    return next((kind for prefix, kind in KINDS if name.startswith(prefix)), "")


def written(path: Path) -> str:
    """When a report was written, in local time to the minute."""
    return datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def report_files(folder: Path) -> list[Path]:
    """The reports: the summary first, then the newest first."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIEWABLE]
    return sorted(files, key=lambda p: (p.name != "summary.md", -p.stat().st_mtime, p.name))


class ReportsScreen(Screen[None]):
    BINDINGS = [
        Binding("o", "open_folder", "Open folder", tooltip="Open the reports folder in the file manager"),
        Binding("r", "refresh", "Refresh", tooltip="Write the summary again and list the reports"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, paths: Paths, project: str) -> None:
        super().__init__()
        self.paths = paths
        self.folder = paths.reports_dir(project)
        self.project = project
        self.files: list[Path] = []
        self.showing: Path | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Reports: {self.project}", classes="title")
        yield Static("", id="status", classes="intro")
        with Horizontal(id="reports"):
            yield DataTable(id="files", cursor_type="row", zebra_stripes=True)
            yield MarkdownViewer("", id="markdown", show_table_of_contents=False)
            yield DataTable(id="csv", zebra_stripes=True)
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#files", DataTable).add_columns("Report", "Kind", "Written")
        self.action_refresh()
        self.query_one("#files", DataTable).focus()

    def action_refresh(self) -> None:
        """Write the summary from the project as it stands, then list every report."""
        with open_project(self.paths, self.project) as store:
            summary, _ = write_summary(store, self.folder)
        table = self.query_one("#files", DataTable)
        table.clear()
        self.files = report_files(self.folder)
        for path in self.files:
            name = path.relative_to(self.folder).as_posix()
            table.add_row(name, report_kind(name), written(path))
        kinds = [report_kind(p.relative_to(self.folder).as_posix()) for p in self.files]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in ("validation", "rollback", "phase", "audit")
                           if kinds.count(k))
        self.query_one("#status", Static).update(
            f"Summary written ({summary.name}); {len(self.files)} reports{': ' + counts if counts else ''}. "
            f"In {self.folder}; o opens it.")
        if not self.files:
            self.showing = None
            self._show_markdown("No reports yet. The audit writes the scope document; each phase of the load "
                                "writes its reconciliation.")
        else:
            self.show(self.files[0])

    @on(DataTable.RowHighlighted, "#files")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # filling the list highlights its first row, which refresh has just shown: a report
        # is hundreds of widgets, so it is not built twice
        if 0 <= event.cursor_row < len(self.files) and self.files[event.cursor_row] != self.showing:
            self.show(self.files[event.cursor_row])

    def show(self, path: Path) -> None:
        self.showing = path
        if path.suffix.lower() == ".csv":
            self._show_csv(path)
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            self._show_markdown(text if path.suffix.lower() == ".md" else f"```\n{text}\n```")

    def _show_markdown(self, text: str) -> None:
        self.query_one("#csv", DataTable).display = False
        viewer = self.query_one("#markdown", MarkdownViewer)
        viewer.display = True
        viewer.document.update(text)

    def _show_csv(self, path: Path) -> None:
        self.query_one("#markdown", MarkdownViewer).display = False
        table = self.query_one("#csv", DataTable)
        table.display = True
        table.clear(columns=True)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            table.add_columns(*header)
            for i, row in enumerate(reader):
                if i >= PREVIEW_ROWS:
                    break
                table.add_row(*(row + [""] * (len(header) - len(row)))[: len(header)])

    def action_open_folder(self) -> None:
        self.post_message(OpenFolderRequested(self.folder))
