"""The Textual App: switches screens and owns the long-running workers.

`make_app` is the one factory the CLI and the tests share, so tests drive exactly the
wiring the operator gets. `intercom_transport` is the one seam to the network: the
in-process sandbox's transport for the tests and the demo, None (the real network) otherwise.
Every Intercom client the App makes shares it, so it must outlive a client's close (the
sandbox's does: closing it is a no-op).

The first frame comes before the engine is imported: this module imports only what the
project picker needs, every step and the engine are imported where they are first used,
and the App's message handlers go by name (`on_<message>`), so no step's module is needed
to define them (bench/tui.py measures the first frame).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from assets import asset
from helpmig_tui import redact
from helpmig_tui.app_runs import RunsMixin
from helpmig_tui.logs import get_logger
from helpmig_tui.settings import Paths, Secrets, Settings, resolve_paths
from screens.help import HelpScreen, StepCommands
from screens.welcome import WelcomeScreen

if TYPE_CHECKING:
    import httpx
    from textual.worker import Worker

    from helpmig_tui.demo import Demo
    from helpmig_tui.project import ProjectStatus
    from screens.audit import AuditScreen
    from screens.connect import ConnectScreen
    from screens.mapping import MappingScreen

log = get_logger("app")
STOPPED_SAFELY = ("helpmig: the run of {projects} stopped safely; run helpmig again (or helpmig demo) and "
                  "choose Resume to continue where it stopped")


class ProjectCommands(Provider):
    """Command palette entries: open any project, create a new one."""

    def _commands(self) -> list[tuple[str, str, object]]:
        from helpmig_tui.project import list_projects

        app = self.app
        assert isinstance(app, HelpmigApp)
        entries: list[tuple[str, str, object]] = [("New project", "create a migration project", app.action_new_project)]
        for item in list_projects(app.paths):
            entries.append((f"Open project {item.name}", "continue where it stopped", _opener(app, item.name)))
        return entries

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]


def _opener(app: HelpmigApp, name: str):
    return lambda: app.open_project(name)


class HelpmigApp(RunsMixin, App[int]):
    TITLE = "helpmig"
    SUB_TITLE = "helpdesk to Intercom"
    CSS_PATH = str(asset("app.tcss"))
    COMMANDS = App.COMMANDS | {ProjectCommands, StepCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # screen classes: 80 columns stack what 100 put side by side
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "keys", "Keys"),
        Binding("f2", "toggle_theme", "Theme", show=False),
    ]

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        secrets: Secrets,
        demo: Demo | None = None,
        intercom_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.secrets = secrets
        self.demo = demo  # the demo's project and its in-process Intercom sandbox
        self.demos: dict[str, Demo | None] = {demo.project: demo} if demo else {}  # reopened as they are opened
        self._reopened: list[Demo] = []  # demos this App opened itself (it closes their sandboxes)
        self.controls = {}  # project -> the RunControl of its running load
        self.part_objects = {}
        self.intercom_transport = intercom_transport or (demo.sandbox.transport() if demo else None)
        if demo is not None:  # the demo's Intercom is its sandbox: nothing to look up or type in
            from connectors.intercom.sandbox import DEFAULT_TOKEN, SANDBOX_URL

            self.settings = replace(settings, intercom_url=SANDBOX_URL)
            secrets.set_session("intercom_token", DEFAULT_TOKEN)

    def demo_for(self, project: str) -> Demo | None:
        """The demo behind a project (its sample source and sandbox), reopened from the
        project's folder the first time it is needed; None for every other project."""
        if project not in self.demos:
            from helpmig_tui.demo import reopen_demo

            demo = reopen_demo(self.paths, project)
            self.demos[project] = demo
            if demo is not None:
                self._reopened.append(demo)
        return self.demos[project]

    def transport_for(self, project: str) -> httpx.AsyncBaseTransport | None:
        """How a project reaches its Intercom: a demo's sandbox in process, else the App's."""
        demo = self.demo_for(project)
        return demo.sandbox.transport() if demo is not None else self.intercom_transport

    def token_for(self, project: str) -> str | None:
        from connectors.intercom.sandbox import DEFAULT_TOKEN

        return DEFAULT_TOKEN if self.demo_for(project) is not None else self.secrets.get("intercom_token")

    def on_unmount(self) -> None:
        for demo in self._reopened:
            demo.close()

    def on_mount(self) -> None:
        self.theme = "textual-light" if self.settings.theme == "light" else "textual-dark"
        self.push_screen(WelcomeScreen(self.paths))
        if self.demo is not None and (status := self.open_project(self.demo.project)) is not None:
            self.offer_resume(self.demo.project, status)

    def offer_resume(self, project: str, status: ProjectStatus) -> None:
        """A project whose run stopped (quit, a closed terminal) opens on that run's step,
        which offers to resume it."""
        run = status.last_run
        if run is not None and run.interrupted and run.kind in ("sample", "load", "delta"):
            screen = self.run_screen_for(project, run.kind)
            screen.stopped = True
            screen.sample_size = run.sample or screen.sample_size
            self.push_screen(screen)

    async def action_quit(self) -> None:
        """Quit; a running load stops at its next safe point and resumes from the picker."""
        if not self.controls:
            self.exit()
            return
        stopping = sorted(self.controls)
        self.cancel_runs()
        self.notify("Stopping safely… run again to resume.", title="Quitting", timeout=30)
        await self.workers.wait_for_complete()
        self.exit(message=STOPPED_SAFELY.format(projects=", ".join(stopping)))

    def action_keys(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_new_project(self) -> None:
        from screens.new_project import NewProjectScreen

        def created(name: str | None) -> None:
            if name:
                self._refresh_picker()
                self.notify(f"Project {name} created.")
                self.open_project(name)

        self.push_screen(NewProjectScreen(self.paths), created)

    def _standing(self, project: str) -> tuple:
        """The project's status, what each step waits for and which steps are done."""
        from helpmig_tui.project import open_project, project_status
        from helpmig_tui.steps import step_standing

        with open_project(self.paths, project) as store:
            status = project_status(store)
            return status, *step_standing(store, status, self.paths.reports_dir(project))

    def open_project(self, name: str) -> ProjectStatus | None:
        """The project's overview, pushed; the status it shows (None: it could not be read, as said)."""
        from helpmig_tui.state import StoreError
        from screens.overview import OverviewScreen

        try:
            status, waits, marks = self._standing(name)
        except StoreError as exc:
            self.notify(f"{exc} {exc.hint}", severity="error", timeout=8)
            return None
        self.sub_title = name
        demo = self.demo_for(name)
        self.push_screen(OverviewScreen(status, waits, marks, demo.headline() if demo else None))
        return status

    def _refresh_picker(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WelcomeScreen):
                screen.action_refresh()

    def on_welcome_screen_open_project(self, message: WelcomeScreen.OpenProject) -> None:
        self.open_project(message.name)

    def on_welcome_screen_new_project_requested(self) -> None:
        self.action_new_project()

    def _worker_running(self, name: str) -> bool:
        return any(w.name == name and w.is_running for w in self.workers)

    def _refresh_overview(self, project: str) -> None:
        from screens.overview import OverviewScreen

        overviews = [s for s in self.screen_stack if isinstance(s, OverviewScreen) and s.status.name == project]
        if overviews:
            status, waits, marks = self._standing(project)
            for screen in overviews:
                screen.show_status(status, waits, marks)

    def on_overview_refresh_requested(self, message) -> None:
        self._refresh_overview(message.project)

    def on_step_requested(self, message) -> None:
        project = message.project
        if message.step == "connect":
            from screens.connect import ConnectScreen

            screen = ConnectScreen(
                self.paths, self.settings, self.secrets, project,
                source_running=self._worker_running(f"source-test:{project}"),
                destination_running=self._worker_running(f"intercom-test:{project}"),
            )
            self.push_screen(screen, lambda _: self._refresh_overview(project))
        elif message.step == "audit":
            from screens.audit import AuditScreen

            self.push_screen(AuditScreen(self.paths, project, running=self._worker_running(f"audit:{project}")))
        elif message.step == "mapping":
            from screens.mapping import MappingScreen

            self.push_screen(MappingScreen(self.paths, project, running=self._worker_running(f"mapping:{project}"),
                                           llm_enabled=self.settings.llm.enabled))
        elif (screen := self.run_screen_for(project, message.step)) is not None:
            self.push_screen(screen)
        elif message.step == "reports":
            from screens.reports import ReportsScreen

            self.push_screen(ReportsScreen(self.paths, message.project), lambda _: self._refresh_overview(project))

    def on_open_folder_requested(self, message) -> None:
        from helpmig_tui import desktop

        if not desktop.open_folder(message.folder):
            self.notify(f"No file manager here; the reports are in {message.folder}", timeout=10)

    # -- the audit worker: owned by the App, so leaving the screen never stops it --------

    def on_audit_requested(self, message) -> None:
        self.audit(message.project)

    def audit(self, project: str) -> Worker[None]:
        from screens.messages import AuditStarted

        self.post_message(AuditStarted(project))
        return self.run_worker(
            partial(self._audit_job, project),
            name=f"audit:{project}",
            group="audit",
            description=f"Auditing {project}",
            thread=True,
            exit_on_error=False,
        )

    def _audit_job(self, project: str) -> None:
        from textual.worker import get_current_worker

        from helpmig_tui.audit import run_audit
        from helpmig_tui.audit_store import save_audit
        from helpmig_tui.project import open_project, open_source
        from helpmig_tui.reports import write_audit_reports
        from screens.messages import AuditFinished, AuditProgressed

        worker = get_current_worker()
        with open_project(self.paths, project) as store:
            with open_source(store, self.secrets) as source:
                result = run_audit(
                    source,
                    progress=lambda p: self.post_message(AuditProgressed(project, p)),
                    cancel=worker.cancelled_event,
                )
            audit_id = save_audit(store, result)
        write_audit_reports(self.paths.reports_dir(project), project, result)
        self.post_message(AuditFinished(project, audit_id=audit_id))

    # -- connection tests: the source in a thread, Intercom on the event loop ---------------

    def on_source_test_requested(self, message) -> None:
        self.test_source(message.project, message.platform, message.options)

    def test_source(self, project: str, platform: str, options: dict) -> Worker[None]:
        return self.run_worker(
            partial(self._source_test_job, project, platform, options),
            name=f"source-test:{project}",
            group="source-test",
            description=f"Testing the source of {project}",
            thread=True,
            exit_on_error=False,
        )

    def _source_test_job(self, project: str, platform: str, options: dict) -> None:
        from helpmig_tui.project import open_project
        from helpmig_tui.source_connection import check_source, record_source_check
        from screens.messages import SourceTested

        check = check_source(platform, options, self.secrets)
        with open_project(self.paths, project) as store:
            record_source_check(store, check)
        log.info("source test of %s: %s", project, check.line())
        self.post_message(SourceTested(project, check))

    def on_destination_test_requested(self, message) -> None:
        self.test_destination(message.project, message.region, message.url, remember=message.remember)

    def test_destination(self, project: str, region: str | None, url: str | None, *, remember: bool = False) -> Worker[None]:
        return self.run_worker(
            self._destination_test_job(project, region, url, remember),
            name=f"intercom-test:{project}",
            group="intercom-test",
            description=f"Testing Intercom for {project}",
            exit_on_error=False,
        )

    async def _destination_test_job(self, project: str, region: str | None, url: str | None, remember: bool) -> None:
        from helpmig_tui.destination import DestinationError, check_destination, record_destination, resolve_destination
        from helpmig_tui.project import open_project
        from screens.messages import DestinationTested

        token = self.token_for(project)
        try:
            destination = resolve_destination(region, url)
            tokens = [token] if self.demo_for(project) is not None else self.secrets.intercom_tokens()
            check = await check_destination(destination, tokens, transport=self.transport_for(project))
        except DestinationError as exc:
            self.post_message(DestinationTested(project, error=exc.line()))
            return
        with open_project(self.paths, project) as store:
            record_destination(store, check)
        if remember and token and self.secrets.source_of("intercom_token") == "typed in":
            if not self.secrets.save_to_keyring("intercom_token", token):
                self.notify("No keyring here: the token is kept for this session only.", severity="warning")
        self.post_message(DestinationTested(project, check=check))

    def _connect_screens(self, project: str) -> list[ConnectScreen]:
        from screens.connect import ConnectScreen

        return [s for s in self.screen_stack if isinstance(s, ConnectScreen) and s.project == project]

    def on_source_tested(self, message) -> None:
        screens = self._connect_screens(message.project)
        for screen in screens:
            screen.source_tested(message.check)
        if not screens:
            verdict = "passed" if message.check.ok else f"failed: {message.check.line()}"
            self.notify(f"Source test of {message.project} {verdict}", severity="information" if message.check.ok else "error")

    def on_destination_tested(self, message) -> None:
        screens = self._connect_screens(message.project)
        for screen in screens:
            screen.destination_tested(message.check, message.error)
        if not screens:
            verdict = f"reached {message.check.workspace}" if message.check else f"failed: {message.error}"
            self.notify(f"Intercom test of {message.project} {verdict}", severity="error" if message.error else "information")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures become something the operator can read."""
        from textual.worker import WorkerState

        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error
        hint = getattr(error, "hint", "")
        line = redact.redact(f"{error}" + (f" ({hint})" if hint else ""))
        log.error("worker %s failed: %s", worker.name, line, exc_info=error)
        from connectors.base import SourceError
        from helpmig_tui.mapping.versions import MapStateError
        from helpmig_tui.source_connection import SourceCheck
        from helpmig_tui.state import StoreError
        from screens.messages import AuditFinished, DestinationTested, MappingFinished, SourceTested

        kind, _, project = worker.name.partition(":")
        if kind == "audit":
            self.post_message(AuditFinished(project, error=line))
        elif kind == "mapping":
            self.post_message(MappingFinished(project, error=line))
        elif kind == "source-test":
            self.post_message(SourceTested(project, SourceCheck(False, line)))
        elif kind == "intercom-test":
            self.post_message(DestinationTested(project, error=line))
        if not isinstance(error, (SourceError, StoreError, MapStateError)):
            self.notify(f"{worker.description} failed: {line}", severity="error", timeout=10)

    def _audit_screens(self, project: str) -> list[AuditScreen]:
        from screens.audit import AuditScreen

        return [s for s in self.screen_stack if isinstance(s, AuditScreen) and s.project == project]

    def on_audit_progressed(self, message) -> None:
        for screen in self._audit_screens(message.project):
            screen.show_progress(message.progress)

    def on_audit_finished(self, message) -> None:
        for screen in self._audit_screens(message.project):
            screen.audit_finished(message.error)
        if message.error is None:
            self.notify(f"Audit of {message.project} finished.")

    # -- the mapping worker: the proposer (and the LLM, when asked) off the UI thread ------

    def on_mapping_requested(self, message) -> None:
        self.propose_map(message.project, llm=message.llm)

    def propose_map(self, project: str, *, llm: bool = False) -> Worker[None]:
        from screens.messages import MappingStarted

        self.post_message(MappingStarted(project, llm))
        return self.run_worker(
            partial(self._mapping_job, project, llm),
            name=f"mapping:{project}",
            group="mapping",
            description=f"Proposing the map of {project}",
            thread=True,
            exit_on_error=False,
        )

    def _mapping_job(self, project: str, llm: bool) -> None:
        from helpmig_tui.mapping.llm import LlmProposer
        from helpmig_tui.mapping.workflow import propose_for_project
        from helpmig_tui.project import open_project
        from screens.messages import MappingFinished, MappingProgressed

        def progress(step: str, done: int, total: int) -> None:
            self.post_message(MappingProgressed(project, step, done, total))

        with open_project(self.paths, project) as store:
            if llm:
                with LlmProposer(self.settings.llm, self.secrets.get("llm_api_key")) as proposer:
                    version = propose_for_project(store, refine=proposer.refine, progress=progress)
            else:
                version = propose_for_project(store, progress=progress)
        self.post_message(MappingFinished(project, version=version.version))

    def _mapping_screens(self, project: str) -> list[MappingScreen]:
        from screens.mapping import MappingScreen

        return [s for s in self.screen_stack if isinstance(s, MappingScreen) and s.project == project]

    def on_mapping_progressed(self, message) -> None:
        for screen in self._mapping_screens(message.project):
            screen.show_progress(message.step, message.done, message.total)

    def on_mapping_finished(self, message) -> None:
        for screen in self._mapping_screens(message.project):
            screen.mapping_finished(message.error)
        if message.error is None:
            self.notify(f"Map of {message.project} proposed (version {message.version}).")


def make_app(
    paths: Paths | None = None,
    settings: Settings | None = None,
    secrets: Secrets | None = None,
    demo: Demo | None = None,
    intercom_transport: httpx.AsyncBaseTransport | None = None,
) -> HelpmigApp:
    """The app as the CLI starts it; tests pass their own home and environment, and the
    in-process sandbox's transport (the demo's is used when none is given)."""
    return HelpmigApp(paths or resolve_paths(), settings or Settings.from_env(), secrets or Secrets(), demo,
                      intercom_transport)
