"""A project's overview: where it stands and which wizard steps are open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from helpmig_tui.project import ProjectStatus

# The wizard's steps; those not built yet say so instead of pretending.
STEPS = (
    ("Connect", False),
    ("Audit", False),
    ("Mapping review", False),
    ("Plan", False),
    ("Sample run", False),
    ("Load", False),
    ("Validate", False),
    ("Delta and cutover", False),
    ("Rollback", False),
    ("Reports", False),
)


class OverviewScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Projects")]

    def __init__(self, status: ProjectStatus) -> None:
        super().__init__()
        self.status = status

    def compose(self) -> ComposeResult:
        st = self.status
        yield Header()
        yield Static(f"Project {st.name}", classes="title")
        with VerticalScroll():
            with Grid(classes="status-grid panel"):
                for key, value in (
                    ("Source", f"{st.platform_label}: {st.source_location}"),
                    ("Stage", st.stage_label),
                    ("Intercom", st.intercom_url or "not connected yet"),
                    ("Next step", st.next_step),
                    ("Folder", st.path),
                ):
                    yield Static(key, classes="key")
                    yield Static(value)
            if st.source_problem:
                yield Static(f"Source problem: {st.source_problem}", classes="error")
            yield Static("Wizard steps", classes="title")
            for label, built in STEPS:
                yield Static(f"  {label}: " + ("open" if built else "[dim]not built yet[/dim]"), classes="step")
        yield Footer()
