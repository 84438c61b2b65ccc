"""The Validate step: a random sample read back from Intercom and compared field by field,
with the verdict per kind, the count checks (source, journal, Intercom) and what could not
be checked, in words; every difference below, and the report in the reports folder.

`v` works wherever the focus is: the only field takes digits and lets letters through.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label, Static

from helpmig_tui.pipeline.validate import THRESHOLD
from screens.form_rows import NumberInput
from screens.help import footer
from screens.run_messages import ValidationRequested


class ValidateScreen(Screen[None]):
    BINDINGS = [
        Binding("v", "validate", "Validate", priority=True,
                tooltip="Read the sample back from Intercom and compare it with the source"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, project: str, *, running: bool = False) -> None:
        super().__init__()
        self.project = project
        self.running = running

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Validate: {self.project}", classes="title")
        yield Static(f"Random records of each kind are read back from Intercom and compared with the source "
                     f"through the map; under {THRESHOLD:.0%} with a difference per kind passes.", classes="intro")
        with Horizontal(classes="form-row"):
            yield Label("Records per kind")
            yield NumberInput("50", id="sample")
        yield Static("Running..." if self.running else "Press v to validate.", id="status")
        yield Static("", id="verdicts")
        yield DataTable(id="mismatches", zebra_stripes=True)
        yield footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Kind", "Record", "Field", "Source says", "Intercom has")
        self.query_one("#verdicts", Static).display = False

    def action_validate(self) -> None:
        if self.running:
            self.notify("The validation is already running.")
            return
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
        verdict = "Passed" if result.passed else "FAILED"
        status.update(Text(f"{verdict}: {result.total:,} records compared. The report is in the reports folder.",
                           style="green" if result.passed else "red"))
        lines = Text()
        for kind, n in result.checked.items():
            rate = result.rate(kind)
            ok = rate < THRESHOLD
            lines.append("✓ " if ok else "✗ ", style="green" if ok else "red")
            lines.append(f"{kind}: {result.failed_records.get(kind, 0):,} of {n:,} differ ({rate:.1%})\n")
        for problem in result.count_problems:
            lines.append("✗ ", style="red")
            lines.append(f"count: {problem}\n")
        if result.unchecked:
            lines.append("✗ ", style="red")
            lines.append(f"written but not checked: {', '.join(result.unchecked)}\n")
        lines.rstrip()
        verdicts = self.query_one("#verdicts", Static)
        verdicts.update(lines)
        verdicts.display = bool(lines.plain)
        table = self.query_one(DataTable)
        table.clear()
        for m in result.mismatches[:500]:
            table.add_row(m.kind, f"{m.object}:{m.key}", m.field, m.expected[:60], m.actual[:60])
