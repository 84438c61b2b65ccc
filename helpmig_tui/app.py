"""The Textual App: switches screens and (later) owns the long-running workers.

`make_app` is the one factory the CLI and the tests share, so tests drive exactly the
wiring the operator gets.
"""

from __future__ import annotations

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from assets import asset
from helpmig_tui.project import list_projects, open_project, project_status
from helpmig_tui.settings import Paths, Secrets, Settings, resolve_paths
from helpmig_tui.state import StoreError
from screens.new_project import NewProjectScreen
from screens.overview import OverviewScreen
from screens.welcome import WelcomeScreen


class ProjectCommands(Provider):
    """Command palette entries: open any project, create a new one."""

    def _commands(self) -> list[tuple[str, str, object]]:
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


class HelpmigApp(App[int]):
    TITLE = "helpmig"
    SUB_TITLE = "helpdesk to Intercom"
    CSS_PATH = str(asset("app.tcss"))
    COMMANDS = App.COMMANDS | {ProjectCommands}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, paths: Paths, settings: Settings, secrets: Secrets) -> None:
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.secrets = secrets

    def on_mount(self) -> None:
        self.theme = "textual-light" if self.settings.theme == "light" else "textual-dark"
        self.push_screen(WelcomeScreen(self.paths))

    def action_new_project(self) -> None:
        def created(name: str | None) -> None:
            if name:
                self._refresh_picker()
                self.notify(f"Project {name} created.")
                self.open_project(name)

        self.push_screen(NewProjectScreen(self.paths), created)

    def open_project(self, name: str) -> None:
        try:
            with open_project(self.paths, name) as store:
                status = project_status(store)
        except StoreError as exc:
            self.notify(f"{exc} {exc.hint}", severity="error", timeout=8)
            return
        self.sub_title = name
        self.push_screen(OverviewScreen(status))

    def _refresh_picker(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WelcomeScreen):
                screen.action_refresh()

    @on(WelcomeScreen.OpenProject)
    def _open_requested(self, message: WelcomeScreen.OpenProject) -> None:
        self.open_project(message.name)

    @on(WelcomeScreen.NewProjectRequested)
    def _new_requested(self) -> None:
        self.action_new_project()


def make_app(paths: Paths | None = None, settings: Settings | None = None, secrets: Secrets | None = None) -> HelpmigApp:
    """The app as the CLI starts it; tests pass their own home and environment."""
    return HelpmigApp(paths or resolve_paths(), settings or Settings.from_env(), secrets or Secrets())
