"""The project picker: every project with where it stands, create one, open one.

It is the first frame `helpmig` shows, so it draws before it reads the projects (reading
them needs the store, the slowest import of all): the list follows a moment later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker, WorkerState

from helpmig_tui.settings import Paths

if TYPE_CHECKING:
    from helpmig_tui.project import ProjectListing
from screens.help import footer


class WelcomeScreen(Screen[None]):
    """Lists the projects under the data dir; the first screen `helpmig` shows."""

    BINDINGS = [
        Binding("n", "new_project", "New", tooltip="Create a new migration project"),
        Binding("enter", "open_project", "Open", tooltip="Open the selected project"),
        Binding("u", "resume", "Resume", tooltip="Resume the selected project's interrupted run where it stopped"),
        Binding("r", "refresh", "Refresh", tooltip="Read the projects again"),
    ]

    class ResumeProject(Message):
        """Continue the project's interrupted run where it stopped."""

        def __init__(self, name: str, kind: str, sample: int | None) -> None:
            super().__init__()
            self.name = name
            self.kind = kind
            self.sample = sample

    class OpenProject(Message):
        """The operator chose a project; the App decides what opens."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class NewProjectRequested(Message):
        pass

    def __init__(self, paths: Paths) -> None:
        super().__init__()
        self.paths = paths
        self.listings: list[ProjectListing] = []
        self._reading: Worker[None] | None = None
        self._read_started = False
        self._answered: set[Worker] = set()  # the reads whose result was shown or said

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Migration projects", classes="title")
        yield Static(
            f"Each project is one file under {self.paths.projects}. Choose one to continue where it "
            "stopped, or press [b]n[/b] to start a new one.",
            classes="intro",
        )
        yield DataTable(id="projects", cursor_type="row", zebra_stripes=True)
        yield Static("", id="empty", classes="empty")
        yield footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Project", "Source", "Stage", "Next step")
        table.loading = True
        self.query_one("#empty", Static).display = False
        table.focus()
        self.call_after_refresh(self._start_reading)  # after the first frame: the store's imports would hold it up

    def _start_reading(self) -> None:
        if self._read_started:
            return
        self._read_started = True
        self._reading = self.run_worker(self._read_projects, name="picker", group="picker", thread=True,
                                        exit_on_error=False)

    async def listed(self) -> None:
        """Wait for the first reading of the projects (a key pressed before it is answered after it)."""
        self._start_reading()
        reading = self._reading
        if reading is not None:
            await reading.wait()
            self._first_read(reading)

    def _read_projects(self) -> tuple[list[ProjectListing], list[str]]:
        """The projects, read in a thread: the first frame does not wait for the store."""
        from helpmig_tui.project import list_projects
        from helpmig_tui.state.store import take_drive_notes

        return list_projects(self.paths), take_drive_notes()

    def _first_read(self, reading: Worker) -> None:
        if reading.name != "picker" or reading.state is not WorkerState.SUCCESS or reading in self._answered:
            return
        self._answered.add(reading)
        listings, notes = reading.result
        if self._reading is reading:
            self._reading = None
            self._show(listings, notes)
        else:  # a refresh came first and listed the projects; the notes this read took are still said
            self._say(notes)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self._first_read(event.worker)

    def action_refresh(self) -> None:
        self._reading, self._read_started = None, True
        from helpmig_tui.project import list_projects
        from helpmig_tui.state.store import take_drive_notes

        self._show(list_projects(self.paths), take_drive_notes())

    def _show(self, listings: list[ProjectListing], notes: list[str]) -> None:
        table = self.query_one(DataTable)
        table.loading = False
        table.clear()
        self.listings = listings
        for item in self.listings:
            if item.status is None:
                table.add_row(item.name, "", Text("cannot be read", style="red"), item.error or "", key=item.name)
                continue
            st = item.status
            stage = Text(f"{st.stage_label}, interrupted", style="yellow") if st.resumable else st.stage_label
            table.add_row(item.name, st.platform_label, stage, st.next_step, key=item.name)
        empty = self.query_one("#empty", Static)
        empty.update("" if self.listings else "No projects yet. Press [b]n[/b] to create the first one.")
        empty.display = not self.listings
        self._say(notes)

    def _say(self, notes: list[str]) -> None:
        for note in notes:  # a home on a share or a USB stick: said once
            self.notify(note, severity="warning", timeout=15)

    def selected(self) -> ProjectListing | None:
        table = self.query_one(DataTable)
        if not self.listings or table.cursor_row < 0:
            return None
        return self.listings[table.cursor_row]

    async def action_open_project(self) -> None:
        await self.listed()
        chosen = self.selected()
        if chosen is None:
            self.notify("There is no project to open yet: press n to create one.", severity="warning")
            return
        if chosen.status is None:
            self.notify(f"{chosen.name} cannot be read: {chosen.error}. {chosen.hint}", severity="error", timeout=8)
            return
        self.post_message(self.OpenProject(chosen.name))

    async def action_resume(self) -> None:
        await self.listed()
        chosen = self.selected()
        if chosen is None or chosen.status is None or not chosen.status.resumable:
            self.notify("This project has no interrupted run to resume.", severity="warning")
            return
        run = chosen.status.last_run
        assert run is not None
        self.post_message(self.ResumeProject(chosen.name, run.kind, run.sample))

    @on(DataTable.RowSelected)
    async def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.action_open_project()

    def action_new_project(self) -> None:
        self.post_message(self.NewProjectRequested())
