"""The App's part in runs: plan, sample, load, delta, validation and rollback workers.

Each run is a thread worker with its own event loop, owned by the App (not by a screen),
so navigating never stops a load and the interface stays responsive while the loader
works at full speed. The engine reports through an observer that posts stage messages
(thread-safe); pause, resume and cancel go to the run's `RunControl`. Quitting cancels
running loads at a safe point: the journal is consistent and the picker offers to resume.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any

from helpmig_tui import redact

if TYPE_CHECKING:
    from textual.worker import Worker

    from helpmig_tui.app import HelpmigApp
    from helpmig_tui.pipeline.context import LoadOptions, LoadProgress
    from helpmig_tui.pipeline.control import RunControl
    from helpmig_tui.pipeline.session import Destination, PipelineSession
    from screens.run_messages import (
        PlanReady,
        PlanRequested,
        RollbackFinished,
        RollbackRequested,
        RunControlRequested,
        RunEvent,
        RunFinished,
        RunPlanned,
        RunProgressed,
        RunRequested,
        RunStarted,
        ValidationFinished,
        ValidationRequested,
    )


class AppObserver:
    """The engine's observer: every report becomes a message to the App."""

    def __init__(self, app: HelpmigApp, project: str) -> None:
        self.app = app
        self.project = project

    def progress(self, progress: LoadProgress) -> None:
        from screens.run_messages import RunProgressed

        self.app.post_message(RunProgressed(self.project, progress))

    def event(self, level: str, message: str) -> None:
        from screens.run_messages import RunEvent

        self.app.post_message(RunEvent(self.project, level, message))

    def phase_finished(self, report: Any) -> None:
        from screens.run_messages import PhaseReported

        self.app.post_message(PhaseReported(self.project, report))


def planned_totals(session: PipelineSession, kind: str,
                   options: LoadOptions) -> tuple[dict[str, dict[str, int | None]], set[str], int]:
    """Each phase's objects and the records it will count, before the run starts: the
    audit's counts (a sample's size per object; no total where it cannot be known: a
    sample's messages, everything a delta finds), which objects are messages, and the
    plan's rate limit (the workspace's if Intercom said it, else the published one)."""
    from helpmig_tui.mapping.standard import TargetKind
    from helpmig_tui.pipeline.plan import build_plan

    parts = {o.object for o in session.mmap.active_objects() if o.target is TargetKind.PART}
    totals: dict[str, dict[str, int | None]] = {}
    plan = build_plan(session.store, session.mmap, session.client.metrics().window.limit)
    for phase in plan.phases:
        totals[phase.name] = {
            obj: None if kind == "delta" or (options.sample and obj in parts) else
            min(n, options.sample) if options.sample else n
            for obj, n in phase.objects.items()
        }
    return totals, parts, plan.limit_per_10s


def _line(exc: BaseException) -> str:
    hint = getattr(exc, "hint", "")
    return redact.redact(f"{exc}" + (f" ({hint})" if hint else ""))


class RunsMixin:
    """Mixed into HelpmigApp: the run workers and the messages between them and the screens.

    Handlers are named `on_<message>` (Textual finds those through the class hierarchy;
    `@on` needs the message pump's metaclass, which a plain mixin does not have)."""

    controls: dict[str, RunControl]
    part_objects: dict[str, set[str]]  # project -> its message and note objects (from the last run's plan)

    def run_screen_for(self: HelpmigApp, project: str, step: str) -> Any:
        from screens.plan import PlanScreen
        from screens.rollback import RollbackScreen
        from screens.run import RunScreen
        from screens.validate import ValidateScreen

        running = self._worker_running(f"run:{project}")
        screens = {
            "plan": lambda: PlanScreen(self.paths, project),
            "sample": lambda: RunScreen(project, "sample", running=running),
            "load": lambda: RunScreen(project, "load", running=running),
            "delta": lambda: RunScreen(project, "delta", running=running),
            "validate": lambda: ValidateScreen(project, running=self._worker_running(f"validate:{project}")),
            "rollback": lambda: RollbackScreen(project, running=self._worker_running(f"rollback:{project}")),
        }
        return screens[step]() if step in screens else None

    def _target(self: HelpmigApp, project: str) -> Destination:
        from helpmig_tui.pipeline.session import destination
        from helpmig_tui.project import open_project

        demo = self.demo_for(project)
        if demo is not None:  # a demo's Intercom is its sandbox, wherever the project was opened from
            return demo.target()
        with open_project(self.paths, project) as store:
            return destination(store, self.settings, self.secrets, transport=self.intercom_transport)

    def _session(self: HelpmigApp, project: str, control: RunControl | None = None,
                 rolling_back: bool = False) -> PipelineSession:
        from helpmig_tui.pipeline.session import PipelineSession

        demo = self.demo_for(project)
        source = demo.source_factory() if demo is not None else None
        return PipelineSession(self.paths, project, self._target(project), observer=AppObserver(self, project),
                               control=control, source=source, close_source=True, rolling_back=rolling_back)

    def _thread(self: HelpmigApp, name: str, description: str, job) -> Worker[None]:
        self.demo_for(name.split(":", 1)[1])  # reopened here, on the App's thread, before the worker needs it
        return self.run_worker(job, name=name, group=name.split(":")[0], description=description, thread=True,
                               exit_on_error=False)

    def _screens(self: HelpmigApp, kind: type, project: str) -> list[Any]:
        return [s for s in self.screen_stack if isinstance(s, kind) and s.project == project]

    # -- plan ------------------------------------------------------------------------

    def on_plan_requested(self: HelpmigApp, message: PlanRequested) -> None:
        from screens.run_messages import PlanReady

        project = message.project

        def job() -> None:
            async def plan() -> tuple[Any, list]:
                async with self._session(project) as session:
                    return await session.plan(), list(session.directory.admins)

            try:
                result, admins = asyncio.run(plan())
                self.post_message(PlanReady(project, result, admins))
            except Exception as exc:
                self.post_message(PlanReady(project, error=_line(exc)))

        self._thread(f"plan:{project}", f"Planning {project}", job)

    def on_plan_ready(self: HelpmigApp, message: PlanReady) -> None:
        from screens.plan import PlanScreen

        for screen in self._screens(PlanScreen, message.project):
            screen.show_plan(message.plan, message.admins, message.error)

    # -- sample, load, delta ---------------------------------------------------------------

    def on_run_requested(self: HelpmigApp, message: RunRequested) -> Worker[None] | None:
        return self.start_run(message.project, message.kind, message.options)

    def on_welcome_screen_resume_project(self: HelpmigApp, message: Any) -> None:
        """The picker's Resume: open the project on its run step and continue the run."""
        from helpmig_tui.pipeline.context import LoadOptions

        self.open_project(message.name)
        step = message.kind if message.kind in ("sample", "load", "delta") else "load"
        screen = self.run_screen_for(message.name, step)
        self.push_screen(screen)
        self.start_run(message.name, step, LoadOptions(sample=message.sample))

    def start_run(self: HelpmigApp, project: str, kind: str, options) -> Worker[None] | None:
        from helpmig_tui.pipeline.control import RunControl
        from screens.run_messages import RunFinished, RunPlanned, RunStarted

        if self._worker_running(f"run:{project}"):
            self.notify("A run of this project is already going.", severity="warning")
            return None
        control = RunControl()
        self.controls[project] = control
        self.post_message(RunStarted(project, kind))

        def job() -> None:
            async def run() -> Any:
                async with self._session(project, control) as session:
                    totals, parts, limit = planned_totals(session, kind, options)
                    self.post_message(RunPlanned(project, totals, parts, limit))
                    if kind == "delta":
                        return await session.delta(options)
                    return await session.load(options, kind=kind)

            try:
                self.post_message(RunFinished(project, kind, asyncio.run(run())))
            except Exception as exc:
                self.post_message(RunFinished(project, kind, error=_line(exc)))
            finally:
                self.controls.pop(project, None)

        return self._thread(f"run:{project}", f"{kind} of {project}", job)

    def on_run_control_requested(self: HelpmigApp, message: RunControlRequested) -> None:
        control = self.controls.get(message.project)
        if control is not None:
            getattr(control, message.action)()

    def cancel_runs(self: HelpmigApp) -> None:
        """Stop every running load at its next safe point (quitting, a closed terminal)."""
        for control in list(self.controls.values()):
            control.cancel()

    def on_run_started(self: HelpmigApp, message: RunStarted) -> None:
        from screens.run import RunScreen

        for screen in self._screens(RunScreen, message.project):
            screen.run_started()

    def on_run_planned(self: HelpmigApp, message: RunPlanned) -> None:
        from screens.run import RunScreen

        self.part_objects[message.project] = message.parts
        for screen in self._screens(RunScreen, message.project):
            screen.run_planned(message.totals, message.limit_per_10s)

    def on_run_progressed(self: HelpmigApp, message: RunProgressed) -> None:
        from screens.run import RunScreen

        for screen in self._screens(RunScreen, message.project):
            screen.show_progress(message.progress)

    def on_run_event(self: HelpmigApp, message: RunEvent) -> None:
        from screens.run import RunScreen

        for screen in self._screens(RunScreen, message.project):
            screen.add_event(message.level, message.text)

    def on_phase_reported(self: HelpmigApp, message: Any) -> None:
        from screens.run import RunScreen

        for screen in self._screens(RunScreen, message.project):
            screen.phase_done(message.report)

    def on_run_finished(self: HelpmigApp, message: RunFinished) -> None:
        from helpmig_tui.project import open_project
        from helpmig_tui.run_reports import delta_found
        from screens.run import RunScreen

        found = None
        if message.kind == "delta" and message.result is not None and message.result.status == "done":
            with open_project(self.paths, message.project) as store:
                found = delta_found(store, message.result, self.part_objects.get(message.project, set())).line()
        for screen in self._screens(RunScreen, message.project):
            screen.run_finished(message.result, message.error, found)
        self._refresh_overview(message.project)
        self._refresh_picker()
        if message.error is None and message.result is not None:
            self.notify(f"{message.kind} of {message.project}: {message.result.status}")

    # -- validation and rollback ---------------------------------------------------------------

    def on_validation_requested(self: HelpmigApp, message: ValidationRequested) -> None:
        from helpmig_tui.run_reports import write_validation_report
        from screens.run_messages import ValidationFinished

        project = message.project

        def job() -> None:
            async def check() -> Any:
                async with self._session(project) as session:
                    return await session.validate(message.sample, sample_run_only=message.sample_run_only)

            try:
                result = asyncio.run(check())
                write_validation_report(self.paths.reports_dir(project), project, result,
                                        sample_run_only=message.sample_run_only)
                self.post_message(ValidationFinished(project, result))
            except Exception as exc:
                self.post_message(ValidationFinished(project, error=_line(exc)))

        self._thread(f"validate:{project}", f"Validating {project}", job)

    def on_validation_finished(self: HelpmigApp, message: ValidationFinished) -> None:
        from screens.run import RunScreen
        from screens.validate import ValidateScreen

        for screen in self._screens(ValidateScreen, message.project):
            screen.show_result(message.result, message.error)
        for screen in self._screens(RunScreen, message.project):
            screen.show_validation(message.result, message.error)

    def on_rollback_requested(self: HelpmigApp, message: RollbackRequested) -> None:
        from helpmig_tui.run_reports import write_rollback_report
        from screens.run_messages import RollbackFinished

        project = message.project

        def job() -> None:
            async def roll() -> RollbackFinished:
                async with self._session(project, rolling_back=True) as session:
                    rollback = session.rollback(sample_only=message.sample_only,
                                                include_changed=message.include_changed)
                    if message.dry_run:
                        return RollbackFinished(project, planned=rollback.planned())
                    report = await rollback.run()
                    write_rollback_report(self.paths.reports_dir(project), project, report,
                                          sample_only=message.sample_only)
                    return RollbackFinished(project, report=report)

            try:
                self.post_message(asyncio.run(roll()))
            except Exception as exc:
                self.post_message(RollbackFinished(project, error=_line(exc)))

        name = f"rollback-count:{project}" if message.dry_run else f"rollback:{project}"
        self._thread(name, f"Rolling back {project}", partial(job))

    def on_rollback_finished(self: HelpmigApp, message: RollbackFinished) -> None:
        from screens.rollback import RollbackScreen
        from screens.run import RunScreen

        for screen in self._screens(RollbackScreen, message.project):
            if message.report is None and message.error is None:
                screen.show_planned(message.planned, None)
            elif message.report is None:
                screen.show_planned(None, message.error)
                if screen.running:
                    screen.show_report(None, message.error)
            else:
                screen.show_report(message.report, None)
        for screen in self._screens(RunScreen, message.project):
            if message.report is not None:
                screen.add_event("info", f"sample rolled back: {message.report.summary()}")
            elif message.planned is not None or message.error:
                screen.rollback_planned(message.planned, message.error)
        self._refresh_overview(message.project)
