"""The Audit step: modules with counts, findings by severity, drill-down, acknowledge/waive.

The audit itself runs in a worker owned by the App (it survives leaving this screen);
this screen asks for it with `AuditRequested` and the App feeds progress back through
`show_progress` and `audit_finished`.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, ProgressBar, Static

from helpmig_tui.audit import AuditProgress
from helpmig_tui.audit_store import decide, findings, source_objects
from helpmig_tui.project import open_project
from helpmig_tui.settings import Paths
from helpmig_tui.state.models import FindingRow
from screens.help import footer

SEVERITY_STYLE = {"blocker": "bold red", "warning": "yellow", "info": "cyan"}
STATUS_STYLE = {"open": "", "acknowledged": "green", "waived": "magenta"}


class AuditRequested(Message):
    """Run (or re-run) the audit of a project."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project


class NoteDialog(ModalScreen[str | None]):
    """Asks why a finding is waived; a waiver without a reason is refused."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, finding: FindingRow) -> None:
        super().__init__()
        self.finding = finding

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Waive {self.finding.code}", classes="title")
            yield Static(self.finding.message)
            yield Label("Why is this acceptable?")
            yield Input(placeholder="e.g. duplicates are one person; merged after cutover", id="note")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Waive", id="waive", variant="warning")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#waive")
    def _waive(self) -> None:
        note = self.query_one("#note", Input).value.strip()
        if not note:
            self.query_one("#error", Static).update("Say why, so the next person knows.")
            return
        self.dismiss(note)


class AuditScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "run_audit", "Audit", tooltip="Run the audit (again); decisions on findings carry over"),
        Binding("k", "acknowledge", "Ack", tooltip="Acknowledge the selected finding"),
        Binding("w", "waive", "Waive", tooltip="Waive the selected finding, saying why"),
        Binding("o", "reopen", "Reopen", tooltip="Open the selected finding again"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, paths: Paths, project: str, *, running: bool = False) -> None:
        super().__init__()
        self.paths = paths
        self.project = project
        self.running = running
        self.rows: list[FindingRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Audit: {self.project}", classes="title")
        yield Static("", id="status", classes="intro")
        yield ProgressBar(total=1, show_eta=False, id="progress")
        with Horizontal(id="audit-body"):
            with Vertical(id="left"):
                yield Static("Modules", classes="title")
                yield DataTable(id="modules", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield Static("Findings", classes="title")
                yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="detail-box", classes="panel"):
                    yield Static("", id="detail")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#modules", DataTable).add_columns("Object", "Records", "First", "Last")
        self.query_one("#findings", DataTable).add_columns("Severity", "Count", "Status", "Finding")
        self.query_one("#progress", ProgressBar).display = self.running
        self.reload()
        self.query_one("#findings", DataTable).focus()

    # -- data ------------------------------------------------------------------------

    def reload(self) -> None:
        with open_project(self.paths, self.project) as store:
            objects = source_objects(store)
            self.rows = findings(store)
        modules = self.query_one("#modules", DataTable)
        modules.clear()
        for obj in objects:
            first = obj.first_created.strftime("%Y-%m-%d") if obj.first_created else "—"
            last = obj.last_created.strftime("%Y-%m-%d") if obj.last_created else "—"
            modules.add_row(obj.label or obj.name, f"{obj.count or 0:,}", first, last, key=obj.name)
        table = self.query_one("#findings", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.rows:
            table.add_row(
                Text(row.severity, style=SEVERITY_STYLE.get(row.severity, "")),
                f"{row.count:,}",
                Text(row.status, style=STATUS_STYLE.get(row.status, "")),
                row.message,
                key=str(row.id),
            )
        if self.rows:
            table.move_cursor(row=min(max(cursor, 0), len(self.rows) - 1))
        self._update_status()
        self._show_detail()

    def _update_status(self) -> None:
        status = self.query_one("#status", Static)
        if self.running:
            status.update("Auditing the source... you can leave this screen; the audit keeps running.")
            return
        if not self.rows:
            status.update("No audit yet. Press [b]a[/b] to audit the source.")
            return
        open_blockers = sum(1 for r in self.rows if r.severity == "blocker" and r.status == "open")
        counts = {s: sum(1 for r in self.rows if r.severity == s) for s in ("blocker", "warning", "info")}
        line = f"{counts['blocker']} blockers, {counts['warning']} warnings, {counts['info']} notes. "
        if open_blockers:
            line += f"[red]{open_blockers} blockers must be acknowledged or waived before loading.[/red]"
        else:
            line += "No open blockers."
        status.update(line)

    def selected(self) -> FindingRow | None:
        table = self.query_one("#findings", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _show_detail(self) -> None:
        row = self.selected()
        text = Text()
        if row is not None:
            text.append(row.code, style="bold")
            text.append(f" ({row.severity}, {row.status})\n{row.message}\n\n{row.detail}")
            if row.status_note:
                text.append(f"\n\nWaived: {row.status_note}")
            if row.keys:
                more = ""
                if row.count > len(row.keys):
                    more = f" (showing {len(row.keys)} of {row.count:,}; all are listed in the reports folder)"
                text.append(f"\n\nAffected {row.object or 'records'}: {', '.join(row.keys)}{more}")
        self.query_one("#detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#findings")
    def _highlighted(self) -> None:
        self._show_detail()

    # -- progress from the App's worker ------------------------------------------------

    def show_progress(self, progress: AuditProgress) -> None:
        self.running = True
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=max(progress.total, 1), progress=progress.done)
        self.query_one("#status", Static).update(f"Auditing: {progress.step} ({progress.done}/{progress.total})")

    def audit_finished(self, error: str | None) -> None:
        self.running = False
        self.query_one("#progress", ProgressBar).display = False
        self.reload()
        if error:
            self.query_one("#status", Static).update(Text(f"The audit failed: {error}", style="red"))

    # -- actions -----------------------------------------------------------------------

    def action_run_audit(self) -> None:
        if self.running:
            self.notify("The audit is already running.")
            return
        self.post_message(AuditRequested(self.project))

    def _decide(self, status: str, note: str = "") -> None:
        row = self.selected()
        if row is None:
            self.notify("Run the audit first.", severity="warning")
            return
        with open_project(self.paths, self.project) as store:
            decide(store, row.id, status, note)  # type: ignore[arg-type]
        self.reload()

    def action_acknowledge(self) -> None:
        self._decide("acknowledged")

    def action_reopen(self) -> None:
        self._decide("open")

    def action_waive(self) -> None:
        row = self.selected()
        if row is None:
            self.notify("Run the audit first.", severity="warning")
            return

        def done(note: str | None) -> None:
            if note:
                self._decide("waived", note)

        self.app.push_screen(NoteDialog(row), done)
