"""A project's overview: where it stands, and the wizard's steps to open (done ones marked,
waiting ones saying what for; the cursor stays on the step you were on)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from helpmig_tui.project import ProjectStatus
from screens.help import footer

# The wizard's steps in order: (id, label).
STEPS = (
    ("connect", "Connect"),
    ("audit", "Audit"),
    ("mapping", "Mapping review"),
    ("plan", "Plan"),
    ("sample", "Sample run"),
    ("load", "Load"),
    ("validate", "Validate"),
    ("delta", "Delta and cutover"),
    ("rollback", "Rollback"),
    ("reports", "Reports"),
)


class StepRequested(Message):
    def __init__(self, project: str, step: str) -> None:
        super().__init__()
        self.project = project
        self.step = step


class OverviewRefreshRequested(Message):
    """Back on the overview: the App recomputes where the project stands."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project


class OverviewScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Projects")]

    def __init__(self, status: ProjectStatus, waits: dict[str, str] | None = None, marks: set[str] | None = None,
                 about: list[str] | None = None) -> None:
        super().__init__()
        self.status = status
        self.waits = waits or {}
        self.marks = marks or set()
        self.about = about or []  # a demo's lines: what was generated and what is in scope
        self._shown: dict[str, str | Text] = {}  # what each line and step shows now
        self._as_read = True  # shown as just read, not yet left for another screen: no need to read it again

    def compose(self) -> ComposeResult:
        st = self.status
        yield Header()
        with VerticalScroll():
            yield Static(f"Project {st.name}", classes="title")
            with Grid(classes="status-grid"):
                for key, value in self._rows(st):
                    yield Static(key, classes="key")
                    yield Static(value, id=f"status-{key.split()[0].lower()}", classes="value")
            yield Static("", id="source-problem", classes="error")
            yield Static("\n".join(f"Demo: {line}" for line in self.about), id="about", classes="intro")
            yield Static("Wizard steps", classes="title")
            yield OptionList(*(Option(label, id=step) for step, label in STEPS), id="steps")
        yield footer()

    @staticmethod
    def _rows(st: ProjectStatus) -> tuple[tuple[str, str], ...]:
        intercom = st.intercom_url or "not connected yet"
        if st.destination.get("workspace"):
            intercom += f" (workspace {st.destination['workspace']})"
        return (
            ("Source", f"{st.platform_label}: {st.source_location}"),
            ("Stage", st.stage_label),
            ("Intercom", intercom),
            ("Next step", st.next_step),
            ("Folder", st.path),
        )

    def show_waits(self, waits: dict[str, str], marks: set[str] | None = None) -> None:
        """Each step says what it waits for, so nothing is blocked without a reason; done
        steps carry a mark."""
        if marks is not None:
            self.marks = marks
        steps = self.query_one("#steps", OptionList)
        for index, (step, label) in enumerate(STEPS):
            done = step in self.marks
            text = Text("✓ " if done else "  ", style="green")
            text.append(label)
            if step in waits:
                text.append(f" — waits: {waits[step]}", style="dim")
            if self._shown.get(step) != text:  # back from a step, most lines are as they were
                self._shown[step] = text
                steps.replace_option_prompt_at_index(index, text)

    def next_step(self) -> int:
        """The first step neither done nor waiting: where the cursor starts."""
        for index, (step, _) in enumerate(STEPS):
            if step not in self.marks and step not in self.waits:
                return index
        return 0

    def show_status(self, status: ProjectStatus, waits: dict[str, str] | None = None,
                    marks: set[str] | None = None) -> None:
        """Show the project as it stands now (after a step changed it)."""
        self.status = status
        if waits is not None:
            self.waits = waits
            if self.is_mounted:
                self.show_waits(waits, marks)
        for key, value in self._rows(status):
            self._update(f"status-{key.split()[0].lower()}", value)
        self._update("source-problem", f"Source problem: {status.source_problem}" if status.source_problem else "")
        self.query_one("#source-problem", Static).display = bool(status.source_problem)

    def _update(self, widget_id: str, text: str) -> None:
        """A line changed only when its text did: each update relays the screen out."""
        if self._shown.get(widget_id) != text:
            self._shown[widget_id] = text
            self.query_one(f"#{widget_id}", Static).update(text)

    def on_mount(self) -> None:
        self.show_status(self.status)
        self.show_waits(self.waits)
        self.query_one("#about", Static).display = bool(self.about)
        steps = self.query_one("#steps", OptionList)
        steps.highlighted = self.next_step()
        steps.focus()

    def on_screen_resume(self) -> None:
        """Back from a step: the project is read again; the cursor stays on that step. Shown
        for the first time, it holds what was read to open it (a second read cost some
        40 ms of CPU, an eighth of the App's start on a demo)."""
        if not self._as_read:
            self.post_message(OverviewRefreshRequested(self.status.name))
        self._as_read = False
        self.query_one("#steps", OptionList).focus()

    def on_screen_suspend(self) -> None:
        self._as_read = False

    @on(OptionList.OptionSelected, "#steps")
    def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(StepRequested(self.status.name, str(event.option.id)))
