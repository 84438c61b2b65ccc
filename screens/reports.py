"""The Reports step: the project's reports, viewed in the app, and the folder opened."""

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
from textual.widgets import DataTable, Footer, Header, MarkdownViewer, Static

PREVIEW_ROWS = 200
VIEWABLE = {".md", ".csv", ".txt", ".json"}


class OpenFolderRequested(Message):
    """Ask the App to open a folder in the operator's file manager."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder


def report_files(folder: Path) -> list[Path]:
    """The reports, newest first."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIEWABLE]
    return sorted(files, key=lambda p: (-p.stat().st_mtime, p.name))


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class ReportsScreen(Screen[None]):
    BINDINGS = [
        Binding("o", "open_folder", "Open folder"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, folder: Path, project: str) -> None:
        super().__init__()
        self.folder = folder
        self.project = project
        self.files: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Reports: {self.project}", classes="title")
        yield Static(f"In {self.folder}. Press [b]o[/b] to open the folder.", classes="intro")
        with Horizontal():
            yield DataTable(id="files", cursor_type="row", zebra_stripes=True)
            yield MarkdownViewer("", id="markdown", show_table_of_contents=False)
            yield DataTable(id="csv", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#files", DataTable).add_columns("Report", "Size", "Written")
        self.action_refresh()
        self.query_one("#files", DataTable).focus()

    def action_refresh(self) -> None:
        table = self.query_one("#files", DataTable)
        table.clear()
        self.files = report_files(self.folder)
        for path in self.files:
            stat = path.stat()
            written = datetime.fromtimestamp(stat.st_mtime).strftime("%Y-%m-%d %H:%M")
            table.add_row(path.relative_to(self.folder).as_posix(), _size(stat.st_size), written)
        if not self.files:
            self._show_markdown("No reports yet. The audit writes the scope document; each phase of the load "
                                "writes its reconciliation.")
        else:
            self.show(self.files[0])

    @on(DataTable.RowHighlighted, "#files")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.files):
            self.show(self.files[event.cursor_row])

    def show(self, path: Path) -> None:
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
