"""The keys: the footer every screen shows (short labels that fit 80 columns), the keys
screen (F1: every key of the step you are on, hidden ones too, with what each does in
full), and the command palette's entries for the same keys.

A binding's `description` is its short footer label; its `tooltip`, when it has one, is
the longer line F1 and the palette show. Keys a step only offers now and then (accept a
gate, validate the sample) stay out of the footer (`show=False`) but never out of F1 or
the palette.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer

GUIDE = """\
## How the wizard works

Each step opens when the one before it is done, and says what is missing when it is not.
Long work (audit, load, rollback) runs in the background: you can move between steps
while it runs, and if the terminal closes or the RDP session drops, run `helpmig` again:
the project list offers to resume where it stopped.

## Everywhere

| Key | What it does |
|---|---|
| `F1` | this screen |
| `ctrl+p` | command palette: every key of this step by name, open a project, change theme, quit |
| `F2` | switch between dark and light |
| `escape` | back one step |
| `ctrl+q` | quit (a running load stops safely and resumes later) |
"""


def being_removed(widget: Widget) -> bool:
    """Whether Textual is taking this widget away (with its screen, or its parent's children).

    Reading its screen's keys then asks the screen's `check_action`, which may look for
    widgets already gone. Textual offers no public word for this: `Widget.recompose` and
    `mount` read the same private flag, set on every node a `remove()` takes. The one place
    helpmig reads a Textual private attribute; tests/test_keys_footer.py fails if it goes.
    """
    return widget._pruning


class KeysFooter(Footer):
    """Textual's footer, rebuilt only when the keys it shows change.

    Textual's footer removes and mounts all its keys again whenever the screen says its
    bindings may have changed: on every focus move and every `refresh_bindings()` (a run's
    status line calls it on each change). Most of those leave the keys as they were, and
    mounting them again costs a restyle and a relayout of the screen each time.
    """

    _shown: tuple | None = None  # the keys it was built from (None: built before the screen told them)
    _told = False  # the screen has told its keys (Textual's footer shows none before)

    def _keys(self) -> tuple:
        """What `compose` builds the keys from: each shown binding, enabled or not, and its tooltip."""
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple((binding, enabled, tooltip) for key, (_node, binding, enabled, tooltip)
                     in self.screen.active_bindings.items() if binding.show or key == palette)

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._told else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        self._told = True
        super().bindings_changed(screen)  # Textual's: a recompose after the next refresh

    async def recompose(self) -> None:
        """Textual's, unless the screen's keys are those already shown."""
        if self._shown is not None and self.is_attached and not being_removed(self) and self._keys() == self._shown:
            return
        await super().recompose()


def footer() -> Footer:
    """The footer of every screen: compact, so a step's keys, F1 and quit fit 80 columns."""
    return KeysFooter(compact=True, show_command_palette=False)


def step_keys(screen: Screen) -> list[tuple[Binding, str]]:
    """The keys a screen offers (its own and its dialogs' keys, not the widgets'), each with
    what it does in full, in the order the screen declares them."""
    out: list[tuple[Binding, str]] = []
    seen: set[str] = set()
    own = [cls for cls in type(screen).__mro__ if cls.__module__.startswith("screens.")]
    for cls in own:
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if not binding.description or binding.action in seen or binding.action.startswith("app."):
                continue  # escape's "back" is in the guide's table
            seen.add(binding.action)
            out.append((binding, binding.tooltip or binding.description))
    return out


def _key_table(screen: Screen) -> str:
    rows = [f"| `{screen.app.get_key_display(binding)}` | {text} |" for binding, text in step_keys(screen)]
    if not rows:
        return ""
    return "## On this screen\n\n| Key | What it does |\n|---|---|\n" + "\n".join(rows) + "\n\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, underneath: Screen) -> None:
        super().__init__()
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is not needed for the first frame

        with VerticalScroll(classes="dialog help"):
            yield Markdown("# Keys\n\n" + _key_table(self.underneath) + GUIDE)

    def action_dismiss(self) -> None:
        self.dismiss(None)


class StepCommands(Provider):
    """The command palette lists the keys of the step it was opened on, by what they do."""

    def _commands(self) -> list[tuple[str, str, Binding]]:
        screen = self.screen
        return [(text, f"key {screen.app.get_key_display(binding)}", binding) for binding, text in step_keys(screen)]

    def _runner(self, binding: Binding):
        screen = self.screen

        async def run() -> None:
            await screen.run_action(binding.action)

        return run

    async def discover(self) -> Hits:
        for text, help_text, binding in self._commands():
            yield DiscoveryHit(text, self._runner(binding), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, binding in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), self._runner(binding), help=help_text)
