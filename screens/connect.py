"""The Connect step: where the source is, which Intercom workspace, and the pre-flight checklist.

Both tests run in workers owned by the App (`SourceTestRequested`, `DestinationTestRequested`),
which hands the outcome back through `source_tested` and `destination_tested`. Secrets typed
here go to `Secrets` for the session (and to the keyring when asked), never to the project,
and are shown only masked.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Header, Input, Select, Static, Switch, TextArea

from connectors.registry import platform_label
from helpmig_tui.checklists import checklist_findings
from helpmig_tui.destination import TOKEN_PLACE, DestinationCheck
from helpmig_tui.project import DESTINATION_KEY, SQL_PLATFORMS, ProjectError, normalize_source_options, open_project
from helpmig_tui.redact import mask
from helpmig_tui.settings import SECRET_ENV, Paths, Secrets, Settings
from helpmig_tui.source_connection import SourceCheck, record_source_check, recorded_source_check, update_source_options
from helpmig_tui.state import StoreError
from screens.form_rows import field, row
from screens.source_form import DeclaredSourceForm, SourceForm, SqlSourceForm
from screens.help import footer

REGIONS = [
    ("US: api.intercom.io", "us"),
    ("EU: api.eu.intercom.io", "eu"),
    ("Australia: api.au.intercom.io", "au"),
    ("Another URL (a sandbox, a proxy)", "custom"),
]
SEVERITY_STYLE = {"blocker": "bold red", "warning": "yellow", "info": "cyan"}
KEYRING_NAME = "the Windows Credential Manager" if sys.platform == "win32" else "the system keyring"


class SourceTestRequested(Message):
    """Test these source options (not necessarily saved) in a worker."""

    def __init__(self, project: str, platform: str, options: dict[str, Any]) -> None:
        super().__init__()
        self.project = project
        self.platform = platform
        self.options = options


class DestinationTestRequested(Message):
    """Test the Intercom token at a region or URL; `remember` keeps a typed token in the keyring."""

    def __init__(self, project: str, region: str | None, url: str | None, remember: bool) -> None:
        super().__init__()
        self.project = project
        self.region = region
        self.url = url
        self.remember = remember


class ConnectScreen(Screen[None]):
    # A focused Input takes plain keys, so while typing the footer offers ctrl+t and ctrl+s.
    BINDINGS = [
        Binding("t", "test", "Test"),
        Binding("s", "save", "Save"),
        Binding("ctrl+t", "test_while_typing", "Test"),
        Binding("ctrl+s", "save_while_typing", "Save"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        secrets: Secrets,
        project: str,
        *,
        source_running: bool = False,
        destination_running: bool = False,
    ) -> None:
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.secrets = secrets
        self.project = project
        self.source_running = source_running
        self.destination_running = destination_running
        self.last_source: SourceCheck | None = None
        self.intercom_error: str | None = None
        self.leaving = False
        self.keyring = secrets.keyring_available()
        self._load()
        form = SqlSourceForm if self.platform in SQL_PLATFORMS else DeclaredSourceForm
        self.source_form: SourceForm = form(self.platform, self.recorded)

    def _load(self) -> None:
        with open_project(self.paths, self.project) as store:
            row = store.project()
            self.source_check = recorded_source_check(store)
        self.platform = row.platform
        self.recorded: dict[str, Any] = dict(row.source_options)
        self.intercom_url = row.intercom_url
        self.intercom = dict(row.settings.get(DESTINATION_KEY) or {})

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Connect: {self.project} ({platform_label(self.platform)})", classes="title")
        yield Static("", id="blocking", classes="intro")
        with VerticalScroll(id="connect-form"):
            yield Static("Source", classes="title")
            with Vertical(id="source-panel", classes="panel"):
                yield self.source_form
                if self.keyring and self._secret_names():
                    yield Checkbox(f"Remember the secrets above in {KEYRING_NAME} when saving", id="remember-source")
                with Horizontal(classes="buttons"):
                    yield Button("Test source", id="test-source", variant="primary", compact=True)
                    yield Button("Save", id="save", compact=True)
                yield Static("", id="source-result")
            yield Static("Intercom", classes="title")
            with Vertical(id="intercom-panel", classes="panel"):
                yield from self._intercom_form()
            yield Static("Pre-flight checklist", classes="title")
            with Vertical(id="checklist", classes="panel"):
                yield Static("Confirm these with the customer before the audit; the audit lists them to acknowledge.",
                             classes="intro")
                for item in checklist_findings(self.platform):
                    line = Text(f"[{item.severity.value}] ", style=SEVERITY_STYLE[item.severity.value])
                    line.append(item.message, style="bold")
                    yield Static(line, classes="checklist-item")
                    yield Static(item.detail, classes="checklist-detail")
        yield footer()

    def _intercom_form(self) -> ComposeResult:
        if self.intercom_url:  # the recorded destination, else the settings (HELPMIG_INTERCOM_URL or _REGION)
            region = self.intercom.get("region")
            url = "" if region else self.intercom_url
        else:
            region = None if self.settings.intercom_url else self.settings.intercom_region
            url = self.settings.intercom_url or ""
        yield from field("Region", Select(REGIONS, value=region or "custom", allow_blank=False, id="region", compact=True))
        yield row("API base URL", Input(url, id="intercom-url", placeholder="http://127.0.0.1:8765", compact=True))
        yield row("Access token", Input(password=True, id="token", placeholder="typed in for this session only", compact=True))
        yield Static("", id="token-source", classes="field-help")
        if self.keyring:
            yield Checkbox(f"Remember the token in {KEYRING_NAME} once it works", id="remember-token")
        with Horizontal(classes="buttons"):
            yield Button("Test Intercom", id="test-intercom", variant="primary", compact=True)
        yield Static("", id="intercom-result")

    def on_mount(self) -> None:
        self._show_region()
        self._show_secret_sources()
        if self.source_running:
            self._source_result(Text("Testing the source…"))
        elif self.source_check:
            style = "green" if self.source_check["ok"] else "red"
            self._source_result(Text(f"Last test ({self.source_check['checked_at']}): {self.source_check['summary']}", style=style))
        if self.destination_running:
            self._intercom_result(Text("Testing Intercom…"))
        elif self.intercom_url:
            self._intercom_result(Text(f"Recorded: {self.intercom_url}" + self._workspace_note(), style="green"))
        self._update_blocking()
        first = self.query_one("#source-panel").query("Input, Select").first()
        first.focus()

    def _workspace_note(self) -> str:
        if not self.intercom.get("workspace"):
            return ""
        return f", workspace {self.intercom['workspace']} (tested {self.intercom.get('checked_at', '?')})"

    # -- what the form says --------------------------------------------------------------

    def _secret_names(self) -> tuple[str, ...]:
        return self.source_form.secret_names

    def _take_source_secrets(self, remember: bool) -> None:
        """Typed-in secrets go to the session, the fields empty; with `remember` (and the box
        ticked) the session's secrets go to the keyring too."""
        for name in self._secret_names():
            widget = self.query_one(f"#secret-{name}", Input)
            if widget.value:
                self.secrets.set_session(name, widget.value)
                widget.value = ""
        box = self.query("#remember-source")
        if remember and box and box.first(Checkbox).value:
            for name in self._secret_names():
                if self.secrets.source_of(name) == "typed in":
                    self.secrets.save_to_keyring(name, self.secrets.get(name) or "")
        self._show_secret_sources()

    def _secret_status(self, name: str) -> tuple[str, bool]:
        """How a secret is known (masked), and whether typing one here can change it."""
        env = SECRET_ENV.get(name, "")
        where = self.secrets.source_of(name)
        if where == "environment":
            return f"from {env}: {mask(self.secrets.get(name))} (change it in the environment)", False
        if where == "keyring":
            return f"from the keyring: {mask(self.secrets.get(name))}; type another to use it instead", True
        if where == "typed in":
            return f"typed in for this session: {mask(self.secrets.get(name))}", True
        return f"not set: type it here, or set {env}", True

    def _show_secret_sources(self) -> None:
        for name in self._secret_names():
            status, editable = self._secret_status(name)
            self.query_one(f"#secret-{name}-source", Static).update(status)
            self.query_one(f"#secret-{name}", Input).disabled = not editable
        status, editable = self._secret_status("intercom_token")
        self.query_one("#token-source", Static).update(status)
        self.query_one("#token", Input).disabled = not editable

    def _show_region(self) -> None:
        self.query_one("#intercom-url").parent.display = self.query_one("#region", Select).value == "custom"

    def _dirty(self) -> bool:
        try:
            return normalize_source_options(self.platform, self.source_form.options()) != self.recorded
        except ProjectError:
            return True

    def _update_blocking(self) -> None:
        """Every reason the project cannot go on yet, one line each."""
        lines: list[Text] = []
        if self._dirty():
            lines.append(Text("Unsaved source changes: press s to save them."))
        if self.source_running:
            lines.append(Text("The source is being tested…"))
        elif not self.source_check:
            lines.append(Text("Test the source before the audit: press t."))
        elif not self.source_check["ok"]:
            lines.append(Text(f"The source test failed: {self.source_check['summary']}", style="red"))
        if self.intercom_error:
            lines.append(Text(self.intercom_error, style="red"))
        elif self.destination_running:
            lines.append(Text("Intercom is being tested…"))
        elif not self.secrets.get("intercom_token"):
            lines.append(Text(f"Give the Intercom access token ({TOKEN_PLACE}), then test it."))
        elif not self.intercom_url:
            lines.append(Text("Test Intercom before the load: press t."))
        if not lines:
            lines.append(Text("The source and Intercom are connected. Next: the audit (escape, then Audit).", style="green"))
        self.query_one("#blocking", Static).update(Text("\n").join(Text("• ") + line for line in lines))

    def _source_result(self, text: Text) -> None:
        self.query_one("#source-result", Static).update(text)

    def _intercom_result(self, text: Text) -> None:
        self.query_one("#intercom-result", Static).update(text)

    # -- events --------------------------------------------------------------------------

    @on(Select.Changed, "#region")
    def _region_changed(self) -> None:
        self._show_region()

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _changed(self) -> None:
        if self.is_mounted:
            self._update_blocking()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("token", "intercom-url"):
            self.action_test_intercom()
        else:
            self.action_test_source()

    @on(Button.Pressed, "#test-source")
    def _test_source_pressed(self) -> None:
        self.action_test_source()

    @on(Button.Pressed, "#test-intercom")
    def _test_intercom_pressed(self) -> None:
        self.action_test_intercom()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.endswith("_while_typing"):
            return isinstance(self.focused, (Input, TextArea))
        return True

    def action_test_while_typing(self) -> None:
        self.action_test()

    def action_save_while_typing(self) -> None:
        self.action_save()

    def action_test(self) -> None:
        """Test the source, and Intercom when a token is at hand."""
        self.action_test_source()
        if self.query_one("#token", Input).value or self.secrets.get("intercom_token"):
            self.action_test_intercom()

    def action_test_source(self) -> None:
        if self.source_running:
            self.notify("The source test is still running.")
            return
        options = self.source_options_or_say()
        if options is None:
            return
        self._take_source_secrets(remember=False)
        self.source_running = True
        self._source_result(Text("Testing the source…"))
        self._update_blocking()
        self.post_message(SourceTestRequested(self.project, self.platform, options))

    def source_options_or_say(self) -> dict[str, Any] | None:
        try:
            return self.source_form.options()
        except ProjectError as exc:
            self._source_result(Text(str(exc), style="red"))
            return None

    def action_test_intercom(self) -> None:
        if self.destination_running:
            self.notify("The Intercom test is still running.")
            return
        region = str(self.query_one("#region", Select).value)
        url = self.query_one("#intercom-url", Input).value.strip() if region == "custom" else None
        if region == "custom" and not url:
            self._intercom_result(Text("Give the API's base URL, or choose a region.", style="red"))
            return
        token = self.query_one("#token", Input)
        if token.value:
            self.secrets.set_session("intercom_token", token.value.strip())
            token.value = ""
            self._show_secret_sources()
        if not self.secrets.get("intercom_token"):
            self.intercom_error = f"Give the Intercom access token ({TOKEN_PLACE})."
            self._update_blocking()
            return
        box = self.query("#remember-token")
        remember = bool(box) and box.first(Checkbox).value
        self.destination_running = True
        self.intercom_error = None
        self._intercom_result(Text("Testing Intercom…"))
        self._update_blocking()
        self.post_message(DestinationTestRequested(self.project, None if url else region, url, remember))

    def action_save(self) -> None:
        options = self.source_options_or_say()
        if options is None:
            return
        self._take_source_secrets(remember=True)
        try:
            with open_project(self.paths, self.project) as store:
                update_source_options(store, options)
                if self.last_source is not None and self.last_source.ok:
                    record_source_check(store, self.last_source)
        except (ProjectError, StoreError) as exc:
            self._source_result(Text(str(exc), style="red"))
            return
        self._load()
        self.notify("Source settings saved.")
        self._update_blocking()

    def action_back(self) -> None:
        if self._dirty() and not self.leaving:
            self.leaving = True
            self.notify("Unsaved source changes: s saves them, escape again leaves without saving.", severity="warning")
            return
        self.dismiss(None)

    # -- outcomes from the App's workers -------------------------------------------------

    def source_tested(self, check: SourceCheck) -> None:
        self.source_running = False
        self.last_source = check
        self._load()
        text = Text(("✓ " if check.ok else "✗ ") + check.summary, style="green" if check.ok else "red")
        for line in check.details:
            text.append(f"\n  {line}", style="dim")
        if check.hint:
            text.append(f"\n  {check.hint}")
        if check.ok and check.options != self.recorded:
            text.append("\n  Press s to save these settings.", style="bold")
        self._source_result(text)
        self._update_blocking()

    def destination_tested(self, check: DestinationCheck | None, error: str | None) -> None:
        self.destination_running = False
        self.intercom_error = error
        self._load()
        self._show_secret_sources()
        if check is None:
            self._intercom_result(Text(f"✗ {error}", style="red"))
        else:
            self._intercom_result(_workspace_text(check))
        self._update_blocking()


def _workspace_text(check: DestinationCheck, shown: int = 12) -> Text:
    text = Text(f"✓ Workspace {check.workspace} ({check.workspace_id})", style="green")
    text.append(f"\n  region {check.workspace_region or '?'}, time zone {check.time_zone or '?'}, at {check.base_url}")
    text.append(f"\n  token of {check.me.name} <{check.me.email}>")
    text.append(f"\nAdmins ({len(check.admins)})", style="bold")
    for admin in check.admins[:shown]:
        text.append(f"\n  {admin.name} <{admin.email}>")
    if len(check.admins) > shown:
        text.append(f"\n  and {len(check.admins) - shown} more")
    text.append(f"\nTeams ({len(check.teams)})", style="bold")
    for team in check.teams[:shown]:
        text.append(f"\n  {team.name} ({team.members} admin{'' if team.members == 1 else 's'})")
    if len(check.teams) > shown:
        text.append(f"\n  and {len(check.teams) - shown} more")
    used = ", ".join(f"{n} {model}" for model, n in check.custom_attributes.items())
    text.append(f"\nCustom data attributes: {used}; {check.attributes_free} of {check.attribute_limit} free")
    for warning in check.warnings:
        text.append(f"\n{warning}", style="yellow")
    return text
