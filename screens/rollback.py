"""The Rollback step: choose the scope, see what would be removed, type the project's name
to confirm, follow the removal. Rollback removes only what this project created."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Header, Input, Label, RadioButton, RadioSet, Static

from screens.run_messages import RollbackRequested
from screens.help import footer


class RollbackScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, project: str, *, running: bool = False) -> None:
        super().__init__()
        self.project = project
        self.running = running
        self.planned: dict[str, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Rollback: {self.project}", classes="title")
        yield Static("Removes, newest first, exactly what this project created in Intercom. Companies and "
                     "attributes can only be archived. Objects someone changed in Intercom after the import "
                     "are listed and left alone, unless you tick the box below.", classes="intro")
        with RadioSet(id="scope"):
            yield RadioButton("Only the sample runs", value=True, id="sample")
            yield RadioButton("Everything this project created", id="all")
        yield Checkbox("Also what someone changed in Intercom after the import", id="include-changed")
        yield Static("Counting what would be removed...", id="planned")
        yield Label(f"Type the project's name ({self.project}) to confirm")
        yield Input(id="confirm", placeholder=self.project)
        yield Button("Roll back", id="go", variant="error", disabled=True)
        yield Static("", id="status")
        yield footer()

    def on_mount(self) -> None:
        self._count()

    @property
    def sample_only(self) -> bool:
        return self.query_one("#sample", RadioButton).value

    @property
    def include_changed(self) -> bool:
        return self.query_one("#include-changed", Checkbox).value

    def _count(self) -> None:
        self.query_one("#planned", Static).update("Counting what would be removed...")
        self.post_message(RollbackRequested(self.project, self.sample_only, dry_run=True,
                                            include_changed=self.include_changed))

    @on(RadioSet.Changed)
    @on(Checkbox.Changed, "#include-changed")
    def _scope(self) -> None:
        self._count()

    @on(Input.Changed, "#confirm")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#go", Button).disabled = event.value.strip() != self.project or self.running

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        if self.query_one("#confirm", Input).value.strip() != self.project or self.running:
            return
        self.running = True
        self.query_one("#go", Button).disabled = True
        self.query_one("#status", Static).update("Rolling back... (it resumes where it stopped if interrupted)")
        self.post_message(RollbackRequested(self.project, self.sample_only, dry_run=False,
                                            include_changed=self.include_changed))

    def show_planned(self, planned: dict[str, int] | None, error: str | None) -> None:
        text = error or (", ".join(f"{n} {kind}" for kind, n in planned.items()) if planned else "nothing to remove")
        self.planned = planned
        self.query_one("#planned", Static).update(Text(f"Would remove: {text}", style="red" if error else ""))

    def show_report(self, report, error: str | None) -> None:
        self.running = False
        status = self.query_one("#status", Static)
        if error:
            status.update(Text(f"Rollback stopped: {error}", style="red"))
            return
        lines = [f"Rollback: {report.summary()}"]
        if report.archived:
            lines.append("Archived, not deleted: " + ", ".join(f"{n} {k}" for k, n in report.archived.items()))
        lines += [f"Left alone (changed in Intercom): {k} {key}" for k, key, _ in report.changed[:10]]
        lines += [f"Failed: {k} {key}: {why}" for k, key, why in report.failed[:10]]
        status.update(Text("\n".join(lines), style="green" if report.clean else "yellow"))
        self._count()
