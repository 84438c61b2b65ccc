"""A project's source connection: the options the Connect step edits, and the test.

The Connect step and `helpmig init` record the same options (checked by
`normalize_source_options`, never a secret). A test reaches the source with `check()`
and remembers the outcome for exactly the options it tested, so the wizard can say
"test the source before the audit" until the recorded options have passed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.base import SourceError
from connectors.option_fields import OptionField, OptionKind, plain_fields
from connectors.registry import open_source as open_registered_source
from connectors.registry import source_class
from connectors.sql import odbc
from helpmig_tui import redact
from helpmig_tui.mapping.export_headers import with_vocabulary
from helpmig_tui.project import SQL_PLATFORMS, ProjectError, normalize_source_options
from helpmig_tui.settings import Secrets
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Project

CHECK_KEY = "source_check"  # in project.settings: the last test of the recorded options


@dataclass(frozen=True)
class SourceCheck:
    """The outcome of a source test: one line, details, and what to do when it failed."""

    ok: bool
    summary: str
    details: tuple[str, ...] = ()
    hint: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # the normalized options tested
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def line(self) -> str:
        return self.summary + (f" ({self.hint})" if self.hint else "")


def check_source(platform: str, options: Mapping[str, Any], secrets: Secrets) -> SourceCheck:
    """Reach the source described by `options` (not yet saved, perhaps) and say what answered.

    Bad options and unreachable sources are outcomes, not exceptions: the wizard and the
    CLI show them as a line and a hint.
    """
    try:
        opts = normalize_source_options(platform, dict(options))
    except ProjectError as exc:
        return SourceCheck(False, redact.redact(str(exc)), options=dict(options))
    try:
        with with_vocabulary(open_registered_source(platform, opts, secrets.get)) as source:
            result = source.check()
    except SourceError as exc:
        return SourceCheck(False, redact.redact(str(exc)), hint=redact.redact(exc.hint), options=opts)
    details = tuple(redact.redact(line) for line in result.details)
    if not result.ok:  # a failed check's details say what to do
        return SourceCheck(False, redact.redact(result.summary), hint="; ".join(details), options=opts)
    return SourceCheck(True, redact.redact(result.summary), details, options=opts)


def update_source_options(store: ProjectStore, options: Mapping[str, Any]) -> dict[str, Any]:
    """Record new source options (validated; never a secret). A change forgets the last test."""
    with store.writing() as session:
        project = session.get(Project, 1)
        assert project is not None
        opts = normalize_source_options(project.platform, dict(options))
        if opts != project.source_options:
            project.source_options = opts
            project.settings = {key: value for key, value in project.settings.items() if key != CHECK_KEY}
    return opts


def set_source_time_zone(store: ProjectStore, name: str) -> str:
    """Record the zone the source's zone-less times are read in (an IANA or Windows name, or
    `local`: this machine's, recorded by name so every run reads the same); returns the name."""
    project = store.project()
    key = "timezone" if project.platform in SQL_PLATFORMS else "time_zone"
    options = {k: v for k, v in project.source_options.items() if k not in ("timezone", "time_zone")}
    return str(update_source_options(store, {**options, key: name})[key])


def record_source_check(store: ProjectStore, check: SourceCheck) -> bool:
    """Remember a test's outcome when it tested the options the project records now."""
    with store.writing() as session:
        project = session.get(Project, 1)
        assert project is not None
        if check.options != project.source_options:
            return False
        entry = {"ok": check.ok, "summary": check.line(), "checked_at": check.checked_at.isoformat(timespec="seconds")}
        project.settings = {**project.settings, CHECK_KEY: entry}
    return True


def recorded_source_check(store: ProjectStore) -> dict[str, Any] | None:
    """The last test of the recorded options: {ok, summary, checked_at}, or None."""
    return store.project().settings.get(CHECK_KEY)


# -- what the Connect step's source form asks ---------------------------------------------


def form_fields(platform: str) -> tuple[OptionField, ...]:
    """The connection form of a connector that declares one (REST and export sources)."""
    return tuple(getattr(source_class(platform), "option_fields", ()))


def declared_options(platform: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A generated form's values as options: typed by each field's kind, with empty fields
    and unchanged defaults left out, so the project records only what the operator chose."""
    chosen: dict[str, Any] = {}
    for spec in plain_fields(form_fields(platform)):
        value = values.get(spec.name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            continue
        if spec.kind is OptionKind.INTEGER and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        elif spec.kind is OptionKind.JSON and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ProjectError(f"{spec.label}: not valid JSON ({exc})") from None
        if value != spec.default:
            chosen[spec.name] = value
    return chosen


@dataclass(frozen=True)
class DriverChoice:
    """The SQL Server ODBC drivers on offer, best first, or why there are none."""

    drivers: tuple[str, ...]
    problem: str = ""  # one line for the operator when the list is empty
    hint: str = ""

    @property
    def preferred(self) -> str | None:
        return self.drivers[0] if self.drivers else None


def sql_server_drivers() -> DriverChoice:
    """The installed SQL Server drivers (18 before 17 before older), or what is missing."""
    try:
        drivers = odbc.sql_server_drivers()
    except SourceError as exc:
        return DriverChoice((), str(exc), exc.hint)
    if not drivers:
        return DriverChoice((), "no ODBC driver for SQL Server is installed", odbc.INSTALL_HINT)
    return DriverChoice(tuple(drivers))
