"""The command line: `helpmig` opens the wizard; every step also runs headless.

Exit codes: 0 success, 1 a run failed (or an unexpected error, its traceback in the log),
2 bad usage, bad input or a known condition (a full disk, a home that cannot be written, a
damaged project file), 130/143 stopped by Ctrl+C or a termination signal; one line on
stderr. Every command takes --home DIR, --json and -v. The guard at the edge
(cli_guard.py) keeps every traceback in the log; cli_stops.py turns every signal into a
safe stop. Start-up stays fast: this module imports only argparse and what it must; the
engine, Rich and Textual are imported by the commands that use them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from helpmig_tui import __version__, redact

if TYPE_CHECKING:
    from helpmig_tui.settings import Paths

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

PLATFORM_CHOICES = ("smartertrack", "trackit", "itsm365", "infraon", "smart-export")
RUN_EXITS = ("exit codes: 0 the run ended clean (every record created, updated, skipped by the scope, or rejected "
             "for a reason the audit foresaw within the threshold); 1 it did not: failures, writes in doubt, a gate, "
             "or rejections nobody foresaw (--yes goes past gates, not past the exit code); 2 bad usage or input")


class UsageError(Exception):
    """Bad input from the operator: exit 2 with this one-line message."""


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--home", metavar="DIR", default=default, type=_folder,
                        help="data dir for projects and logs (or HELPMIG_HOME)")
    parser.add_argument("--json", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="print JSON (ASCII-escaped)")
    parser.add_argument("-v", "--verbose", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="show the log's lines on stderr as well")


def _folder(text: str) -> str:
    """An argparse type: a folder's name, never empty (an empty --home fell back to the
    default home without a word, so a script's unset variable wrote somewhere else)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name: give a folder (or leave the option out)")
    return text


def _epilog() -> str:
    """Where the log is and what the exit codes mean, for --help."""
    home = os.environ.get("HELPMIG_HOME")
    if home:
        where = os.path.join(home, "logs")
    elif os.name == "nt":
        where = r"%LOCALAPPDATA%\helpmig\Logs"
    else:
        where = "~/.local/state/helpmig/log"
    return (f"Log: one file per run in {where} (with --home DIR: DIR/logs); every error names it. "
            "Exit codes: 0 done, 1 a run failed or an unexpected error, 2 bad input or a known problem "
            "(full disk, unwritable home, damaged project file), 130 stopped by Ctrl+C, 143 by a termination "
            "signal (SIGTERM, SIGHUP, console closed, logoff).")


def _whole(one: str = "", many: str = "", *, low: int = 1, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, refused in the option's own
    unit (one second, N records per object) before the command starts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number{' of ' + many if many else ''}, not {text!r}") from None
        if high is None and value < low:
            raise argparse.ArgumentTypeError(f"at least {low} {one if low == 1 else many}".rstrip() + f", not {value}")
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"from {low} to {high} {many}".rstrip() + f", not {value}")
        return value

    return parse


_SECONDS = _whole("second", "seconds")
_SAMPLE = _whole("record per object", "records per object")
MAX_DEMO_TICKETS = 200_000  # the largest demo the benchmarks run (bench/load.py memory, scope)


def _project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="P", help="the project's name")


def _codec_name(name: str | None) -> str | None:
    """An encoding as Python names it (windows-1251 -> cp1251); the connector says which it reads."""
    import codecs

    from helpmig_tui.project import ProjectError

    if name is None or name.strip().lower() == "auto":
        return name and "auto"
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise ProjectError(f"unknown encoding {name!r} (use a name such as utf-8, utf-16, cp1251 or windows-1252)") from None


def _init_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, choices=PLATFORM_CHOICES, help="the helpdesk to migrate from")
    sql = parser.add_argument_group("SQL sources (smartertrack, trackit)")
    sql.add_argument("--sqlite", metavar="FILE", help="a SQLite database file (SmarterTrack's default engine)")
    sql.add_argument("--odbc", metavar="STRING", help="an ODBC connection string, without the password")
    sql.add_argument("--server", metavar="HOST", help=r"SQL Server: host\instance or host,port")
    sql.add_argument("--database", metavar="DB", help="SQL Server database name")
    sql.add_argument("--trusted", action="store_true", help="Windows authentication")
    sql.add_argument("--user", metavar="U", help="SQL login (read-only db_datareader is enough); its password "
                     "from `helpmig secret set sql_password`, HELPMIG_SQL_PASSWORD, or a hidden prompt")
    sql.add_argument("--driver", metavar="NAME", help="ODBC driver (default: the newest installed SQL Server driver)")
    sql.add_argument("--encrypt", choices=("yes", "no", "strict"),
                     help="encrypt the connection: yes (default), no, or strict (ODBC Driver 18, TDS 8)")
    cert = sql.add_mutually_exclusive_group()
    cert.add_argument("--trust-server-certificate", dest="trust_server_certificate", action="store_const", const=True,
                      help="accept the server's certificate as it is (default: on-prem servers are self-signed)")
    cert.add_argument("--validate-certificate", dest="trust_server_certificate", action="store_const", const=False,
                      help="check the server's certificate against the trusted authorities")
    sql.add_argument("--login-timeout", type=_SECONDS, metavar="S", help="seconds to wait for the login (default 15)")
    sql.add_argument("--query-timeout", type=_SECONDS, metavar="S",
                     help="seconds one audit or read query may run (default 600)")
    sql.add_argument("--snapshot", action="store_true", default=None,
                     help="read under SNAPSHOT isolation (a consistent view that does not block the helpdesk) "
                          "where the database allows it")
    sql.add_argument("--db-url", metavar="URL", help="any SQLAlchemy database URL")
    sql.add_argument("--schema", metavar="NAME", help="database schema (default dbo)")
    sql.add_argument("--prefix", metavar="PREFIX", help="SmarterTrack table prefix (default st_)")
    sql.add_argument("--attachments", metavar="DIR", help="where the attachment files are (App_Data, FileStorageData)")
    other = parser.add_argument_group("REST and export sources (itsm365, infraon, smart-export)")
    other.add_argument("--url", metavar="URL", help="the service's base URL")
    other.add_argument("--username", metavar="NAME", help="Infraon login for token authentication")
    other.add_argument("--folder", metavar="DIR", help="a folder of CSV/XLSX exports")
    other.add_argument("--option", action="append", metavar="NAME=VALUE",
                       help="any other option of the source's form, e.g. incident_types=serviceCall$call "
                            "(ITSM 365) or system_entries=skip (Infraon); repeat for several")
    other.add_argument("--encoding", metavar="NAME",
                       help="smart-export: the encoding of the CSV files (utf-8, utf-16, cp1251, windows-1252, ...; "
                            "default: decided from each file)")
    parser.add_argument("--timezone", metavar="TZ", help="the source's time zone, e.g. Europe/Berlin")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpmig",
        description="Move a helpdesk into Intercom: audit, confirmed mapping, phased resumable load, "
        "validation, rollback. With no command, opens the wizard.",
        epilog=_epilog(),
    )
    parser.add_argument("--version", action="version", version=f"helpmig {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, epilog=_epilog())
        _common(cmd, top=False)
        cmd.set_defaults(handler=handler)
        return cmd

    demo = command("demo", "generate a sample source and walk the whole flow against a local Intercom sandbox",
                   _run("cmd_demo"))
    demo.add_argument("--headless", action="store_true", help="run the flow without the wizard and print the result")
    demo.add_argument("--tickets", type=_whole("ticket", "tickets", high=MAX_DEMO_TICKETS), default=200, metavar="N",
                      help=f"size of the sample source (1 to {MAX_DEMO_TICKETS:,}; default 200)")
    demo.add_argument("--source", choices=PLATFORM_CHOICES, default="smartertrack", help="which platform to imitate")
    demo.add_argument("--new", action="store_true",
                      help="make a new demo project (by default the wizard reopens the last one of this platform)")

    command("projects", "list the migration projects and where each stands", cmd_projects)

    init = command("init", "create a migration project and record where its source is", cmd_init)
    _project_arg(init)
    _init_options(init)

    connect = command("connect", "record and test the Intercom destination (token from HELPMIG_INTERCOM_TOKEN)", cmd_connect)
    _project_arg(connect)
    where = connect.add_mutually_exclusive_group()
    where.add_argument("--intercom-url", metavar="URL", help="any Intercom-compatible base URL")
    where.add_argument("--region", choices=("us", "eu", "au"), help="the workspace's region")

    audit = command("audit", "audit the source: modules, counts, data-quality findings, scope document", cmd_audit)
    _project_arg(audit)
    audit.add_argument("--timezone", metavar="TZ",
                       help="first record the zone of the source's local times (Europe/Berlin, a Windows name, "
                            "or 'local' to accept this machine's)")

    found = command("findings", "list the audit's findings; acknowledge or waive them (the wizard's Audit step)",
                    cmd_findings)
    _project_arg(found)
    decision = found.add_mutually_exclusive_group()
    decision.add_argument("--acknowledge", nargs="+", metavar="ID",
                          help="finding ids to acknowledge, or 'checklist' for every pre-flight checklist item")
    decision.add_argument("--waive", metavar="ID", help="a finding id to waive (with --note saying why)")
    decision.add_argument("--reopen", nargs="+", metavar="ID", help="finding ids to open again")
    found.add_argument("--note", metavar="TEXT", help="why a finding is waived (or a note for an acknowledgement)")
    found.add_argument("--all", action="store_true", help="list notes (info) too, not only blockers and warnings")

    mapping = command("map", "propose, review, confirm, export or import the field map", cmd_map)
    _project_arg(mapping)
    action = mapping.add_mutually_exclusive_group(required=True)
    action.add_argument("--propose", action="store_true", help="propose a map from the audit")
    action.add_argument("--show", action="store_true", help="show the current map")
    action.add_argument("--confirm", nargs="+", metavar="ITEM", help="'all' or OBJECT.FIELD ...")
    action.add_argument("--export", metavar="FILE", help="write the map to a TOML or JSON file")
    action.add_argument("--import", dest="import_file", metavar="FILE", help="read a map from a TOML or JSON file")
    action.add_argument("--include", metavar="OBJECT:CODE",
                        help="drop a scope rule of the map: include the records it leaves out "
                             "(kb_articles:article.private loads private articles as drafts)")
    mapping.add_argument("--llm", action="store_true", help="ask the configured LLM endpoint as well")
    mapping.add_argument("--min-confidence", type=float, metavar="X", help="with --confirm: only rows at or above X")

    plan = command("plan", "show the phases, the API-call budget, the ETA and the reconciliation queue", _run("cmd_plan"))
    _project_arg(plan)
    plan.add_argument("--match", action="extend", nargs="+", metavar="OBJECT:KEY=ID",
                      help="match agents or groups to admins or teams (repeatable)")
    plan.add_argument("--skip", action="extend", nargs="+", metavar="OBJECT:KEY",
                      help="agents or groups to leave unmatched on purpose (repeatable)")
    plan.add_argument("--fallback-admin", metavar="ID", help="the admin for every agent left unmatched")
    plan.add_argument("--fallback-contact", metavar="EMAIL", help="the requester of tickets whose requester is missing")

    load = command("load", "load into Intercom, phase by phase (resumes where it stopped)", _run("cmd_load"))
    load.epilog = RUN_EXITS
    _project_arg(load)
    load.add_argument("--sample", type=_SAMPLE, metavar="N", help="load only N records per object")
    load.add_argument("--phase", metavar="NAME", help="run only this phase")
    load.add_argument("--yes", action="store_true", help="do not ask; go on past phases that are not clean")
    load.add_argument("--test-contact", metavar="EMAIL", help="with --sample: every conversation goes to this contact")
    load.add_argument("--max-rejected", type=float, metavar="PCT",
                      help="rejections the audit foresaw that a phase may have and still be clean, in percent of its "
                           "records (default 2, or the project's setting); remembered for the project and validate")

    validate = command("validate", "read a random sample back from Intercom and compare it field by field",
                       _run("cmd_validate"))
    validate.epilog = ("exit codes: 0 every kind the load wrote was checked and is under the threshold; 1 it is not; "
                       "2 nothing to check yet (nothing of the project is in Intercom) or bad input")
    _project_arg(validate)
    validate.add_argument("--sample", type=_SAMPLE, default=50, metavar="N", help="records per object (default 50)")
    validate.add_argument("--max-rejected", type=float, metavar="PCT",
                          help="records of an object that may be missing from Intercom because they were rejected, in "
                               "percent (default: what the last load allowed, else 2); failed or in-doubt ones never")

    delta = command("delta", "load what was created or changed in the source since the load began", _run("cmd_delta"))
    delta.epilog = RUN_EXITS
    _project_arg(delta)
    delta.add_argument("--max-rejected", type=float, metavar="PCT", help="as for load")
    delta.add_argument("--deleted", choices=("leave", "close", "delete"),
                       help="what to do in Intercom with records deleted, marked spam or merged in the source since "
                            "they were loaded (listed either way; without it they wait for this choice)")

    rollback = command("rollback", "remove what this project created in Intercom", _run("cmd_rollback"))
    rollback.epilog = "exit codes: 0 everything in scope was removed or archived; 1 something could not be; 2 bad input"
    _project_arg(rollback)
    scope = rollback.add_mutually_exclusive_group()
    scope.add_argument("--sample", action="store_true", help="only what the sample run created")
    scope.add_argument("--all", action="store_true", help="everything this project created")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rollback.add_argument("--include-changed", action="store_true",
                          help="also remove objects someone changed in Intercom after the import")

    report = command("report", "write the summary report and list the project's reports", _run("cmd_report"))
    _project_arg(report)
    report.add_argument("--bundle", metavar="FILE",
                        help="also write the evidence bundle: one zip with the project state (secrets masked and "
                             "checked), every report, the map versions, the run timeline and the redacted logs; "
                             "a folder gets it as helpmig-evidence-P-TIME.zip; outside the project's folder, and "
                             "it replaces only an earlier bundle of the project")
    report.epilog = "exit codes: 0 written; 1 the bundle was refused (a secret would be in it); 2 bad input"

    status = command("status", "show where a project stands", cmd_status)
    _project_arg(status)

    sandbox = command("sandbox", "run the local Intercom sandbox over HTTP (rehearsals, benchmarks)", cmd_sandbox)
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=_whole(low=1, high=65535), default=8765, metavar="N",
                         help="TCP port to listen on (default 8765)")
    sandbox.add_argument("--rate-limit", type=_whole("request", "requests", low=0), default=1667, metavar="N",
                         help="requests per 10-second window per token (default 1667, Intercom's 10,000 a minute "
                              "per app; 0 turns every limit off)")
    sandbox.add_argument("--workspace-rate-limit", type=_whole("request", "requests", low=0), default=4167, metavar="N",
                         help="requests per 10-second window, all tokens (default 4167, 25,000 a minute)")
    sandbox.add_argument("--search-lag", type=float, default=0.0, metavar="S",
                         help="seconds before a new contact or conversation shows up in search (Intercom: minutes)")
    sandbox.add_argument("--latency-ms", type=_whole("millisecond", "milliseconds", low=0), default=0, metavar="N",
                         help="added to every answer")
    sandbox.add_argument("--faults", type=float, default=0.0, metavar="RATE",
                         help="share of writes that fail (before or after being applied, or dropped)")
    sandbox.add_argument("--seed", type=int, default=0, help="seed of the random faults")
    sandbox.add_argument("--state", metavar="FILE", help="keep the sandbox's data in this SQLite file")
    sandbox.add_argument("--token", metavar="T[,T...]", help="accept only these tokens (default: any)")

    secret = command("secret", "keep a secret (the Intercom token, a password) in the OS credential store",
                     cmd_secret)
    secret.add_argument("action", choices=("set", "delete"), help="set: typed at a hidden prompt; delete: forget it")
    secret.add_argument("name", metavar="NAME", help="intercom_token, sql_password, itsm365_access_key, "
                        "infraon_api_key, infraon_password or llm_api_key")

    bundle = command("bundle", "build the offline install bundle (a zip of wheels and install scripts) for a "
                     "server without internet; run from a source checkout with the package registry", cmd_bundle)
    bundle.add_argument("--out", required=True, metavar="DIR", help="where to write helpmig-VERSION-PLATFORM.zip")
    bundle.add_argument("--platform", choices=("win_amd64", "current"), default="win_amd64",
                        help="win_amd64 (default) or current: this machine, with install.sh")
    bundle.add_argument("--python", metavar="X.Y[,X.Y]", help="Python versions (default: 3.11,3.12,3.13 for "
                        "win_amd64; the running one for current)")
    return parser


# -- output -----------------------------------------------------------------------


def _emit(args: argparse.Namespace, data: Any, text: str | Sequence[Any]) -> None:
    """The result on stdout: JSON with --json, else the text (lines and cli_output.Tables)."""
    from helpmig_tui.cli_output import json_text, print_result

    if getattr(args, "console", None) is not None:
        args.console.close()  # a terminal's status line goes before the result
    if args.json:
        print(json_text(data))
    else:
        print_result(text)


def _fail(message: str, hint: str = "", code: int = EXIT_USAGE) -> int:
    from helpmig_tui.cli_guard import ERRORS

    ERRORS.say(message, hint, code)
    return code


@contextmanager
def _project_lock(args: argparse.Namespace, command: str) -> Iterator[None]:
    """The project's run lock while a command changes what a run reads (the map, the
    reconciliation queue, the audit's findings): refused in one line while a run of the
    project goes on."""
    from helpmig_tui.pipeline.runlock import RunLock, RunLockBusy

    try:
        lock = RunLock(_paths(args).project_dir(args.project), command).__enter__()
    except RunLockBusy as exc:
        raise UsageError(f"{exc}: wait for it to finish, or stop it there (Ctrl+C in its window)") from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


# -- commands ---------------------------------------------------------------------


def _run(name: str) -> Callable[[argparse.Namespace], int]:
    """A run command from cli_pipeline, imported when used (it pulls the whole engine)."""

    def handler(args: argparse.Namespace) -> int:
        with _imports_kept():
            from helpmig_tui import cli_pipeline

        return getattr(cli_pipeline, name)(args)

    return handler


@contextmanager
def _imports_kept() -> Iterator[None]:
    """The engine's first import without the cycle collector, its objects then frozen out of reach.

    Importing the engine leaves some 73,000 objects the collector tracks (modules, classes,
    functions, validators) that live as long as the process: it ran about 190 times over
    them while they were made, to find fewer than a thousand to free (about 30 ms of the
    imports, bench/README.md). `gc.freeze()` moves them to the permanent generation,
    so the run's collections see only what the run makes. Only a process's first import:
    a process that already holds the engine (the tests) keeps its collector as it was.
    """
    import gc

    if "helpmig_tui.cli_pipeline" in sys.modules:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _paths(args: argparse.Namespace) -> Paths:
    from helpmig_tui.settings import resolve_paths

    return resolve_paths(args.home)


def _secrets(args: argparse.Namespace):  # -> Secrets
    """The process's secrets: a password asked at a hidden prompt when on a terminal."""
    from helpmig_tui.cli_secrets import prompting_secrets

    if getattr(args, "secrets", None) is None:
        args.secrets = prompting_secrets()
    return args.secrets


def _console(args: argparse.Namespace):  # -> Console
    from helpmig_tui.cli_output import Console

    if getattr(args, "console", None) is None:
        args.console = Console()
    return args.console


def _heartbeat(args: argparse.Namespace, label: str):  # -> Heartbeat
    from helpmig_tui.cli_output import Heartbeat

    return Heartbeat(_console(args), label)


def cmd_projects(args: argparse.Namespace) -> int:
    from helpmig_tui.project import list_projects

    listings = list_projects(_paths(args))
    data = [
        {"name": item.name, "error": item.error, "hint": item.hint, **(item.status.to_dict() if item.status else {})}
        for item in listings
    ]
    if not listings:
        text = f"No projects yet under {_paths(args).projects}. Create one with: helpmig init NAME --source PLATFORM ..."
    else:
        from helpmig_tui.cli_output import Table

        rows = []
        for item in listings:
            if item.status is None:
                rows.append((item.name, "", f"cannot be read: {item.error}"))
            else:
                st = item.status
                resume = f" (interrupted: `helpmig load {item.name}` resumes)" if st.resumable else ""
                rows.append((item.name, st.platform_label, st.stage_label + resume))
        text = [Table(("Project", "Source", "Stage"), rows)]
    _emit(args, data, text)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from helpmig_tui.project import create_project, project_status

    options = {
        key: getattr(args, key)
        for key in (
            "sqlite", "odbc", "server", "database", "trusted", "user", "driver", "db_url", "schema",
            "prefix", "attachments", "url", "username", "folder", "encoding", "timezone", "trust_server_certificate",
            "login_timeout", "query_timeout", "snapshot",
        )
    }
    options["encoding"] = _codec_name(options["encoding"])
    for item in args.option or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--option takes NAME=VALUE, not {item!r}")
        options[name.strip()] = value.strip()
    if args.encrypt is not None:  # the wizard's switch keeps True/False; strict has no switch
        options["encrypt"] = {"yes": True, "no": False}.get(args.encrypt, args.encrypt)
    sql_only = [f"--{key.replace('_', '-')}" for key in ("encrypt", "login_timeout", "query_timeout", "snapshot")
                if getattr(args, key) is not None] + (["--trust-server-certificate/--validate-certificate"]
                                                      if args.trust_server_certificate is not None else [])
    if sql_only and not (args.server or args.odbc):
        raise UsageError(f"{', '.join(sql_only)} go with a SQL Server source (--server or --odbc)")
    paths = _paths(args)
    with create_project(paths, args.project, args.source, options) as store:
        status = project_status(store)
    text = f"Created project {status.name} ({status.platform_label}) in {status.path}\nSource: {status.source_location}"
    if status.source_problem:
        text += f"\nNote: {status.source_problem} (recorded anyway; it is checked again before the audit)"
    text += f"\nNext: {status.next_step}"
    _emit(args, status.to_dict(), text)
    return EXIT_OK


def _destination_line(url: str | None, recorded: dict[str, Any]) -> str:
    if not url:
        return "not connected yet"
    if not recorded:
        return url
    where = f", region {recorded['workspace_region']}" if recorded.get("workspace_region") else ""
    return f"{url} (workspace {recorded.get('workspace')}{where}, checked {recorded.get('checked_at')})"


def cmd_status(args: argparse.Namespace) -> int:
    from helpmig_tui.project import open_project, project_status

    from helpmig_tui.pipeline.runlock import held_elsewhere, read_holder

    paths = _paths(args)
    with open_project(paths, args.project) as store:
        status = project_status(store)
    running = read_holder(paths.project_dir(args.project)) if held_elsewhere(paths.project_dir(args.project)) else None
    lines = [
        f"Project {status.name} ({status.platform_label}), {status.path}",
        f"Stage: {status.stage_label}",
        f"Source: {status.source_location}",
    ]
    if status.source_problem:
        lines.append(f"  problem: {status.source_problem}")
    lines.append(f"Intercom: {_destination_line(status.intercom_url, status.destination)}")
    if status.findings:
        lines.append("Open findings: " + ", ".join(f"{n} {sev}" for sev, n in sorted(status.findings.items())))
    if status.map_version:
        lines.append(f"Field map: version {status.map_version}, {status.map_status}")
    if status.last_run:
        run = status.last_run
        state = "interrupted" if run.interrupted else run.status
        lines.append(f"Last run: #{run.id} {run.kind}, {state}, started {run.started_at}")
        if run.interrupted:
            lines.append(f"  resume it with `helpmig {run.resume_command(args.project)}`")
    if running is not None:
        lines.append(f"Running now: {running.describe()}")
    if status.journal:
        lines.append("Journal: " + ", ".join(f"{n} {st}" for st, n in sorted(status.journal.items())))
    lines.append(f"Next: {status.next_step}")
    data = status.to_dict()
    data["running"] = {"command": running.command, "pid": running.pid} if running else None
    _emit(args, data, "\n".join(lines))
    return EXIT_OK


# Destination errors that are the operator's input to fix (exit 2); the rest are failures (exit 1).
_BAD_DESTINATION_INPUT = {
    "destination.token_missing", "destination.token_rejected", "destination.bad_url", "destination.bad_region",
    "destination.wrong_region", "destination.forbidden", "destination.not_intercom", "destination.bad_token", "destination.tls_failed",
}


def cmd_connect(args: argparse.Namespace) -> int:
    from helpmig_tui.destination import (
        DestinationError,
        check_destination_sync,
        default_destination,
        record_destination,
        resolve_destination,
    )
    from helpmig_tui.project import open_project
    from helpmig_tui.settings import Settings

    with open_project(_paths(args), args.project) as store:
        try:
            if args.intercom_url or args.region:
                destination = resolve_destination(args.region, args.intercom_url)
            else:
                destination = default_destination(store, Settings.from_env())
            tokens = _secrets(args).intercom_tokens()
            with _heartbeat(args, f"connect: testing the token at {destination.base_url}"):
                check = check_destination_sync(destination, tokens)
        except DestinationError as exc:
            return _fail(str(exc), exc.hint, EXIT_USAGE if exc.code in _BAD_DESTINATION_INPUT else EXIT_FAILED)
        record_destination(store, check)
    text = "\n".join([*check.summary_lines(), f"Recorded the destination of {args.project}: {check.base_url}"])
    _emit(args, check.to_dict(), text)
    return EXIT_OK


class _ProgressLine:
    """Progress of a step on the console: redrawn on a terminal, a line per step otherwise."""

    def __init__(self, args: argparse.Namespace, label: str) -> None:
        self.label = label
        self.console = _console(args)
        self.last = ""

    def __call__(self, step: str, done: int, total: int) -> None:
        line = f"{self.label}: {step} ({done}/{total})"
        if line != self.last:
            self.last = line
            self.console.status(line)


def cmd_audit(args: argparse.Namespace) -> int:
    from helpmig_tui.audit import run_audit
    from helpmig_tui.audit_store import save_audit
    from helpmig_tui.project import open_project, open_source
    from helpmig_tui.reports import AFFECTED_RECORDS, write_audit_reports

    paths = _paths(args)
    progress = _ProgressLine(args, "audit")
    args.guard.resume = f"run `helpmig audit {args.project}` to start it again (nothing was saved)"
    # the findings are what a run's verdicts foresee: never rewritten under a running load
    with open_project(paths, args.project) as store, _project_lock(args, "audit"):
        if args.timezone:
            from helpmig_tui.source_connection import set_source_time_zone

            print(f"Source time zone: {set_source_time_zone(store, args.timezone)}", file=sys.stderr)
        with _heartbeat(args, "audit"), open_source(store, _secrets(args)) as source:
            result = run_audit(source, progress=lambda p: progress(p.step, p.done, p.total))
        audit_id = save_audit(store, result)
    scope, findings_csv = write_audit_reports(paths.reports_dir(args.project), args.project, result)
    affected = scope.parent / AFFECTED_RECORDS
    counts = result.severity_counts()
    data = {
        "audit_id": audit_id,
        "platform": result.platform,
        "objects": [
            {"name": o.spec.name, "role": o.spec.role.value, "count": o.profile.count,
             "first": o.profile.first_created, "last": o.profile.last_created}
            for o in result.objects
        ],
        "findings": [
            {"code": f.code, "severity": f.severity.value, "object": f.object, "count": f.count,
             "message": f.message, "keys": list(f.keys)}
            for f in result.findings
        ],
        "severity": counts,
        "reports": {"scope": str(scope), "findings": str(findings_csv),
                    **({"affected_records": str(affected)} if affected.is_file() else {})},
    }
    from helpmig_tui.cli_output import Table

    lines: list[Any] = [f"Audit of {args.project}: {len(result.objects)} objects",
                        Table(("Object", "Records"), [(o.spec.label or o.spec.name, o.profile.count)
                                                      for o in result.objects], frozenset({1}))]
    lines.append(f"Findings: {counts['blocker']} blockers, {counts['warning']} warnings, {counts['info']} notes")
    for f in result.findings:  # a blocker says how it is settled
        if f.severity.value != "info":
            lines.append(f"  [{f.severity.value}] {f.message}")
        if f.severity.value == "blocker" and f.detail:
            lines.append(f"      {f.detail}")
    lines.append(f"Scope document: {scope}")
    lines.append(f"Findings with affected records: {findings_csv}")
    if affected.is_file():
        lines.append(f"Every record the findings name, with its number: {affected}")
    _emit(args, data, lines)
    return EXIT_OK


def cmd_findings(args: argparse.Namespace) -> int:
    from helpmig_tui import cli_findings

    try:
        data, text = cli_findings.run(args)
    except cli_findings.FindingsUsage as exc:
        return _fail(str(exc))
    _emit(args, data, text)
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    import errno

    from connectors.intercom.sandbox.server import listen, serve

    if not 0 <= args.faults < 1:
        raise UsageError("--faults is a share of requests: 0 <= RATE < 1")
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {args.port} on {args.host} is in use (another sandbox?); choose another with "
                             "--port") from None
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
                         "--host takes an address of this machine") from None
    workspace = args.workspace_rate_limit if args.rate_limit else 0  # --rate-limit 0: no limit at all
    limits = (f"{args.rate_limit} requests per 10 s per token, {workspace or 'no'} for the workspace"
              if args.rate_limit else "no rate limit")
    print(
        f"Intercom sandbox on http://{args.host}:{args.port} ({limits}, {args.latency_ms} ms latency, "
        f"faults {args.faults:.0%}; every request held to Intercom's API description, violations at "
        f"/__sandbox/report). Use it with HELPMIG_INTERCOM_URL=http://{args.host}:{args.port}; ctrl+c stops.",
        file=sys.stderr,
        flush=True,
    )
    with sock:
        serve(args.host, args.port, rate_limit=args.rate_limit, workspace_rate_limit=workspace,
              latency_ms=args.latency_ms, faults=args.faults, fault_seed=args.seed, state_path=args.state,
              token=args.token, search_lag=args.search_lag, sock=sock)
    return EXIT_OK


def cmd_secret(args: argparse.Namespace) -> int:
    from helpmig_tui.cli_secrets import read_hidden
    from helpmig_tui.settings import SECRET_ENV, Secrets, keyring_label, secret_name

    try:
        name = secret_name(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    secrets, store = Secrets(), keyring_label()
    if not secrets.keyring_available():
        return _fail(f"{store}: nothing was {'stored' if args.action == 'set' else 'removed'}",
                     f"set {SECRET_ENV[name]} for this session only; a command that needs a password asks for "
                     "it at a hidden prompt")
    if args.action == "delete":
        found = secrets.delete_from_keyring(name)
        _emit(args, {"name": name, "store": store, "deleted": found},
              f"Removed {name} from {store}." if found else f"{store} holds no {name}; nothing to remove.")
        return EXIT_OK
    value = read_hidden(f"{name} (hidden; Enter to finish): ").strip()
    if not value:
        return _fail(f"nothing typed: {name} was not stored")
    try:
        secrets.save_to_keyring(name, value)
    except Exception as exc:  # the store's own refusal (e.g. a Credential Manager error): one line
        return _fail(f"{store} refused to store {name}: {exc}", code=EXIT_FAILED)
    lines = [f"Stored {name} ({redact.mask(value)}) in {store}; helpmig reads it from there."]
    if SECRET_ENV[name] in os.environ:
        lines.append(f"Note: {SECRET_ENV[name]} is set in this environment and is used first.")
    _emit(args, {"name": name, "store": store, "stored": True}, "\n".join(lines))
    return EXIT_OK


def cmd_bundle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from helpmig_tui.bundle import BundleError, build_bundle, parse_pythons

    console = _console(args)
    try:
        with _heartbeat(args, "bundle"):
            result = build_bundle(Path(args.out), args.platform, parse_pythons(args.python, args.platform),
                                  progress=lambda line: console.line(f"bundle: {line}"))
    except BundleError as exc:
        return _fail(str(exc), exc.hint)
    text = (f"Wrote {result.zip_path} ({result.size / 2**20:.1f} MB, {len(result.wheels)} wheels) for Python "
            f"{', '.join(result.pythons)} on {result.platform}. On the server: unzip it, run "
            + ("install.cmd, then helpmig.cmd." if args.platform == "win_amd64" else "sh install.sh, then sh helpmig.sh."))
    _emit(args, {"zip": str(result.zip_path), "platform": result.platform, "pythons": result.pythons,
                 "wheels": result.wheels, "bytes": result.size}, text)
    return EXIT_OK


def _map_checks(args: argparse.Namespace) -> None:
    if args.llm and not args.propose:
        raise UsageError("--llm goes with --propose")
    if args.min_confidence is not None:
        if not args.confirm:
            raise UsageError("--min-confidence goes with --confirm")
        if not 0.0 <= args.min_confidence <= 1.0:
            raise UsageError(f"--min-confidence must be between 0 and 1 (got {args.min_confidence:g})")
    if args.confirm and "all" in args.confirm and len(args.confirm) > 1:
        raise UsageError("--confirm takes 'all' or OBJECT.FIELD items, not both")


def cmd_map(args: argparse.Namespace) -> int:
    from dataclasses import asdict
    from pathlib import Path

    from helpmig_tui.mapping.evidence import evidence_from_store
    from helpmig_tui.mapping.exchange import MapFileError, export_map, import_map
    from helpmig_tui.mapping.schema_plan import plan_schema
    from helpmig_tui.mapping.summary import map_data, map_lines, plan_lines, proposal_lines
    from helpmig_tui.mapping.versions import MapStateError, confirm, include_left_out, latest, save_map
    from helpmig_tui.mapping.workflow import audited_evidence, propose_for_project
    from helpmig_tui.project import open_project

    _map_checks(args)
    paths = _paths(args)
    changes = args.propose or args.import_file or args.confirm or args.include
    with open_project(paths, args.project) as store, \
            (_project_lock(args, "map") if changes else nullcontext()):
        try:
            if args.propose:
                with _heartbeat(args, "map"):
                    version = propose_for_project(store, refine=_llm_refiner() if args.llm else None,
                                                  progress=_ProgressLine(args, "map"))
                _emit(args, map_data(version), "\n".join(proposal_lines(version)))
                return EXIT_OK
            current = latest(store)
            if args.import_file:
                path = Path(args.import_file)
                fitted, report = import_map(path, audited_evidence(store))
                version = save_map(store, fitted, action="import", keep_decisions=False, note=f"imported from {path.name}")
                lines = [f"Imported {path} as field map version {version.version}; every row starts unconfirmed."]
                _emit(args, {**map_data(version), "import": asdict(report)},
                      "\n".join(lines + report.lines() + [proposal_lines(version)[-2]]))
                return EXIT_OK
            if current is None:
                raise MapStateError("there is no field map yet", hint=f"propose one first: helpmig map {args.project} --propose")
            if args.include:
                version = include_left_out(store, args.include)
                _emit(args, map_data(version), f"{args.include}: the records this rule left out are included now "
                                               f"(field map version {version.version}); confirm it with `helpmig map "
                                               f"{args.project} --confirm {args.include.split(':')[0]}`")
            elif args.show:
                evidence = evidence_from_store(store)
                lines = map_lines(current) + plan_lines(plan_schema(current.map, evidence=evidence))
                _emit(args, map_data(current, evidence), "\n".join(lines))
            elif args.export:
                path = export_map(current.map, Path(args.export))
                _emit(args, {"version": current.version, "hash": current.hash, "file": str(path)},
                      f"Wrote field map version {current.version} ({current.status}) to {path}")
            else:
                items = None if args.confirm == ["all"] else args.confirm
                result = confirm(store, items, min_confidence=args.min_confidence)
                version = result.version
                lines = [f"Confirmed {len(result.confirmed)} rows; {len(result.left)} left to confirm."]
                if result.sealed:
                    lines.append(f"Field map version {version.version} is confirmed (hash {version.hash[:12]}).")
                else:
                    lines.append(proposal_lines(version)[-2])
                _emit(args, {**map_data(version), "confirmed": result.confirmed}, "\n".join(lines))
        except (MapStateError, MapFileError) as exc:
            return _fail(str(exc), getattr(exc, "hint", ""))
    return EXIT_OK


def _llm_refiner():
    """The LLM proposer's refine step, from settings and the llm_api_key secret."""
    from helpmig_tui.mapping.llm import LlmProposer
    from helpmig_tui.settings import Secrets, Settings

    settings = Settings.from_env()
    proposer = LlmProposer(settings.llm, Secrets().get("llm_api_key"))

    def refine(evidence, mmap, progress):
        with proposer:
            return proposer.refine(evidence, mmap, progress)

    return refine


def _open_wizard(args: argparse.Namespace) -> int:
    from helpmig_tui.app import make_app

    app = make_app(paths=_paths(args))
    app.run()
    return app.return_code or EXIT_OK


def _headless(args: argparse.Namespace) -> bool:
    """Commands whose stops this module handles (the wizard handles its own keys and signals)."""
    return args.command is not None and not (args.command == "demo" and not args.headless)


def main(argv: Sequence[str] | None = None) -> int:
    # httpx imports its own command line (click, rich, pygments: a tenth of a second) when
    # those are installed; helpmig never runs it, and this makes httpx skip it
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
    from helpmig_tui.cli_output import make_streams_safe

    make_streams_safe()
    parser = build_parser()
    args = parser.parse_args(argv)
    from helpmig_tui.cli_guard import ERRORS, Guard, install_hooks, say
    from helpmig_tui.cli_stops import Stops

    ERRORS.begin(args.json)
    console = _console(args)
    stops = Stops(lambda line: console.line(f"helpmig: {line}"))
    args.guard = guard = Guard(home=_home(args), project=getattr(args, "project", None), stops=stops)
    args.stops = stops
    if _headless(args):
        stops.install()
    try:
        code = guard.run(lambda: _start(args))
        if code == EXIT_FAILED and not ERRORS.said:  # a run that did not end clean: its report said why
            say(f"exit {code}: the run did not end clean (what is missing is above and in the reports; "
                f"log: {ERRORS.log_file or 'none could be written'})")
        return code
    finally:
        try:
            _tell_drive_notes()
        except Exception as exc:  # a note is never worth a traceback
            say(f"warning: {exc}")
        console.close()
        stops.finished.set()
        stops.uninstall()
        install_hooks()  # anything that fails while the interpreter shuts down goes to the log


def _home(args: argparse.Namespace):  # -> Path
    from pathlib import Path

    try:
        return _paths(args).home
    except Exception:  # a home that cannot even be made absolute: the guard says what it can
        return Path(args.home or os.environ.get("HELPMIG_HOME") or ".")


def _start(args: argparse.Namespace) -> int:
    """The command, once the log is set up (or its failure said); typed errors become lines."""
    import logging

    from helpmig_tui.cli_guard import ERRORS, install_hooks, setup_log
    from helpmig_tui.cli_output import ConsoleLog

    paths = _paths(args)
    ERRORS.log_file = setup_log(paths.log_file, verbose=args.verbose)
    install_hooks()
    notices = ConsoleLog(_console(args), args.verbose)
    for name in ("connectors", "helpmig"):
        logging.getLogger(name).addHandler(notices)
    log = logging.getLogger("helpmig.cli")
    log.info("helpmig %s: %s", __version__, args.command or "wizard")
    if args.command not in _WITHOUT_HOME and paths.home.exists() and not paths.home.is_dir():
        from helpmig_tui.cli_guard import HOME_HINT

        return _fail(f"the home {paths.home} is a file, not a folder", HOME_HINT)
    try:
        return _dispatch(args)
    finally:
        for name in ("connectors", "helpmig"):
            logging.getLogger(name).removeHandler(notices)


def _store_problem(args: argparse.Namespace, exc: Exception) -> tuple[str, str]:
    """A store error's line; a file that cannot be read because of its drive (read-only,
    full, not ours to write) says that, rather than "restore it from a backup"."""
    from helpmig_tui.cli_guard import known_condition
    from helpmig_tui.state.store import CorruptProjectFile

    known = known_condition(exc, args.guard.home, getattr(args, "project", None)) \
        if isinstance(exc, CorruptProjectFile) else None
    return (known.message, known.hint) if known else (str(exc), getattr(exc, "hint", ""))


_WITHOUT_HOME = {"bundle", "sandbox", "secret"}  # commands that keep nothing in the home but their log


def _dispatch(args: argparse.Namespace) -> int:
    handler = getattr(args, "handler", None) or _open_wizard
    try:
        return handler(args)
    except Exception as exc:  # typed only now: the wizard's first frame does not wait for the store's imports
        return _known_error(args, exc)


def _known_error(args: argparse.Namespace, exc: Exception) -> int:
    """A command's error as its one line and exit code."""
    from connectors.base import SourceError
    from helpmig_tui.project import ProjectError
    from helpmig_tui.state import StoreError

    if isinstance(exc, (ProjectError, UsageError)):
        return _fail(str(exc))
    if isinstance(exc, StoreError):
        return _fail(*_store_problem(args, exc))
    if isinstance(exc, SourceError):
        return _fail(str(exc), exc.hint, EXIT_USAGE if exc.code in _BAD_SOURCE_INPUT else EXIT_FAILED)
    return _run_error(args, exc)


# Source errors that are the operator's input or setup to fix (exit 2); the rest are failures (exit 1).
_BAD_SOURCE_INPUT = {
    "source.not_built", "source.unknown_platform", "source.missing_dependency", "source.options", "source.bad_options",
    "source.bad_option", "source.secret_in_options", "source.secret_missing", "source.not_found", "source.auth_missing",
    "source.auth_rejected", "source.odbc_driver_missing", "source.odbc_manager_missing", "source.not_trackit",
    "source.not_smartertrack", "source.bad_layout", "source.table_missing", "source.bad_export_file",
}


def _tell_drive_notes() -> None:
    """The store's one-time notes (a project on a network or removable drive), on stderr."""
    from helpmig_tui.cli_guard import say

    store = sys.modules.get("helpmig_tui.state.store")  # no project was opened: nothing to tell
    for note in store.take_drive_notes() if store is not None else ():
        say(f"note: {note}")


def _run_error(args: argparse.Namespace, exc: Exception) -> int:
    """The run commands' typed errors (their modules are loaded only when a run command ran)."""
    session, context, errors = (sys.modules.get(name) for name in (
        "helpmig_tui.pipeline.session", "helpmig_tui.pipeline.context", "connectors.intercom.errors"))
    if session is not None and isinstance(exc, session.LoadRefused):
        return _fail(str(exc), exc.hint)
    versions = sys.modules.get("helpmig_tui.mapping.versions")
    if versions is not None and isinstance(exc, versions.MapStateError):  # a map a run may not use
        return _fail(str(exc), f"`helpmig map {getattr(args, 'project', 'P')} --show` shows the map; --propose and "
                               "--confirm make it ready")
    refused = tuple(c for c in (getattr(context, "LoadAborted", None), getattr(errors, "IntercomError", None)) if c)
    if refused and isinstance(exc, refused):
        return _fail(str(exc), code=EXIT_FAILED)
    raise exc
