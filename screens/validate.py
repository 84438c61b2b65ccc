"""The Validate step: a random sample read back from Intercom and compared field by field."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from screens.run_messages import ValidationRequested


class ValidateScreen(Screen[None]):
    BINDINGS = [Binding("v", "validate", "Validate"), Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, project: str, *, running: bool = False) -> None:
        super().__init__()
        self.project = project
        self.running = running

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Validate: {self.project}", classes="title")
        yield Static("Random records of each kind are read back from Intercom and compared with the source "
                     "through the map. Under 1% of records with a difference, the migration may go on.",
                     classes="intro")
        with Horizontal(classes="form-row"):
            yield Label("Records per kind")
            yield Input("50", id="sample", type="integer")
        yield Static("Running..." if self.running else "Press v to validate.", id="status")
        yield DataTable(id="mismatches", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Kind", "Record", "Field", "Source says", "Intercom has")

    def action_validate(self) -> None:
        size = self.query_one("#sample", Input).value.strip()
        if not size.isdigit() or int(size) < 1:
            self.query_one("#status", Static).update(Text("Records per kind: a whole number, 1 or more.", style="red"))
            return
        self.running = True
        self.query_one("#status", Static).update("Reading back from Intercom...")
        self.post_message(ValidationRequested(self.project, int(size)))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_validate()

    def show_result(self, result, error: str | None) -> None:
        self.running = False
        status = self.query_one("#status", Static)
        if error:
            status.update(Text(f"Validation could not run: {error}", style="red"))
            return
        status.update(Text(result.summary(), style="green" if result.passed else "red"))
        table = self.query_one(DataTable)
        table.clear()
        for m in result.mismatches[:500]:
            table.add_row(m.kind, f"{m.object}:{m.key}", m.field, m.expected[:60], m.actual[:60])
