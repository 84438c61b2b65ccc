"""The command line's run commands: plan, load, validate, delta, rollback, report, demo.

They drive the same engine as the wizard (`PipelineSession`), print progress on stderr
and the result on stdout (or JSON with --json). Exit codes tell the truth: load, delta
and rollback exit 0 only when the run ended clean, 1 otherwise (a gate, failures, writes
in doubt, rejections the audit did not foresee; `--yes` goes past gates, not past the
exit code, and the last line names what is unexplained); validate exits 0 only when every
kind checked is under the threshold, 1 when not, 2 when there is nothing to check yet; 2
is also bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from helpmig_tui import redact
from helpmig_tui.pipeline.context import LoadOptions, LoadProgress
from helpmig_tui.pipeline.loader import LoadResult
from helpmig_tui.pipeline.report import PhaseReport
from helpmig_tui.pipeline.rollback import RollbackRefused
from helpmig_tui.pipeline.session import Destination, LoadRefused, PipelineSession, destination
from helpmig_tui.project import open_project
from helpmig_tui.settings import Paths, Secrets, Settings, resolve_paths

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class StderrObserver:
    """Progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        self.tty = sys.stderr.isatty()
        self.quiet = quiet
        self._last = 0.0

    def progress(self, progress: LoadProgress) -> None:
        now = time.monotonic()
        if self.quiet or (not self.tty and now - self._last < 5):
            return
        self._last = now
        parts = []
        for o in progress.objects:
            total = f"/{o.total}" if o.total else ""
            parts.append(f"{o.object} {o.finished}{total}")
        eta = [o.eta_s for o in progress.objects if o.eta_s]
        line = f"{progress.phase}: {', '.join(parts)}; API {progress.api_requests} calls, {progress.api_rate_limited} 429s"
        if eta:
            line += f"; ETA {int(max(eta))} s"
        self._write(line)

    def event(self, level: str, message: str) -> None:
        if level != "info" and not self.quiet:
            self._write(f"{level}: {message}", newline=True)

    def phase_finished(self, report: PhaseReport) -> None:
        if not self.quiet:
            mark = "ok" if report.clean else "NOT CLEAN"
            self._write(f"phase {report.phase} [{mark}]: {report.summary()}", newline=True)

    def _write(self, line: str, newline: bool = False) -> None:
        line = redact.redact(line)
        if self.tty:
            print(f"\r\x1b[2K{line}", end="\n" if newline else "", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _target(paths: Paths, project: str) -> Destination:
    with open_project(paths, project) as store:
        return destination(store, Settings.from_env(), Secrets())


def _session(args: argparse.Namespace, observer: Any = None) -> PipelineSession:
    paths = resolve_paths(args.home)
    return PipelineSession(paths, args.project, _target(paths, args.project),
                           observer=observer or StderrObserver(quiet=args.json))


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(redact.redact(text))


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
                                    for o in r.objects}} for r in result.reports]}


def _confirm(args: argparse.Namespace, question: str, expected: str | None = None) -> bool:
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        raise LoadRefused(f"{question}: add --yes to go on without a prompt")
    prompt = f"{question} Type {expected!r} to go on: " if expected else f"{question} [y/N] "
    answer = input(prompt).strip()
    return answer == expected if expected else answer.lower() in ("y", "yes")


def cmd_plan(args: argparse.Namespace) -> int:
    from helpmig_tui.pipeline.prepare import Resolutions

    paths = resolve_paths(args.home)
    if args.match or args.skip or args.fallback_admin or args.fallback_contact:
        from helpmig_tui.mapping.standard import TargetKind
        from helpmig_tui.mapping.versions import require_confirmed_map
        from helpmig_tui.pipeline.prepare import objects_of

        with open_project(paths, args.project) as store:
            mmap = require_confirmed_map(store)
            teams, agents = set(objects_of(mmap, TargetKind.TEAM)), set(objects_of(mmap, TargetKind.ADMIN))
            resolutions = Resolutions.load(store)

            def settled_in(key: str) -> dict[str, str]:
                obj = key.split(":", 1)[0]
                if obj not in teams | agents or ":" not in key:
                    raise LoadRefused(f"{key!r} is not OBJECT:KEY of an agent or group object "
                                      f"({', '.join(sorted(teams | agents)) or 'the map has none'})")
                return resolutions.teams if obj in teams else resolutions.admins

            for item in args.match or []:
                key, _, admin = item.partition("=")
                if not admin:
                    raise LoadRefused(f"--match takes OBJECT:KEY=INTERCOM_ID (got {item!r})")
                settled_in(key)[key] = admin
            for key in args.skip or []:
                settled_in(key)[key] = "skip"
            if args.fallback_admin:
                resolutions.fallback_admin = args.fallback_admin
            if args.fallback_contact:
                resolutions.fallback_contact = args.fallback_contact
            resolutions.save(store)

    async def run() -> Any:
        async with _session(args) as session:
            return await session.plan()

    plan = asyncio.run(run())
    lines = [f"{'Phase':<15} {'Records':>9} {'API calls':>10}"]
    lines += [f"{p.name:<15} {p.records:>9,} {p.calls:>10,}" for p in plan.phases]
    lines.append(f"Total: {plan.calls:,} calls, about {plan.eta_s / 60:.0f} min at {plan.limit_per_10s} requests per 10 s")
    lines += [f"Note: {n}" for n in plan.notes]
    if plan.queue:
        lines.append(f"Reconciliation queue: {len(plan.queue)} waiting (conversations do not load until settled)")
        lines += [f"  {m.kind} {m.object}:{m.key} {m.name} <{m.email}>" for m in plan.queue]
        lines.append("Settle with --match OBJECT:KEY=ID, --skip OBJECT:KEY, or --fallback-admin ID")
    _emit(args, plan.to_dict(), "\n".join(lines))
    return EXIT_OK


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
    from helpmig_tui.pipeline.loader import PHASES

    if args.phase and args.phase not in PHASES:
        raise LoadRefused(f"unknown phase {args.phase!r}: one of {', '.join(PHASES)}")
    if args.sample is not None and args.sample < 1:
        raise LoadRefused("--sample takes a number of records per object (1 or more)")
    target = _target(resolve_paths(args.home), args.project)
    what = f"a sample of {args.sample} records per object" if args.sample else "the full load"
    if not _confirm(args, f"Load {what} into {target.base_url}?"):
        return EXIT_FAILED

    async def run() -> LoadResult:
        async with _session(args) as session:
            return await session.load(_options(args))

    result = asyncio.run(run())
    _emit(args, _load_data(result), _load_text(result))
    return _load_exit(result)


def cmd_delta(args: argparse.Namespace) -> int:
    async def run() -> LoadResult:
        async with _session(args) as session:
            return await session.delta(LoadOptions(accept_gates=True, max_rejected=_share(args.max_rejected),
                                                   gone=getattr(args, "deleted", None)))

    result = asyncio.run(run())
    _emit(args, _load_data(result), _load_text(result))
    return _load_exit(result)


def cmd_validate(args: argparse.Namespace) -> int:
    async def run() -> Any:
        async with _session(args) as session:
            return await session.validate(args.sample)

    result = asyncio.run(run())
    data = _validation_data(result)
    lines = _validation_lines(result)
    if not result.total:
        print(f"helpmig: nothing to check yet: nothing of {args.project} is in Intercom (run "
              f"`helpmig load {args.project}` first)", file=sys.stderr)
        return EXIT_USAGE
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
    if not (args.sample or args.all):
        raise LoadRefused("say what to roll back: --sample (the sample runs) or --all (everything this project created)")

    async def run() -> Any:
        async with _session(args) as session:
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
            except RollbackRefused as exc:
                raise LoadRefused(str(exc), [exc.hint]) from exc

    report = asyncio.run(run())
    if report is None:
        _emit(args, {"removed": {}, "archived": {}}, "Nothing to roll back.")
        return EXIT_OK
    if report is False:
        return EXIT_FAILED
    data = {"removed": report.removed, "archived": report.archived, "changed": report.changed, "failed": report.failed}
    lines = [f"Rollback: {report.summary()}"]
    if report.archived:
        lines.append("Archived, not deleted (Intercom keeps them): "
                     + ", ".join(f"{n} {k}" for k, n in report.archived.items()))
    lines += [f"  left alone (changed in Intercom): {k} {key} ({i})" for k, key, i in report.changed[:50]]
    lines += [f"  failed: {k} {key}: {why}" for k, key, why in report.failed[:50]]
    _emit(args, data, "\n".join(lines))
    return EXIT_OK if report.clean else EXIT_FAILED


def cmd_report(args: argparse.Namespace) -> int:
    from helpmig_tui.pipeline.summary import write_summary

    paths = resolve_paths(args.home)
    bundle = getattr(args, "bundle", None)
    with open_project(paths, args.project) as store:
        summary, files = write_summary(store, paths.reports_dir(args.project))
        evidence = None
        if bundle:
            from helpmig_tui.evidence import EvidenceError, write_evidence
            from helpmig_tui.settings import SECRET_ENV

            secrets = Secrets()
            try:
                evidence = write_evidence(store, paths, args.project, Path(bundle),
                                          [v for name in SECRET_ENV if (v := secrets.get(name))])
            except EvidenceError as exc:
                print(f"helpmig: {exc}", file=sys.stderr)
                return EXIT_FAILED
    data = {"summary": str(summary), "reports": [str(f) for f in files],
            "bundle": {"path": str(evidence.path), "members": evidence.members} if evidence else None}
    text = f"Summary: {summary}\n" + "\n".join(f"  {f.name}" for f in files)
    if evidence:
        text += f"\nEvidence bundle: {evidence.path} ({len(evidence.members)} files)"
    _emit(args, data, text)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from helpmig_tui.demo import prepare_demo, run_headless

    paths = resolve_paths(args.home)
    if not args.headless:
        from helpmig_tui.app import make_app

        demo = prepare_demo(paths, args.source, args.tickets, progress=lambda s: print(s, file=sys.stderr),
                            confirm_map=False)
        app = make_app(paths=paths, demo=demo)
        app.run()
        return app.return_code or EXIT_OK
    say = (lambda s: None) if args.json else (lambda s: print(f"demo: {s}", file=sys.stderr, flush=True))
    demo = prepare_demo(paths, args.source, args.tickets, progress=say)
    result = asyncio.run(run_headless(demo, observer=StderrObserver(quiet=args.json), progress=say))
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
