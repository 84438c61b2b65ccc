"""The command line's run commands: plan, load, validate, delta, rollback, report, demo.

They drive the same engine as the wizard (`PipelineSession`), print progress on stderr
and the result on stdout (or JSON with --json). Exit codes tell the truth: load, delta
and rollback exit 0 only when the run ended clean, 1 otherwise (a gate, failures, writes
in doubt, rejections the audit did not foresee; `--yes` goes past gates, not past the
exit code, and the last line names what is unexplained); validate exits 0 only when every
kind checked is under the threshold, 1 when not, 2 when there is nothing to check yet; 2
is also bad input. A stop (a signal, Ctrl+C, the console closing) ends a run at a safe
point through cli_stops, says how to resume and exits 130 or 143.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connectors.intercom.sandbox_address import SANDBOX_URL
from helpmig_tui.cli import _console, _emit, _fail, _secrets
from helpmig_tui.cli_output import QUIET_S, Console, Heartbeat, Table
from helpmig_tui.pipeline.context import LoadOptions, LoadProgress
from helpmig_tui.pipeline.loader import LoadResult
from helpmig_tui.pipeline.report import PhaseReport
from helpmig_tui.pipeline.session import Destination, LoadRefused, PipelineSession, destination, email_address
from helpmig_tui.project import open_project, resume_command
from helpmig_tui.settings import Paths, Settings, resolve_paths

if TYPE_CHECKING:
    from helpmig_tui.demo import Demo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TTY_REFRESH_S = 0.2  # how often a terminal's progress line is redrawn


class ConsoleObserver:
    """A run's progress on the console: redrawn on a terminal, a line every QUIET_S otherwise."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self._last = 0.0

    def progress(self, progress: LoadProgress) -> None:
        now = time.monotonic()
        if self.quiet or now - self._last < (TTY_REFRESH_S if self.console.tty else QUIET_S):
            return
        self._last = now
        parts = []
        for o in progress.objects:
            total = f"/{o.total}" if o.total else ""
            parts.append(f"{o.object} {o.finished}{total}")
        line = f"{progress.phase}: {', '.join(parts)}; API {progress.api_requests} calls, {progress.api_rate_limited} 429s"
        if progress.eta_s is not None:
            line += f"; ETA {int(progress.eta_s)} s"
        self.console.status(line)

    def event(self, level: str, message: str) -> None:
        if level != "info" and not self.quiet:
            self.console.line(f"{level}: {message}")

    def phase_finished(self, report: PhaseReport) -> None:
        if not self.quiet:
            mark = "ok" if report.clean else "NOT CLEAN"
            self.console.line(f"phase {report.phase} [{mark}]: {report.summary()}")


def _target(args: argparse.Namespace, paths: Paths) -> Destination:
    """Where the project's Intercom is: a demo's, unless connected elsewhere since, is its
    sandbox in the project's folder, as in the wizard (kept open on `args` until the
    command's run is over)."""
    with open_project(paths, args.project) as store:
        if store.project().intercom_url == SANDBOX_URL and paths.demo_file(args.project).is_file():
            from helpmig_tui.demo import reopen_demo

            demo = getattr(args, "demo", None) or reopen_demo(paths, args.project)
            if demo is not None:
                args.demo = demo
                return demo.target()
        return destination(store, Settings.from_env(), _secrets(args))


def _session(args: argparse.Namespace, control: Any = None, target: Destination | None = None,
             loading: LoadOptions | None = None, rolling_back: bool = False) -> PipelineSession:
    paths = resolve_paths(args.home)
    return PipelineSession(paths, args.project, target or _target(args, paths), control=control, secrets=_secrets(args),
                           observer=ConsoleObserver(_console(args), quiet=args.json), loading=loading,
                           rolling_back=rolling_back)


def _run(args: argparse.Namespace, label: str, work: Any, *, control: Any = None) -> Any:
    """Run the async `work` with stops wired in and the heartbeat on; a demo's sandbox
    opened for it is closed after."""
    try:
        with Heartbeat(_console(args), label):
            return args.stops.run(work, cancel=control.cancel if control is not None else None)
    finally:
        demo = getattr(args, "demo", None)
        if demo is not None:
            demo.close()


def _load_text(result: LoadResult) -> str:
    lines = [f"Run {result.status}" + (f": {result.message}" if result.message else "")]
    for report in result.reports:
        lines.append(f"  {report.phase:<15} {'ok ' if report.clean else 'NOT'} {report.summary()}")
    if result.delta is not None:
        lines.append(f"This delta: {result.delta.text()} (see {result.delta.path})")
    problems = result.problems()
    if result.clean:
        lines.append("Clean: every record is accounted for.")
    elif problems:
        more = f" (and {len(problems) - 3} more; see the phase reports)" if len(problems) > 3 else ""
        lines.append("NOT CLEAN: " + "; ".join(problems[:3]) + more)
    return "\n".join(lines)


def _load_exit(result: LoadResult) -> int:
    """0 only for a run that ended clean; --yes goes past gates, not past the exit code."""
    return EXIT_OK if result.clean else EXIT_FAILED


def _load_data(result: LoadResult) -> dict[str, Any]:
    return {"status": result.status, "message": result.message, "clean": result.clean,
            "problems": result.problems(), "delta": result.delta.to_dict() if result.delta else None,
            "phases": [{"phase": r.phase, "clean": r.clean, "problems": r.problems, **r.totals(),
                        "objects": {o.object: {c: getattr(o, c) for c in ("read", "created", "updated", "unchanged",
                                                                          "skipped", "rejected", "failed", "in_doubt",
                                                                          "queued", "state_changes")}
                                    for o in r.objects},
                        "reasons": [{"kind": x.kind, "status": x.status, "code": x.code, "reason": x.reason,
                                     "count": x.count, "foreseen": x.explained, "examples": x.examples}
                                    for x in r.reasons]} for r in result.reports]}


def _confirm(args: argparse.Namespace, question: str, expected: str | None = None) -> bool:
    if getattr(args, "yes", False):
        return True
    if sys.stdin is None or not sys.stdin.isatty():
        raise LoadRefused(f"{question}: add --yes to go on without a prompt")
    prompt = f"{question} Type {expected!r} to go on: " if expected else f"{question} [y/N] "
    with _console(args).prompt():
        answer = input(prompt).strip()
    return answer == expected if expected else answer.lower() in ("y", "yes")


def _resumes(args: argparse.Namespace, command: str) -> None:
    """What the guard says after a stop: the command that picks the run up again."""
    args.guard.resume = f"run `helpmig {command}` to resume"
    args.guard.resumable = True


def _stopped(args: argparse.Namespace, data: dict[str, Any], text: str) -> int:
    """A run that stopped at a safe point because of a stop: what it did, then how to resume."""
    _emit(args, {**data, "stopped": True}, text)
    return args.guard.stopped()


def _only_cancelled(exc: BaseException) -> bool:
    """A cooperative cancel, alone or as every leaf of a task group's exception group."""
    from helpmig_tui.pipeline.control import RunCancelled

    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(lambda e: not isinstance(e, RunCancelled)) is None
    return isinstance(exc, RunCancelled)


# -- plan ---------------------------------------------------------------------------------


def _admin_id(session: PipelineSession, given: str, option: str) -> str:
    """An admin of the workspace, by id or email; a team's id or a stranger is refused."""
    admins, teams = session.directory.admins, session.directory.teams
    for admin in admins:
        if given == str(admin.id) or given.casefold() == (admin.email or "").casefold():
            return str(admin.id)
    team = next((t for t in teams if str(t.id) == given), None)
    if team is not None:
        raise LoadRefused(f"{option} {given} is the team {team.name!r}, not an admin",
                          ["`helpmig connect P` lists the workspace's admins with their ids"])
    raise LoadRefused(f"{option} {given}: no admin of this workspace has that id or email",
                      ["`helpmig connect P` lists the workspace's admins with their ids"])


def _team_id(session: PipelineSession, given: str, option: str) -> str:
    for team in session.directory.teams:
        if given == str(team.id) or given.casefold() == (team.name or "").casefold():
            return str(team.id)
    raise LoadRefused(f"{option} {given}: no team of this workspace has that id or name",
                      ["`helpmig connect P` lists the workspace's teams with their ids"])


async def _settle(args: argparse.Namespace, session: PipelineSession) -> list[str]:
    """The reconciliation queue settled from --match/--skip/--fallback-*, each checked
    against the source and the workspace before anything is saved; what was settled, in
    words (a key no agent or group of the source has is refused, not kept silently)."""
    from helpmig_tui.pipeline.prepare import Resolutions

    from helpmig_tui.mapping.standard import TargetKind
    from helpmig_tui.pipeline.prepare import objects_of

    teams, agents = set(objects_of(session.mmap, TargetKind.TEAM)), set(objects_of(session.mmap, TargetKind.ADMIN))
    resolutions = Resolutions.load(session.store)
    known: dict[str, set[str]] = {}
    settled: list[str] = []

    async def team_key(key: str, option: str) -> bool:
        obj, _, record = key.partition(":")
        if obj not in teams | agents or not record:
            raise LoadRefused(f"{option} {key!r}: not OBJECT:KEY of an agent or group object "
                              f"({', '.join(sorted(teams | agents)) or 'the map has none'})")
        if obj not in known:  # read in the source's own thread, as every read of a run
            known[obj] = {r.key async for batch in session.reader.batches(obj) for r in batch}
        if record not in known[obj]:
            raise LoadRefused(f"{option} {key!r}: the source has no {obj} record with the key {record!r}",
                              [f"`helpmig plan {args.project}` lists the queue's keys"])
        return obj in teams

    for item in args.match or []:
        key, _, target = item.partition("=")
        if not target:
            raise LoadRefused(f"--match takes OBJECT:KEY=INTERCOM_ID (got {item!r})")
        if await team_key(key, "--match"):
            resolutions.teams[key] = _team_id(session, target, "--match")
            settled.append(f"{key} -> team {resolutions.teams[key]}")
        else:
            resolutions.admins[key] = _admin_id(session, target, "--match")
            settled.append(f"{key} -> admin {resolutions.admins[key]}")
    for key in args.skip or []:
        if "=" in key:
            raise LoadRefused(f"--skip takes OBJECT:KEY, with no Intercom id (got {key!r})")
        (resolutions.teams if await team_key(key, "--skip") else resolutions.admins)[key] = "skip"
        settled.append(f"{key} skipped: its conversations go unassigned")
    if args.fallback_admin:
        resolutions.fallback_admin = _admin_id(session, args.fallback_admin, "--fallback-admin")
        settled.append(f"fallback admin {resolutions.fallback_admin}")
    if args.fallback_contact:
        resolutions.fallback_contact = email_address(args.fallback_contact, "--fallback-contact")
        settled.append(f"fallback contact {resolutions.fallback_contact}")
    resolutions.save(session.store)
    return settled


def cmd_plan(args: argparse.Namespace) -> int:
    from helpmig_tui.cli import _project_lock

    settling = bool(args.match or args.skip or args.fallback_admin or args.fallback_contact)

    settled: list[str] = []

    async def run() -> Any:
        async with _session(args) as session:
            if settling:
                with _project_lock(args, "plan"):
                    settled.extend(await _settle(args, session))
            return await session.plan()

    plan = _run(args, "plan", run)
    lines: list[Any] = [f"Settled: {s}" for s in settled]
    lines.append(Table(("Phase", "Records", "API calls"), [(p.name, p.records, p.calls) for p in plan.phases],
                       frozenset({1, 2})))
    apps = f" ({plan.apps} apps of the workspace together)" if plan.apps > 1 else ""
    lines.append(f"Total: {plan.calls:,} calls, about {plan.eta_s / 60:.0f} min at {plan.limit_per_10s} requests per 10 s"
                 f"{apps}")
    lines += [f"Note: {n}" for n in plan.notes]
    if plan.queue:
        lines.append(f"Reconciliation queue: {len(plan.queue)} waiting (conversations do not load until settled)")
        lines += [f"  {m.kind} {m.object}:{m.key} {m.name}" + (f" <{m.email}>" if m.email else "") for m in plan.queue]
        lines.append(f"Settle with `helpmig plan {args.project}` and --match OBJECT:KEY=ID, --skip OBJECT:KEY, "
                     "or --fallback-admin ID")
    _emit(args, {**plan.to_dict(), "settled": settled}, lines)
    return EXIT_OK


# -- load and delta ---------------------------------------------------------------------


def _share(value: float | None) -> float | None:
    """--max-rejected in percent of a phase's records (0 to 100) as a share."""
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise LoadRefused("--max-rejected is a percentage of a phase's records, 0 to 100")
    return value / 100


def _options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(sample=getattr(args, "sample", None), accept_gates=getattr(args, "yes", False),
                       test_contact=getattr(args, "test_contact", None),
                       phases=(args.phase,) if getattr(args, "phase", None) else None,
                       max_rejected=_share(getattr(args, "max_rejected", None)))


def cmd_load(args: argparse.Namespace) -> int:
    from helpmig_tui.pipeline.control import RunControl
    from helpmig_tui.pipeline.loader import PHASES

    if args.phase and args.phase not in PHASES:
        raise LoadRefused(f"unknown phase {args.phase!r}: one of {', '.join(PHASES)}")
    if args.test_contact and args.sample is None:
        raise LoadRefused("--test-contact goes with --sample N: it sends the sample run's conversations to one "
                          "test contact, never the full load's")
    if args.test_contact:
        email_address(args.test_contact, "--test-contact")
    _resumes(args, resume_command(args.project, "load", sample=args.sample, test_contact=args.test_contact))
    target = _target(args, resolve_paths(args.home))
    what = f"a sample of {args.sample} records per object" if args.sample else "the full load"
    if not _confirm(args, f"Run {what} into {target.base_url}?"):
        return _fail("not confirmed: nothing was loaded", code=EXIT_FAILED)
    control = RunControl()

    async def run() -> LoadResult:
        options = _options(args)
        async with _session(args, control, target, loading=options) as session:
            return await session.load(options)

    result = _run(args, "load", run, control=control)
    if result.status == "cancelled" and args.stops.first is not None:
        return _stopped(args, _load_data(result), _load_text(result))
    _emit(args, _load_data(result), _load_text(result))
    return _load_exit(result)


def cmd_delta(args: argparse.Namespace) -> int:
    from helpmig_tui.pipeline.control import RunControl

    _resumes(args, resume_command(args.project, "delta"))
    control = RunControl()

    async def run() -> LoadResult:
        async with _session(args, control) as session:
            return await session.delta(LoadOptions(accept_gates=True, max_rejected=_share(args.max_rejected),
                                                   gone=getattr(args, "deleted", None)))

    result = _run(args, "delta", run, control=control)
    if result.status == "cancelled" and args.stops.first is not None:
        return _stopped(args, _load_data(result), _load_text(result))
    _emit(args, _load_data(result), _load_text(result))
    return _load_exit(result)


# -- validate and rollback ------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    args.guard.resume = f"run `helpmig validate {args.project}` to check again (nothing in Intercom changed)"

    async def run() -> Any:
        async with _session(args) as session:
            return await session.validate(args.sample, max_rejected=_share(args.max_rejected))

    result = _run(args, "validate", run)
    data = _validation_data(result)
    lines = _validation_lines(result)
    if not result.total and not result.count_problems:
        return _fail(f"nothing to check yet: nothing of {args.project} is in Intercom (run "
                     f"`helpmig load {args.project}` first)")
    _emit(args, data, "\n".join(lines))
    return EXIT_OK if result.passed else EXIT_FAILED


def _validation_data(result: Any) -> dict[str, Any]:
    return {"checked": result.checked, "failed_records": result.failed_records, "error_rate": result.error_rate,
            "passed": result.passed, "unchecked": result.unchecked, "mismatches": [m.__dict__ for m in result.mismatches],
            "counts": [c.__dict__ for c in result.counts]}


def _validation_lines(result: Any, limit: int = 50) -> list[str]:
    lines = [result.summary()]
    lines += [f"  {m.kind} {m.object}:{m.key} {m.field}: expected {m.expected!r}, Intercom has {m.actual!r}"
              for m in result.mismatches[:limit]]
    lines += [f"  count: {p}" for p in result.count_problems[:limit]]
    return lines


def cmd_rollback(args: argparse.Namespace) -> int:
    from helpmig_tui.pipeline.control import RunControl

    if not (args.sample or args.all):
        raise LoadRefused("say what to roll back: --sample (the sample runs) or --all (everything this project created)")
    _resumes(args, resume_command(args.project, "rollback", scope="sample" if args.sample else "all"))
    control = RunControl()

    async def run() -> Any:
        async with _session(args, control, rolling_back=True) as session:
            rollback = session.rollback(sample_only=args.sample, include_changed=args.include_changed)
            planned = rollback.planned()
            total = sum(planned.values())
            if total == 0:
                return None
            listing = ", ".join(f"{n} {kind}" for kind, n in planned.items())
            if not _confirm(args, f"Remove {total} objects from Intercom ({listing})?", expected=args.project):
                return False
            try:
                return await rollback.run()
            except BaseException as exc:
                rollback.journal.flush()  # what was removed stays recorded, however the run ended
                if control.cancelled and _only_cancelled(exc):
                    return rollback.report
                raise

    report = _run(args, "rollback", run, control=control)
    if report is None:
        _emit(args, {"removed": {}, "archived": {}}, "Nothing to roll back.")
        return EXIT_OK
    if report is False:
        return _fail("not confirmed (the project's name was not typed): nothing was removed", code=EXIT_FAILED)
    data = {"removed": report.removed, "archived": report.archived, "changed": report.changed, "failed": report.failed}
    lines = [f"Rollback: {report.summary()}"]
    if control.cancelled and args.stops.first is not None:
        return _stopped(args, data, lines[0])
    if report.archived:
        lines.append("Archived, not deleted (Intercom keeps them): "
                     + ", ".join(f"{n} {k}" for k, n in report.archived.items()))
    lines += [f"  left alone (changed in Intercom): {k} {key} ({i})" for k, key, i in report.changed[:50]]
    lines += [f"  failed: {k} {key}: {why}" for k, key, why in report.failed[:50]]
    _emit(args, data, "\n".join(lines))
    return EXIT_OK if report.clean else EXIT_FAILED


# -- report and demo ----------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from helpmig_tui.pipeline.summary import write_summary

    paths = resolve_paths(args.home)
    with open_project(paths, args.project) as store:
        bundle = None
        if args.bundle:
            from helpmig_tui.evidence_path import BundlePathError, bundle_path

            try:
                bundle = bundle_path(args.bundle, paths.project_dir(args.project), args.project)
            except BundlePathError as exc:
                return _fail(str(exc))
        summary, files = write_summary(store, paths.reports_dir(args.project))
        evidence = None
        if bundle:
            from helpmig_tui.evidence import EvidenceError, write_evidence
            from helpmig_tui.settings import SECRET_ENV, Secrets

            secrets = Secrets()
            try:
                evidence = write_evidence(store, paths, args.project, bundle,
                                          [v for name in SECRET_ENV if (v := secrets.get(name))])
            except EvidenceError as exc:
                return _fail(str(exc), code=EXIT_FAILED)
    data = {"summary": str(summary), "reports": [str(f) for f in files],
            "bundle": {"path": str(evidence.path), "members": evidence.members} if evidence else None}
    text = f"Summary: {summary}\n" + "\n".join(f"  {f.name}" for f in files)
    if evidence:
        text += f"\nEvidence bundle: {evidence.path} ({len(evidence.members)} files)"
    _emit(args, data, text)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from helpmig_tui.demo import open_demo, prepare_demo

    paths = resolve_paths(args.home)
    if not args.headless:
        from helpmig_tui.app import make_app

        demo = open_demo(paths, args.source, args.tickets, new=args.new, progress=lambda s: print(s, file=sys.stderr),
                         confirm_map=False)
        app = make_app(paths=paths, demo=demo)
        app.run()
        return app.return_code or EXIT_OK
    console = _console(args)
    say = (lambda s: None) if args.json else (lambda s: console.status(f"demo: {s}"))
    args.guard.resume = f"run `helpmig demo --headless --source {args.source}` to start a new demo"
    with Heartbeat(console, "demo"):
        demo = prepare_demo(paths, args.source, args.tickets, progress=say)
    try:
        return _headless_demo(args, paths, console, say, demo)
    finally:
        demo.close()  # the sandbox's workspace file, closed whatever happened


def _headless_demo(args: argparse.Namespace, paths: Paths, console: Console, say: Callable[[str], None],
                   demo: Demo) -> int:
    from helpmig_tui.demo import run_headless

    result = _run(args, "demo", lambda: run_headless(demo, observer=ConsoleObserver(console, quiet=args.json),
                                                      progress=say))
    data = {
        "project": demo.project,
        "sample": _load_data(result.sample),
        "sample_validation": {"passed": result.sample_validation.passed, "error_rate": result.sample_validation.error_rate},
        "sample_rollback": {"removed": result.sample_rollback.removed, "archived": result.sample_rollback.archived},
        "load": _load_data(result.load),
        "validation": _validation_data(result.validation),
        "sandbox": result.sandbox_counts,
        "sandbox_violations": demo.sandbox.report(),
    }
    violations = demo.sandbox.violations.total
    text = "\n".join([
        f"Demo project {demo.project} ({args.source}, {args.tickets} tickets) in {paths.project_dir(demo.project)}",
        f"Sample run: {result.sample.status}; validation: {result.sample_validation.summary()}",
        f"Sample rolled back: {result.sample_rollback.summary()}",
        "Full load, reconciliation per phase:",
        _load_text(result.load),
        "Validation: " + "\n".join(_validation_lines(result.validation, limit=10)),
        "In the sandbox now: " + ", ".join(f"{v} {k}" for k, v in result.sandbox_counts.items() if v),
        (f"The sandbox refused {violations} requests that break Intercom's rules:\n{demo.sandbox.violations.describe()}"
         if violations else "The sandbox saw no request Intercom would refuse (0 violations)."),
        f"Reports: {paths.reports_dir(demo.project)}",
    ])
    _emit(args, data, text)
    ok = result.load.status == "done" and result.validation.passed and not violations
    return EXIT_OK if ok else EXIT_FAILED
