"""The dialog that creates a project: a name, the source platform, and where it is.

Here a project starts from a SQLite file, a service URL or an export folder; the
Connect step then edits the connection (SQL Server, credentials, every option).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from connectors.registry import PLATFORMS
from helpmig_tui.project import ProjectError, create_project
from helpmig_tui.settings import Paths
from helpmig_tui.state import StoreError

# platform -> (option key, label, placeholder)
LOCATION: dict[str, tuple[str, str, str]] = {
    "smartertrack": ("sqlite", "SQLite database file", r"C:\SmarterTrack\MRS\App_Data\SmarterTrack.db"),
    "trackit": ("sqlite", "SQLite copy of the database", r"D:\exports\trackit.db"),
    "itsm365": ("url", "Service URL", "https://tenant.itsm365.com/sd"),
    "infraon": ("url", "Service URL", "https://customer.infraon.app"),
    "smart-export": ("folder", "Folder of CSV/XLSX exports", r"D:\exports\smart"),
}


class NewProjectScreen(ModalScreen[str | None]):
    """Returns the new project's name, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, paths: Paths) -> None:
        super().__init__()
        self.paths = paths

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("New migration project", classes="title")
            yield Label("Project name (letters, digits, . _ -)")
            yield Input(placeholder="acme-helpdesk", id="name")
            yield Label("Source platform")
            yield Select(
                [(label, key) for key, (_, _, label) in PLATFORMS.items()],
                value="smartertrack",
                allow_blank=False,
                id="platform",
            )
            yield Label(LOCATION["smartertrack"][1], id="location-label")
            yield Input(placeholder=LOCATION["smartertrack"][2], id="location")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#platform")
    def _platform_changed(self, event: Select.Changed) -> None:
        _, label, placeholder = LOCATION[str(event.value)]
        self.query_one("#location-label", Label).update(label)
        self.query_one("#location", Input).placeholder = placeholder

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        platform = str(self.query_one("#platform", Select).value)
        location = self.query_one("#location", Input).value.strip()
        key = LOCATION[platform][0]
        error = self.query_one("#error", Static)
        if not name:
            error.update("Give the project a name.")
            return
        if not location:
            error.update(f"{LOCATION[platform][1]}: where is the source?")
            return
        try:
            create_project(self.paths, name, platform, {key: location}).close()
        except (ProjectError, StoreError) as exc:
            error.update(str(exc))
            return
        self.dismiss(name)
