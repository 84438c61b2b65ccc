"""The Plan step: the phases with their records, API calls and ETA, and the reconciliation
queue of agents and groups with no Intercom admin or team, settled here before the load.
The fallback contact is typed in a dialog (`c`), so every key here works wherever the
focus is."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from helpmig_tui.email_address import checked_email
from helpmig_tui.pipeline.prepare import Match, Resolutions
from helpmig_tui.project import open_project
from helpmig_tui.settings import Paths
from screens.help import footer
from screens.run_progress import duration
from screens.run_messages import PlanRequested


class AdminPicker(ModalScreen[str | None]):
    """Pick an Intercom admin (or team) by name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="title")
            yield OptionList(*(Option(label, id=value) for value, label in self.choices), id="choices")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ContactDialog(ModalScreen[str | None]):
    """The fallback contact: an email address, or empty for none."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Static("Fallback contact", classes="title")
            yield Label("Tickets whose requester is missing are written from this contact (an email; empty: none)")
            yield Input(self.current or "", placeholder="unknown.requester@yourcompany.com", id="fallback-contact")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        email = self.query_one("#fallback-contact", Input).value.strip()
        if email and checked_email(email) is None:
            self.query_one("#error", Static).update("An email address, or nothing.")
            return
        self.dismiss(email)


class PlanScreen(Screen[None]):
    BINDINGS = [
        Binding("m", "match", "Match", tooltip="Match the selected agent or group to an Intercom admin or team"),
        Binding("k", "skip", "Skip", tooltip="Skip the selected agent or group (its replies go to the fallback admin)"),
        Binding("f", "fallback", "Admin", tooltip="Fallback admin: who writes for every unmatched agent"),
        Binding("c", "contact", "Contact", tooltip="Fallback contact for tickets whose requester is missing"),
        Binding("r", "refresh", "Recompute", tooltip="Compute the plan again"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, paths: Paths, project: str) -> None:
        super().__init__()
        self.paths = paths
        self.project = project
        self.queue: list[Match] = []
        self.admins: list = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Plan: {self.project}", classes="title")
        yield Static("Computing the plan (reads the map, the audit and the workspace's admins)...", id="status")
        yield DataTable(id="phases", cursor_type="row", zebra_stripes=True)
        yield Static("", id="fallbacks", classes="intro")
        with Vertical(id="queue-box"):
            yield Static("Reconciliation queue", classes="title")
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#phases", DataTable).add_columns("Phase", "Records", "Calls", "Objects")
        self.query_one("#queue", DataTable).add_columns("Kind", "Source", "Name", "Email")
        self._show_fallbacks()
        self.action_refresh()

    def _show_fallbacks(self) -> None:
        with open_project(self.paths, self.project) as store:
            resolutions = Resolutions.load(store)
        admin = next((f"{a.name} <{a.email}>" for a in self.admins if a.id == resolutions.fallback_admin),
                     resolutions.fallback_admin)
        self.query_one("#fallbacks", Static).update(
            f"Fallback admin: {admin or 'none (f)'}. Fallback contact: {resolutions.fallback_contact or 'none (c)'}.")

    def action_refresh(self) -> None:
        self.query_one("#status", Static).update("Computing the plan...")
        self.post_message(PlanRequested(self.project))

    def show_plan(self, plan, admins: list, error: str | None) -> None:
        status = self.query_one("#status", Static)
        if error:
            status.update(Text(f"The plan needs: {error}", style="red"))
            return
        self.admins = admins
        self._show_fallbacks()
        table = self.query_one("#phases", DataTable)
        table.clear()
        for p in plan.phases:
            table.add_row(p.label, f"{p.records:,}", f"{p.calls:,}", ", ".join(p.objects) or "—")
        self.queue = plan.queue
        queue = self.query_one("#queue", DataTable)
        queue.clear()
        for m in self.queue:
            queue.add_row(m.kind, f"{m.object}:{m.key}", m.name, m.email)
        apps = f" ({plan.apps} apps of the workspace together)" if plan.apps > 1 else ""
        line = f"{plan.calls:,} API calls, about {duration(plan.eta_s)} at {plan.limit_per_10s:,} requests per 10 s{apps}. "
        if self.queue:
            line += f"{len(self.queue)} agents or groups wait for you: m matches, k skips, f sets a fallback admin."
            status.update(Text(line, style="yellow"))
        else:
            status.update(Text(line + "Nothing waits: the sample run can start.", style="green"))

    def _selected(self) -> Match | None:
        table = self.query_one("#queue", DataTable)
        if not self.queue or table.cursor_row < 0:
            return None
        return self.queue[min(table.cursor_row, len(self.queue) - 1)]

    def _save(self, change) -> None:
        with open_project(self.paths, self.project) as store:
            resolutions = Resolutions.load(store)
            change(resolutions)
            resolutions.save(store)
        self.action_refresh()

    def action_match(self) -> None:
        match = self._selected()
        if match is None:
            self.notify("Nothing waits in the queue.")
            return
        choices = [(a.id, f"{a.name} <{a.email}>") for a in self.admins]

        def chosen(admin_id: str | None) -> None:
            if admin_id:
                key = f"{match.object}:{match.key}"
                self._save(lambda r: (r.admins if match.kind == "admin" else r.teams).__setitem__(key, admin_id))

        self.app.push_screen(AdminPicker(f"Match {match.name or match.email} to", choices), chosen)

    def action_skip(self) -> None:
        match = self._selected()
        if match is not None:
            key = f"{match.object}:{match.key}"
            self._save(lambda r: (r.admins if match.kind == "admin" else r.teams).__setitem__(key, "skip"))

    def action_fallback(self) -> None:
        choices = [(a.id, f"{a.name} <{a.email}>") for a in self.admins]

        def chosen(admin_id: str | None) -> None:
            if admin_id:
                self._save(lambda r: setattr(r, "fallback_admin", admin_id))

        self.app.push_screen(AdminPicker("Every unmatched agent writes as", choices), chosen)

    def action_contact(self) -> None:
        with open_project(self.paths, self.project) as store:
            current = Resolutions.load(store).fallback_contact

        def saved(email: str | None) -> None:
            if email is not None:
                self._save(lambda r: setattr(r, "fallback_contact", email or None))
                self.notify(f"Fallback contact: {email or 'none'}")

        self.app.push_screen(ContactDialog(current), saved)
