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

from textual.worker import Worker

from helpmig_tui import redact
from helpmig_tui.pipeline.context import LoadOptions, LoadProgress
from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.pipeline.session import Destination, PipelineSession, destination
from helpmig_tui.project import open_project
from screens.plan import PlanScreen
from screens.rollback import RollbackScreen
from screens.run import RunScreen
from screens.run_messages import (
    PhaseReported,
    PlanReady,
    PlanRequested,
    RollbackFinished,
    RollbackRequested,
    RunControlRequested,
    RunEvent,
    RunFinished,
    RunProgressed,
    RunRequested,
    RunStarted,
    ValidationFinished,
    ValidationRequested,
)
from screens.validate import ValidateScreen

if TYPE_CHECKING:
    from helpmig_tui.app import HelpmigApp


class AppObserver:
    """The engine's observer: every report becomes a message to the App."""

    def __init__(self, app: HelpmigApp, project: str) -> None:
        self.app = app
        self.project = project

    def progress(self, progress: LoadProgress) -> None:
        self.app.post_message(RunProgressed(self.project, progress))

    def event(self, level: str, message: str) -> None:
        self.app.post_message(RunEvent(self.project, level, message))

    def phase_finished(self, report: Any) -> None:
        self.app.post_message(PhaseReported(self.project, report))


def _line(exc: BaseException) -> str:
    hint = getattr(exc, "hint", "")
    return redact.redact(f"{exc}" + (f" ({hint})" if hint else ""))


class RunsMixin:
    """Mixed into HelpmigApp: the run workers and the messages between them and the screens.

    Handlers are named `on_<message>` (Textual finds those through the class hierarchy;
    `@on` needs the message pump's metaclass, which a plain mixin does not have)."""

    controls: dict[str, RunControl]

    def run_screen_for(self: HelpmigApp, project: str, step: str) -> Any:
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
        with open_project(self.paths, project) as store:
            return destination(store, self.settings, self.secrets, transport=self.intercom_transport)

    def _session(self: HelpmigApp, project: str, control: RunControl | None = None) -> PipelineSession:
        source = self.demo.source_factory() if self.demo is not None and self.demo.project == project else None
        return PipelineSession(self.paths, project, self._target(project), observer=AppObserver(self, project),
                               control=control, source=source)

    def _thread(self: HelpmigApp, name: str, description: str, job) -> Worker[None]:
        return self.run_worker(job, name=name, group=name.split(":")[0], description=description, thread=True,
                               exit_on_error=False)

    def _screens(self: HelpmigApp, kind: type, project: str) -> list[Any]:
        return [s for s in self.screen_stack if isinstance(s, kind) and s.project == project]

    # -- plan ------------------------------------------------------------------------

    def on_plan_requested(self: HelpmigApp, message: PlanRequested) -> None:
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
        for screen in self._screens(PlanScreen, message.project):
            screen.show_plan(message.plan, message.admins, message.error)

    # -- sample, load, delta ---------------------------------------------------------------

    def on_run_requested(self: HelpmigApp, message: RunRequested) -> Worker[None] | None:
        return self.start_run(message.project, message.kind, message.options)

    def on_welcome_screen_resume_project(self: HelpmigApp, message: Any) -> None:
        """The picker's Resume: open the project on its run step and continue the run."""
        self.open_project(message.name)
        step = message.kind if message.kind in ("sample", "load", "delta") else "load"
        screen = self.run_screen_for(message.name, step)
        self.push_screen(screen)
        self.start_run(message.name, step, LoadOptions(sample=message.sample))

    def start_run(self: HelpmigApp, project: str, kind: str, options) -> Worker[None] | None:
        if self._worker_running(f"run:{project}"):
            self.notify("A run of this project is already going.", severity="warning")
            return None
        control = RunControl()
        self.controls[project] = control
        self.post_message(RunStarted(project, kind))

        def job() -> None:
            async def run() -> Any:
                async with self._session(project, control) as session:
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
        for screen in self._screens(RunScreen, message.project):
            screen.run_started()

    def on_run_progressed(self: HelpmigApp, message: RunProgressed) -> None:
        for screen in self._screens(RunScreen, message.project):
            screen.show_progress(message.progress)

    def on_run_event(self: HelpmigApp, message: RunEvent) -> None:
        for screen in self._screens(RunScreen, message.project):
            screen.add_event(message.level, message.text)

    def on_phase_reported(self: HelpmigApp, message: PhaseReported) -> None:
        for screen in self._screens(RunScreen, message.project):
            screen.phase_done(message.report)

    def on_run_finished(self: HelpmigApp, message: RunFinished) -> None:
        for screen in self._screens(RunScreen, message.project):
            screen.run_finished(message.result, message.error)
        self._refresh_overview(message.project)
        self._refresh_picker()
        if message.error is None and message.result is not None:
            self.notify(f"{message.kind} of {message.project}: {message.result.status}")

    # -- validation and rollback ---------------------------------------------------------------

    def on_validation_requested(self: HelpmigApp, message: ValidationRequested) -> None:
        project = message.project

        def job() -> None:
            async def check() -> Any:
                async with self._session(project) as session:
                    return await session.validate(message.sample, sample_run_only=message.sample_run_only)

            try:
                self.post_message(ValidationFinished(project, asyncio.run(check())))
            except Exception as exc:
                self.post_message(ValidationFinished(project, error=_line(exc)))

        self._thread(f"validate:{project}", f"Validating {project}", job)

    def on_validation_finished(self: HelpmigApp, message: ValidationFinished) -> None:
        for screen in self._screens(ValidateScreen, message.project):
            screen.show_result(message.result, message.error)
        for screen in self._screens(RunScreen, message.project):
            screen.show_validation(message.result, message.error)

    def on_rollback_requested(self: HelpmigApp, message: RollbackRequested) -> None:
        project = message.project

        def job() -> None:
            async def roll() -> RollbackFinished:
                async with self._session(project) as session:
                    rollback = session.rollback(sample_only=message.sample_only,
                                                include_changed=message.include_changed)
                    if message.dry_run:
                        return RollbackFinished(project, planned=rollback.planned())
                    return RollbackFinished(project, report=await rollback.run())

            try:
                self.post_message(asyncio.run(roll()))
            except Exception as exc:
                self.post_message(RollbackFinished(project, error=_line(exc)))

        name = f"rollback-count:{project}" if message.dry_run else f"rollback:{project}"
        self._thread(name, f"Rolling back {project}", partial(job))

    def on_rollback_finished(self: HelpmigApp, message: RollbackFinished) -> None:
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
            elif message.error:
                screen.add_event("error", f"rollback: {message.error}")
        self._refresh_overview(message.project)
