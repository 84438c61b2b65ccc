"""Migration projects: create, open, list, and say where each one stands.

A project is a directory under the data dir holding `state.sqlite` and `reports/`.
This is the engine's front door: the CLI and the wizard both go through it.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Source, SourceError
from connectors.file_paths import absolute, shown
from connectors.local_time import zone_name
from connectors.option_fields import resolve_options
from connectors.registry import PLATFORMS, platform_label, source_class
from connectors.registry import open_source as open_registered_source
from helpmig_tui.settings import Paths, Secrets
from helpmig_tui.state import ProjectStore, StoreError
from helpmig_tui.state.models import FINISHED, Audit, FieldMap, FindingRow, JournalEntry, Run
from helpmig_tui.state.store import private_dir

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}
STALE_HEARTBEAT = timedelta(seconds=60)

# The wizard's steps in order: stage id -> (label, what to do next)
STAGES: dict[str, tuple[str, str]] = {
    "created": ("created", "audit the source (helpmig audit {p})"),
    "audited": ("audited", "settle the findings and confirm the field map (helpmig findings {p}; helpmig map {p})"),
    "mapped": ("map confirmed", "plan and run a sample load (helpmig plan {p}; helpmig load {p} --sample 5)"),
    "sampled": ("sample loaded", "run the full load (helpmig load {p})"),
    "loading": ("loading", "resume the load (helpmig load {p})"),
    "partially_loaded": ("partially loaded", "read the phase reports, fix what stopped the load, then run it again "
                                             "(helpmig load {p})"),
    "loaded": ("loaded", "validate the load (helpmig validate {p})"),
    "validated": ("validated", "run the delta and cut over (helpmig delta {p})"),
    "cutover": ("cut over", "keep the reports; the migration is done"),
    "rolling_back": ("rolling back", "finish the rollback (helpmig rollback {p} --all; --include-changed also "
                                     "removes what was changed in Intercom after the import)"),
    "rolled_back": ("rolled back", "fix the map or the source, then load again (helpmig load {p})"),
}
# Stages a full load has written into Intercom: a sample run does not move them back to "sampled"
LOADED_STAGES = frozenset({"loading", "partially_loaded", "loaded", "validated", "cutover", "rolling_back"})

SQL_PLATFORMS = {"smartertrack", "trackit"}
SQL_LOCATIONS = ("sqlite", "odbc", "server", "db_url")
REST_PLATFORMS = {"itsm365", "infraon"}
# The command line's names -> the names the REST and export connectors declare in `option_fields`.
OPTION_ALIASES = {"url": "base_url", "timezone": "time_zone"}
# Switches that are on unless switched off: False is a choice, so it is kept.
ON_BY_DEFAULT = {"encrypt", "trust_server_certificate", "verify_tls"}
DESTINATION_KEY = "intercom"  # in project.settings: the recorded Intercom workspace and region (destination.py)


class ProjectError(Exception):
    """Bad input for a project operation (a name, an option). Message is for the operator."""


def check_name(name: str) -> str:
    if not NAME_RE.match(name) or name.endswith(".") or name.lower().split(".")[0] in WINDOWS_RESERVED:
        raise ProjectError(
            f"invalid project name {name!r}: use letters, digits, '.', '_' or '-' (up to 64), "
            "starting with a letter or digit"
        )
    return name


def normalize_source_options(platform: str, options: dict[str, Any]) -> dict[str, Any]:
    """Check a platform's source options and make paths absolute. Never holds a secret."""
    if platform not in PLATFORMS:
        raise ProjectError(f"unknown source {platform!r}: choose one of {', '.join(PLATFORMS)}")
    opts = {
        key: value
        for key, value in options.items()
        if value is not None and value != "" and (value is not False or key in ON_BY_DEFAULT)
    }
    for key, value in opts.items():
        if isinstance(value, str):
            _check_utf8(key, value)
    if platform not in SQL_PLATFORMS:
        opts = {OPTION_ALIASES.get(key, key): value for key, value in opts.items()}
    odbc = str(opts.get("odbc", ""))
    if re.search(r"(?i)(^|;)\s*(pwd|password)\s*=", odbc):
        raise ProjectError(
            "the ODBC connection string holds a password; remove PWD=... and set HELPMIG_SQL_PASSWORD "
            "instead (helpmig never stores passwords)"
        )
    if platform in SQL_PLATFORMS:
        given = [key for key in SQL_LOCATIONS if key in opts]
        if len(given) != 1:
            raise ProjectError(
                f"{platform_label(platform)} needs exactly one of --sqlite FILE, --odbc STRING, "
                "--server HOST --database DB, or --db-url URL"
            )
        if "server" in opts and "database" not in opts:
            raise ProjectError("--server needs --database")
        if opts.get("trusted") and opts.get("user"):
            raise ProjectError("choose --trusted (Windows authentication) or --user (SQL login), not both")
    elif platform in REST_PLATFORMS:
        if "base_url" not in opts and not (platform == "itsm365" and "tenant" in opts):
            raise ProjectError(f"{platform_label(platform)} needs --url (the service's base URL)")
        if "base_url" in opts and not str(opts["base_url"]).startswith(("http://", "https://")):
            raise ProjectError(f"--url must start with https:// (got {opts['base_url']!r})")
    elif "folder" not in opts:
        raise ProjectError(f"{platform_label(platform)} needs --folder (the folder of CSV/XLSX exports)")
    for key in ("timezone", "time_zone"):
        if key in opts:  # recorded by its IANA name: `local` is this machine's, Windows names map
            try:
                opts[key] = zone_name(str(opts[key]))
            except SourceError as exc:
                raise ProjectError(f"{exc} ({exc.hint})") from None
    if platform not in SQL_PLATFORMS:
        _check_declared_options(platform, opts)
    for key in ("sqlite", "attachments", "folder"):
        if key in opts:
            _refuse_windows_path_elsewhere(key, str(opts[key]))
            opts[key] = absolute(str(opts[key]))  # as typed: a mapped drive stays a drive
    return opts


_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\]+\\)")  # C:\ or C:/, or \\server\share


def _refuse_windows_path_elsewhere(key: str, value: str) -> None:
    """A Windows path given on Linux or macOS (copied from the customer's server) would be
    taken as a name in the current folder: refused, saying so."""
    if os.name != "nt" and _WINDOWS_PATH.match(value):
        raise ProjectError(f"--{key} {value} is a Windows path, and this machine is not Windows: give the path as "
                           "this machine sees it (a mounted share's folder, or a copy of the file)")


def _check_utf8(key: str, value: str) -> None:
    """A name whose bytes are not UTF-8 (a Latin-1 file name on Linux) cannot be recorded:
    refused before the project folder is made (it was a UnicodeEncodeError, and an empty folder)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ProjectError(f"--{key.replace('_', '-')} {shown(value)} is not valid UTF-8 (its bad bytes shown as \\xNN); "
                           "rename it, or give a link to it whose name is UTF-8") from None


def _check_declared_options(platform: str, opts: dict[str, Any]) -> None:
    """Options of a connector that declares them (`option_fields`): known names, no secret,
    right types. A connector that cannot be imported is checked when it is opened."""
    try:
        fields = getattr(source_class(platform), "option_fields", None)
    except SourceError:
        return
    if fields is not None:
        try:
            resolve_options(platform_label(platform), fields, opts)
        except SourceError as exc:
            raise ProjectError(f"{exc}" + (f" ({exc.hint})" if exc.hint else "")) from None


def source_location(platform: str, options: dict[str, Any]) -> tuple[str, str | None]:
    """A one-line description of where the source is, and a problem if one is visible
    without connecting (a missing file or folder)."""
    problem = None
    if "sqlite" in options:
        where = f"SQLite file {options['sqlite']}"
        if Path(options["sqlite"]).is_dir():
            problem = f"the source is a folder, not a SQLite file: {options['sqlite']}"
        elif not Path(options["sqlite"]).is_file():
            problem = f"source file not found: {options['sqlite']}"
    elif "folder" in options:
        where = f"export folder {options['folder']}"
        if not Path(options["folder"]).is_dir():
            problem = f"export folder not found: {options['folder']}"
    elif "server" in options:
        auth = "Windows authentication" if options.get("trusted") else f"SQL login {options.get('user', '?')}"
        where = f"SQL Server {options['server']}, database {options.get('database')} ({auth})"
    elif "odbc" in options:
        where = "ODBC connection string"
    elif "db_url" in options:
        where = f"database URL {options['db_url']}"
    else:
        where = f"service {options.get('base_url') or options.get('tenant', '?')}"
    attachments = options.get("attachments")
    if attachments and problem is None and not Path(attachments).is_dir():
        problem = f"attachments folder not found: {attachments}"
    return where, problem


@dataclass
class RunSummary:
    id: int
    kind: str
    status: str
    started_at: str
    ended_at: str | None
    interrupted: bool
    sample: int | None = None  # a sample run's records per object (resume uses it)
    scope: str | None = None  # a rollback's: all | sample
    test_contact: str | None = None  # a sample's, when it had one

    def resume_command(self, project: str) -> str:
        return resume_command(project, self.kind, sample=self.sample, scope=self.scope, test_contact=self.test_contact)


def resume_command(project: str, kind: str, *, sample: int | None = None, scope: str | None = None,
                   test_contact: str | None = None) -> str:
    """The command (after `helpmig `) that picks an interrupted run of `kind` up again: a
    rollback of its own scope, not a load; a sample with its test contact."""
    if kind == "rollback":
        return f"rollback {project} --{scope or 'all'}"
    if kind == "delta":
        return f"delta {project}"
    return f"load {project}" + (f" --sample {sample}" if sample else "") + \
        (f" --test-contact {test_contact}" if sample and test_contact else "")


@dataclass
class ProjectStatus:
    name: str
    path: str
    platform: str
    platform_label: str
    stage: str
    stage_label: str
    next_step: str
    source: dict[str, Any]
    source_location: str
    source_problem: str | None
    intercom_url: str | None
    created_at: str
    updated_at: str
    schema_version: int
    last_run: RunSummary | None = None
    journal: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    map_version: int | None = None
    map_status: str | None = None
    destination: dict[str, Any] = field(default_factory=dict)  # the recorded workspace and region

    @property
    def resumable(self) -> bool:
        return self.last_run is not None and self.last_run.interrupted

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["resumable"] = self.resumable
        return data


def create_project(paths: Paths, name: str, platform: str, options: dict[str, Any]) -> ProjectStore:
    check_name(name)
    opts = normalize_source_options(platform, options)
    private_dir(paths.projects)
    store = ProjectStore.create(paths.state_file(name), name=name, platform=platform, source_options=opts)
    private_dir(paths.reports_dir(name))
    return store


def open_project(paths: Paths, name: str) -> ProjectStore:
    check_name(name)
    return ProjectStore.open(paths.state_file(name))


def open_source(store: ProjectStore, secrets: Secrets) -> Source:
    """The project's source connector, built from its recorded options and the secrets."""
    from helpmig_tui.mapping.export_headers import with_vocabulary

    project = store.project()
    return with_vocabulary(open_registered_source(project.platform, project.source_options, secrets.get))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _is_interrupted(run: Run, now: datetime, project_dir: Path) -> bool:
    """Paused, or marked running while no process holds the project's run lock for a run
    of its kind (an audit or a map edit may hold it meanwhile), or, when the lock cannot
    tell, with a heartbeat older than a minute."""
    from helpmig_tui.pipeline.runlock import held_elsewhere, read_holder

    if run.status == "paused":
        return True
    if run.status != "running":
        return False
    if (project_dir / "run.lock").exists():
        if not held_elsewhere(project_dir):
            return True
        holder = read_holder(project_dir)
        return holder is not None and holder.command != run.kind
    beat = run.heartbeat_at or run.started_at
    return now - beat > STALE_HEARTBEAT


def project_status(store: ProjectStore, now: datetime | None = None) -> ProjectStatus:
    """Where a project stands: its stage, its last run (and whether it was interrupted),
    journal counts by status, open findings by severity, and the map's state."""
    now = now or datetime.now(UTC)
    project = store.project()
    where, problem = source_location(project.platform, project.source_options)
    label, next_step = STAGES.get(project.stage, (project.stage, ""))
    next_step = next_step.format(p=project.name)
    status = ProjectStatus(
        name=project.name,
        path=str(store.path.parent),
        platform=project.platform,
        platform_label=platform_label(project.platform),
        stage=project.stage,
        stage_label=label,
        next_step=next_step,
        source=dict(project.source_options),
        source_location=where,
        source_problem=problem,
        intercom_url=project.intercom_url,
        created_at=_iso(project.created_at) or "",
        updated_at=_iso(project.updated_at) or "",
        schema_version=store.schema_version,
        destination=dict(project.settings.get(DESTINATION_KEY) or {}),
    )
    with store.reader() as session:
        run = session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
        if run is not None:
            interrupted = _is_interrupted(run, now, store.path.parent)
            status.last_run = RunSummary(
                run.id, run.kind, run.status, _iso(run.started_at) or "", _iso(run.ended_at), interrupted,
                (run.options or {}).get("sample"), (run.options or {}).get("scope"),
                (run.options or {}).get("test_contact"),
            )
            if interrupted:
                status.next_step = f"resume the interrupted {run.kind} run"
        status.journal = {
            row[0]: row[1]
            for row in session.execute(select(JournalEntry.status, func.count())
                                       .where(JournalEntry.kind != FINISHED).group_by(JournalEntry.status))
        }
        audit_id = session.scalar(select(func.max(Audit.id)).where(Audit.status == "done"))
        if audit_id is not None:
            status.findings = {
                row[0]: row[1]
                for row in session.execute(
                    select(FindingRow.severity, func.count())
                    .where(FindingRow.audit_id == audit_id, FindingRow.status == "open")
                    .group_by(FindingRow.severity)
                )
            }
        latest_map = session.scalars(select(FieldMap).order_by(FieldMap.version.desc()).limit(1)).first()
        if latest_map is not None:
            status.map_version, status.map_status = latest_map.version, latest_map.status
    return status


@dataclass
class ProjectListing:
    """One row of the project picker: the status, or why the project cannot be read."""

    name: str
    status: ProjectStatus | None
    error: str | None = None
    hint: str = ""


def list_projects(paths: Paths) -> list[ProjectListing]:
    """Every project under the data dir, in name order; unreadable ones say why.

    Listing never writes: a project with an older schema is reported, and upgraded only
    when it is opened.
    """
    if not paths.projects.is_dir():
        return []
    listings = []
    for directory in sorted(p for p in paths.projects.iterdir() if p.is_dir()):
        state = directory / "state.sqlite"
        if not state.exists():
            continue
        try:
            with ProjectStore.open(state, upgrade=False) as store:
                listings.append(ProjectListing(directory.name, project_status(store)))
        except StoreError as exc:
            listings.append(ProjectListing(directory.name, None, str(exc), exc.hint))
        except (OSError, SQLAlchemyError, ValueError) as exc:  # unreadable, damaged tables, invalid JSON
            first = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
            listings.append(ProjectListing(directory.name, None, f"{type(exc).__name__}: {first}",
                                           "helpmig did not change it; `helpmig status NAME` says more"))
    return listings
