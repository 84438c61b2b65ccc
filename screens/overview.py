"""A project's overview: where it stands, and the wizard's steps to open."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from helpmig_tui.project import ProjectStatus

# The wizard's steps in order: (id, label, built). Steps not built yet say so.
STEPS = (
    ("connect", "Connect", True),
    ("audit", "Audit", True),
    ("mapping", "Mapping review", True),
    ("plan", "Plan", True),
    ("sample", "Sample run", True),
    ("load", "Load", True),
    ("validate", "Validate", True),
    ("delta", "Delta and cutover", True),
    ("rollback", "Rollback", True),
    ("reports", "Reports", True),
)


class StepRequested(Message):
    def __init__(self, project: str, step: str) -> None:
        super().__init__()
        self.project = project
        self.step = step


class OverviewScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Projects")]

    def __init__(self, status: ProjectStatus) -> None:
        super().__init__()
        self.status = status

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
                *(Option(label if built else f"{label} [dim](not built yet)[/dim]", id=step, disabled=not built)
                  for step, label, built in STEPS),
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

    def show_status(self, status: ProjectStatus) -> None:
        """Show the project as it stands now (after a step changed it)."""
        self.status = status
        for key, value in self._rows(status):
            self.query_one(f"#status-{key.split()[0].lower()}", Static).update(value)
        problem = self.query_one("#source-problem", Static)
        problem.update(f"Source problem: {status.source_problem}" if status.source_problem else "")
        problem.display = bool(status.source_problem)

    def on_mount(self) -> None:
        self.show_status(self.status)
        steps = self.query_one("#steps", OptionList)
        steps.highlighted = next(i for i, (_, _, built) in enumerate(STEPS) if built)
        steps.focus()

    @on(OptionList.OptionSelected, "#steps")
    def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(StepRequested(self.status.name, str(event.option.id)))
