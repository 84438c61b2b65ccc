"""The keys screen (F1): the keys of the step you are on, the global keys, how it works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

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
| `ctrl+p` | command palette: open a project, change theme, quit |
| `F2` | switch between dark and light |
| `escape` | back one step |
| `ctrl+q` | quit (a running load stops safely and resumes later) |
"""


def _key_table(screen: Screen) -> str:
    rows = []
    seen = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.show or not binding.description or binding.description in seen:
            continue
        seen.add(binding.description)
        rows.append(f"| `{screen.app.get_key_display(binding)}` | {binding.description} |")
    if not rows:
        return ""
    return "## On this screen\n\n| Key | What it does |\n|---|---|\n" + "\n".join(rows) + "\n\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, underneath: Screen) -> None:
        super().__init__()
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown("# Keys\n\n" + _key_table(self.underneath) + GUIDE)

    def action_dismiss(self) -> None:
        self.dismiss(None)
