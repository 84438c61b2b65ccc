"""The Mapping review step: every object and field with its proposal, confidence by
colour, reason and samples; confirm, bulk confirm, edit, skip, filter, diff.

The proposer runs in a worker owned by the App (`MappingRequested`); the screen reads
and changes the map only through the engine (helpmig_tui.mapping), which records every
change with the OS user name.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, ProgressBar, Static

from helpmig_tui.mapping.diff import diff_maps
from helpmig_tui.mapping.model import FieldMap, ObjectMap
from helpmig_tui.mapping.versions import (
    MapStateError,
    MapVersion,
    confirm,
    edit_field,
    edit_object,
    last_confirmed,
    latest,
    skip_field,
)
from helpmig_tui.mapping.workflow import allowed_targets, retarget_object
from helpmig_tui.project import open_project
from helpmig_tui.settings import Paths
from screens.mapping_dialogs import BulkConfirmDialog, DiffDialog, FieldDialog, FieldEdit, ObjectDialog, ObjectEdit
from screens.help import footer

STATUS_STYLE = {"proposed": "dim", "edited": "cyan", "confirmed": "green", "skipped": "magenta"}
LOW = 0.7  # below: shown red and kept by the low-confidence filter
HIGH = 0.9  # at or above: green
SAMPLES_WIDTH = 28


def confidence_text(value: float) -> Text:
    style = "green" if value >= HIGH else "yellow" if value >= LOW else "bold red"
    return Text(f"{value:.2f}", style=style)


class MappingRequested(Message):
    """Propose (or re-propose) the map of a project, with the LLM when asked."""

    def __init__(self, project: str, llm: bool = False) -> None:
        super().__init__()
        self.project = project
        self.llm = llm


class MappingScreen(Screen[None]):
    BINDINGS = [
        Binding("p", "propose", "Propose", tooltip="Propose the map from the audit (again)"),
        Binding("L", "propose_llm", "LLM", show=False, tooltip="Propose with the LLM endpoint as well"),
        Binding("c", "confirm", "Confirm", tooltip="Confirm the selected row"),
        Binding("b", "bulk", "Bulk", tooltip="Confirm every proposal at or above a confidence"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected object or field"),
        Binding("s", "skip", "Skip", tooltip="Leave the selected field behind"),
        Binding("u", "filter_unconfirmed", "Unconfirmed", show=False, tooltip="Show only unconfirmed rows (again: all)"),
        Binding("l", "filter_low", "Low", show=False, tooltip="Show only low-confidence rows (again: all)"),
        Binding("d", "diff", "Diff", tooltip="Compare with the last confirmed version"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, paths: Paths, project: str, *, running: bool = False, llm_enabled: bool = False) -> None:
        super().__init__()
        self.paths = paths
        self.project = project
        self.running = running
        self.llm_enabled = llm_enabled
        self.version: MapVersion | None = None
        self.rows: list[ObjectMap | FieldMap] = []
        self.only_unconfirmed = False
        self.only_low = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Mapping review: {self.project}", classes="title")
        yield Static("", id="status", classes="intro")
        yield ProgressBar(total=1, show_eta=False, id="progress")
        yield DataTable(id="rows", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail-box", classes="panel"):
            yield Static("", id="detail")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#rows", DataTable).add_columns("Object / field", "Target", "Conf.", "Status", "Transforms",
                                                       "Samples", "Reason")
        self.query_one("#progress", ProgressBar).display = self.running
        self.reload()
        self.query_one("#rows", DataTable).focus()

    # -- data -------------------------------------------------------------------------

    def reload(self) -> None:
        with open_project(self.paths, self.project) as store:
            self.version = latest(store)
        table = self.query_one("#rows", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.rows = []
        if self.version is not None:
            for row in self.version.map.rows():
                if self.only_unconfirmed and row.settled:
                    continue
                if self.only_low and row.confidence >= LOW:
                    continue
                self.rows.append(row)
                table.add_row(*self._cells(row), key=row.key)
        if self.rows:
            table.move_cursor(row=min(max(cursor, 0), len(self.rows) - 1))
        self._update_status()
        self._show_detail()

    @staticmethod
    def _cells(row: ObjectMap | FieldMap) -> tuple[Text | str, ...]:
        status = Text(row.status, style=STATUS_STYLE.get(row.status, ""))
        if isinstance(row, ObjectMap):
            return (Text(row.object, style="bold"), Text(row.target.value, style="bold"),
                    confidence_text(row.confidence), status, row.options.describe(), "", row.reason)
        samples = ", ".join(row.samples)
        samples = samples if len(samples) <= SAMPLES_WIDTH else samples[: SAMPLES_WIDTH - 1] + "…"
        return (f"  {row.field}", row.target.describe(), confidence_text(row.confidence), status,
                row.describe_transforms(), Text(samples, style="dim"), row.reason)

    def _update_status(self) -> None:
        status = self.query_one("#status", Static)
        filters = [name for on_, name in ((self.only_unconfirmed, "unconfirmed"), (self.only_low, "low confidence"))
                   if on_]
        shown = f" Showing {' and '.join(filters)} rows only." if filters else ""
        if self.running:
            status.update("Proposing the map... you can leave this screen; the proposer keeps running.")
        elif self.version is None:
            status.update("No map yet. Press [b]p[/b] to propose one from the audit"
                          + (", [b]L[/b] to ask the LLM as well." if self.llm_enabled else "."))
        else:
            blockers = self.version.map.blockers()
            head = f"Version {self.version.version} ({self.version.status}). "
            if blockers:
                status.update(Text(head + "Blocking the load: " + "; ".join(blockers) + "." + shown, style="yellow"))
            else:
                status.update(Text(head + f"Confirmed, hash {self.version.hash[:12]}: ready for the sample run."
                                   + shown, style="green"))

    def selected(self) -> ObjectMap | FieldMap | None:
        table = self.query_one("#rows", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _show_detail(self) -> None:
        row = self.selected()
        text = Text()
        if isinstance(row, ObjectMap):
            text.append(f"{row.object}", style="bold")
            text.append(f" ({row.role or 'object'}) → {row.target.value}   {row.status}, confidence {row.confidence:.2f}\n")
            text.append(row.reason)
            if row.options.describe():
                text.append(f"\nOptions: {row.options.describe()}")
            if row.choices:
                text.append(f"\nMay become: {', '.join(c.value for c in row.choices)} (press e)")
        elif isinstance(row, FieldMap):
            text.append(row.key, style="bold")
            text.append(f" → {row.target.describe()}   {row.status}, confidence ")
            text.append_text(confidence_text(row.confidence))
            text.append(f"\n{row.reason}")
            if row.transforms:
                text.append(f"\nTransforms: {row.describe_transforms()}")
            text.append(f"\nSamples: {', '.join(row.samples) if row.samples else '(none in the audit)'}")
        self.query_one("#detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#rows")
    def _highlighted(self) -> None:
        self._show_detail()

    # -- progress from the App's worker ----------------------------------------------------

    def show_progress(self, step: str, done: int, total: int) -> None:
        self.running = True
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self.query_one("#status", Static).update(f"Proposing: {step} ({done}/{total})")

    def mapping_finished(self, error: str | None) -> None:
        self.running = False
        self.query_one("#progress", ProgressBar).display = False
        self.reload()
        if error:
            self.query_one("#status", Static).update(Text(f"The proposal failed: {error}", style="red"))

    # -- actions ---------------------------------------------------------------------------

    def _request(self, llm: bool) -> None:
        if self.running:
            self.notify("The proposer is already running.")
            return
        self.post_message(MappingRequested(self.project, llm=llm))

    def action_propose(self) -> None:
        self._request(llm=False)

    def action_propose_llm(self) -> None:
        if not self.llm_enabled:
            self.notify("The LLM proposer is off: set HELPMIG_LLM=1 and HELPMIG_LLM_BASE_URL.", severity="warning")
            return
        self._request(llm=True)

    def _change(self, operation) -> None:
        """Run one engine operation on the map, then show the result (or why not)."""
        try:
            with open_project(self.paths, self.project) as store:
                operation(store)
        except MapStateError as exc:
            self.notify(f"{exc}" + (f" ({exc.hint})" if exc.hint else ""), severity="error", timeout=8)
        self.reload()

    def _need_row(self) -> ObjectMap | FieldMap | None:
        row = self.selected()
        if row is None:
            self.notify("Propose a map first (press p).", severity="warning")
        return row

    def action_confirm(self) -> None:
        row = self._need_row()
        if row is not None:
            self._change(lambda store: confirm(store, [row.key]))

    def action_skip(self) -> None:
        row = self._need_row()
        if isinstance(row, FieldMap):
            self._change(lambda store: skip_field(store, row.object, row.field))
        elif row is not None:
            self.notify("To leave a whole object behind, edit it (e) and choose skip.")

    def action_bulk(self) -> None:
        if self._need_row() is None:
            return

        def done(threshold: float | None) -> None:
            if threshold is not None:
                self._change(lambda store: confirm(store, min_confidence=threshold))

        self.app.push_screen(BulkConfirmDialog(), done)

    def action_edit(self) -> None:
        row = self._need_row()
        if row is None or self.version is None:
            return
        if isinstance(row, FieldMap):
            kind = self.version.map.object_map(row.object).target  # type: ignore[union-attr]

            def field_done(edit: FieldEdit | None) -> None:
                if edit is not None:
                    self._change(lambda store: edit_field(store, row.object, row.field, target=edit.target,
                                                          transforms=edit.transforms))

            self.app.push_screen(FieldDialog(row, kind), field_done)
            return
        with open_project(self.paths, self.project) as store:
            allowed = allowed_targets(store, row.object)

        def object_done(edit: ObjectEdit | None) -> None:
            if edit is None:
                return
            if edit.target is not row.target:
                self._change(lambda store: retarget_object(store, row.object, edit.target))
            elif edit.options != row.options:
                self._change(lambda store: edit_object(store, row.object, options=edit.options))

        self.app.push_screen(ObjectDialog(row, allowed), object_done)

    def action_filter_unconfirmed(self) -> None:
        self.only_unconfirmed = not self.only_unconfirmed
        self.reload()

    def action_filter_low(self) -> None:
        self.only_low = not self.only_low
        self.reload()

    def action_diff(self) -> None:
        if self.version is None:
            self.notify("Propose a map first (press p).", severity="warning")
            return
        with open_project(self.paths, self.project) as store:
            before = self.version.version if self.version.status == "confirmed" else None
            previous = last_confirmed(store, before=before)
        if previous is None or previous.version == self.version.version:
            self.notify("No earlier confirmed version to compare with.")
            return
        changes = diff_maps(previous.map, self.version.map)
        title = (f"Version {self.version.version} against confirmed version {previous.version}: "
                 f"{len(changes)} change{'s' if len(changes) != 1 else ''}")
        self.app.push_screen(DiffDialog(title, changes))
