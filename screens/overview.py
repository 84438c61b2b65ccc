"""A project's overview: where it stands, and the wizard's steps to open."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from helpmig_tui.project import ProjectStatus

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

    def __init__(self, status: ProjectStatus, waits: dict[str, str] | None = None) -> None:
        super().__init__()
        self.status = status
        self.waits = waits or {}

    def compose(self) -> ComposeResult:
        st = self.status
        yield Header()
        yield Static(f"Project {st.name}", classes="title")
        with Grid(classes="status-grid panel"):
            for key, value in self._rows(st):
                yield Static(key, classes="key")
                yield Static(value, id=f"status-{key.split()[0].lower()}")
        yield Static("", id="source-problem", classes="error")
        with Vertical():
            yield Static("Wizard steps", classes="title")
            yield OptionList(
                *(Option(label, id=step) for step, label in STEPS),
                id="steps",
            )
        yield Footer()

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

    def show_waits(self, waits: dict[str, str]) -> None:
        """Each step says what it waits for, so nothing is blocked without a reason."""
        steps = self.query_one("#steps", OptionList)
        for index, (step, label) in enumerate(STEPS):
            text = Text(label)
            if step in waits:
                text.append(f" — waits: {waits[step]}", style="dim")
            steps.replace_option_prompt_at_index(index, text)

    def show_status(self, status: ProjectStatus, waits: dict[str, str] | None = None) -> None:
        """Show the project as it stands now (after a step changed it)."""
        self.status = status
        if waits is not None:
            self.waits = waits
            if self.is_mounted:
                self.show_waits(waits)
        for key, value in self._rows(status):
            self.query_one(f"#status-{key.split()[0].lower()}", Static).update(value)
        problem = self.query_one("#source-problem", Static)
        problem.update(f"Source problem: {status.source_problem}" if status.source_problem else "")
        problem.display = bool(status.source_problem)

    def on_mount(self) -> None:
        self.show_status(self.status)
        self.show_waits(self.waits)

    def on_screen_resume(self) -> None:
        self.post_message(OverviewRefreshRequested(self.status.name))
        steps = self.query_one("#steps", OptionList)
        steps.highlighted = 0
        steps.focus()

    @on(OptionList.OptionSelected, "#steps")
    def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(StepRequested(self.status.name, str(event.option.id)))
