"""The source half of the Connect step: one connection form per kind of platform.

SQL platforms (SmarterTrack, Track-It!) get a hand-made form: a SQLite file, SQL Server
(driver picker, Windows authentication, certificate switch) or an ODBC string. REST and
export platforms get a form generated from their connector's `option_fields`. Either way
`options()` returns what the project records (never a secret) and `secret_names` says
which masked fields the form holds.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Collapsible, Input, Select, Static, Switch, TextArea

from connectors.option_fields import OptionField, OptionKind
from helpmig_tui.source_connection import declared_options, form_fields, sql_server_drivers
from screens.form_rows import field, secret_field, switch_row

SQL_MODES = [("SQLite file", "sqlite"), ("SQL Server", "server"), ("ODBC connection string", "odbc")]
AUTO_DRIVER = "auto"


class SourceForm(Vertical):
    """What every source form offers the Connect screen."""

    secret_names: tuple[str, ...] = ()

    def __init__(self, platform: str, recorded: dict[str, Any]) -> None:
        super().__init__(id="source-form")
        self.platform = platform
        self.recorded = recorded

    def options(self) -> dict[str, Any]:
        """The options the form describes (ProjectError when a field cannot be read)."""
        raise NotImplementedError


class SqlSourceForm(SourceForm):
    secret_names = ("sql_password",)

    def compose(self) -> ComposeResult:
        opts = self.recorded
        mode = "server" if "server" in opts else "odbc" if "odbc" in opts else "sqlite"
        yield from field("Where the database is", Select(SQL_MODES, value=mode, allow_blank=False, id="sql-mode", compact=True))
        if "db_url" in opts:
            yield Static("Recorded as a database URL (helpmig init --db-url); saving here replaces it.", classes="field-help")
        with Vertical(id="sqlite-box"):
            yield from field("SQLite database file", Input(opts.get("sqlite", ""), id="sqlite", compact=True,
                                                           placeholder=r"C:\SmarterTrack\MRS\App_Data\SmarterTrack.db"))
        with Vertical(id="server-box"):
            yield from field("Server", Input(opts.get("server", ""), id="server", compact=True,
                                             placeholder=r"host\instance or host,port"))
            yield from field("Database", Input(opts.get("database", ""), id="database", compact=True))
            yield from self._driver_picker(opts.get("driver"))
            yield switch_row("trusted", "Windows authentication (the account running helpmig)",
                             bool(opts.get("trusted")) or not opts.get("user"))
            with Vertical(id="login-box"):
                yield from field("SQL login", Input(opts.get("user", ""), id="user", compact=True))
            yield switch_row("encrypt", "Encrypt the connection", opts.get("encrypt", True) is not False)
            yield switch_row("validate-cert", "Validate the server certificate (off accepts self-signed ones)",
                             opts.get("trust_server_certificate", True) is False)
            yield Static("ApplicationIntent=ReadOnly is always on: helpmig only reads from the source.", classes="field-help")
        with Vertical(id="odbc-box"):
            yield from field("ODBC connection string", Input(opts.get("odbc", ""), id="odbc", compact=True),
                             "without PWD=...: the password is asked below")
        with Vertical(id="password-box"):
            yield from secret_field("sql_password", "SQL password")
        yield from field("Attachments folder", Input(opts.get("attachments", ""), id="attachments", compact=True),
                         "App_Data (SmarterTrack) or the attachment share (Track-It!)")
        if self.platform == "smartertrack":
            yield from field("Table prefix", Input(opts.get("prefix", ""), id="prefix", placeholder="st_", compact=True))
        yield from field("Schema", Input(opts.get("schema", ""), id="schema", placeholder="dbo", compact=True))
        yield from field("Server time zone", Input(opts.get("timezone", ""), id="timezone", compact=True,
                                                   placeholder="Europe/Berlin, or 'local' for this machine's"),
                         "local times (Track-It!'s, SmarterTrack columns not named *Utc) are read in this zone")

    def _driver_picker(self, recorded: str | None) -> ComposeResult:
        """The installed SQL Server drivers, newest first; what is missing when there are none."""
        drivers = sql_server_drivers()
        first = f"Newest installed ({drivers.preferred})" if drivers.preferred else "No SQL Server driver found"
        choices = [(first, AUTO_DRIVER), *((name, name) for name in drivers.drivers)]
        if recorded and recorded not in drivers.drivers:
            choices.append((f"{recorded} (not installed here)", recorded))
        picker = Select(choices, value=recorded or AUTO_DRIVER, allow_blank=False, id="driver",
                        disabled=len(choices) == 1, compact=True)
        yield from field("ODBC driver", picker)
        if drivers.problem:
            note = Text(f"{drivers.problem} ({drivers.hint}). A SQLite file still works.", style="yellow")
            yield Static(note, id="driver-note", classes="field-help")

    def on_mount(self) -> None:
        self._show_mode()

    @on(Select.Changed, "#sql-mode")
    @on(Switch.Changed, "#trusted")
    def _show_mode(self) -> None:
        mode = self._mode()
        login = mode == "server" and not self._switched("#trusted")
        self.query_one("#sqlite-box").display = mode == "sqlite"
        self.query_one("#server-box").display = mode == "server"
        self.query_one("#odbc-box").display = mode == "odbc"
        self.query_one("#login-box").display = login
        self.query_one("#password-box").display = login or mode == "odbc"

    def _mode(self) -> str:
        return str(self.query_one("#sql-mode", Select).value)

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _switched(self, selector: str) -> bool:
        return self.query_one(selector, Switch).value

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"attachments": self._value("#attachments"), "schema": self._value("#schema")}
        if self.platform == "smartertrack":
            options["prefix"] = self._value("#prefix")
        options["timezone"] = self._value("#timezone")
        mode = self._mode()
        if mode == "sqlite":
            options["sqlite"] = self._value("#sqlite")
        elif mode == "odbc":
            options["odbc"] = self._value("#odbc")
        else:
            trusted = self._switched("#trusted")
            driver = self.query_one("#driver", Select).value
            options.update(
                server=self._value("#server"),
                database=self._value("#database"),
                driver=None if driver == AUTO_DRIVER else driver,
                trusted=trusted,
                user=None if trusted else self._value("#user"),
                encrypt=self._switched("#encrypt"),
                trust_server_certificate=not self._switched("#validate-cert"),
            )
        return options


class DeclaredSourceForm(SourceForm):
    """A form generated from the connector's `option_fields`; advanced ones folded away."""

    def __init__(self, platform: str, recorded: dict[str, Any]) -> None:
        super().__init__(platform, recorded)
        self.fields = form_fields(platform)
        self.secret_names = tuple(spec.name for spec in self.fields if spec.secret)

    def compose(self) -> ComposeResult:
        for spec in self.fields:
            if not spec.advanced:
                yield from self._field(spec)
        advanced = [spec for spec in self.fields if spec.advanced]
        if advanced:
            with Collapsible(title="Advanced", collapsed=True, id="advanced"):
                for spec in advanced:
                    yield from self._field(spec)

    def _field(self, spec: OptionField) -> ComposeResult:
        if spec.secret:
            yield from secret_field(spec.name, spec.label, spec.help)
            return
        value = self.recorded.get(spec.name, spec.default)
        widget_id = f"opt-{spec.name}"
        if spec.kind is OptionKind.BOOLEAN:
            yield switch_row(widget_id, spec.label, bool(value))
            return
        widget: Widget
        if spec.kind is OptionKind.CHOICE:
            chosen = value in spec.choices
            widget = Select([(c, c) for c in spec.choices], value=value if chosen else Select.NULL,
                            allow_blank=not chosen, id=widget_id, compact=True)
        elif spec.kind is OptionKind.JSON:
            widget = TextArea(json.dumps(value, indent=2) if value else "", id=widget_id, compact=True)
        else:
            kind = "integer" if spec.kind is OptionKind.INTEGER else "text"
            widget = Input("" if value is None else str(value), id=widget_id, type=kind, compact=True)
        yield from field(spec.label + (" (required)" if spec.required else ""), widget, spec.help)

    def options(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.fields:
            if spec.secret:
                continue
            widget = self.query_one(f"#opt-{spec.name}")
            if isinstance(widget, Select):
                values[spec.name] = None if widget.is_blank() else widget.value
            elif isinstance(widget, TextArea):
                values[spec.name] = widget.text
            elif isinstance(widget, (Input, Switch)):
                values[spec.name] = widget.value
        return declared_options(self.platform, values)
