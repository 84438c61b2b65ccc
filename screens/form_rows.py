"""Form lines shared by the wizard's forms: a label and a compact widget on one line, so
a whole connection form fits an 80x24 terminal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label, Static, Switch


def row(label: str, widget: Widget) -> Horizontal:
    return Horizontal(Label(label, classes="field-label"), widget, classes="field-row")


def field(label: str, widget: Widget, help_text: str = "") -> ComposeResult:
    yield row(label, widget)
    if help_text:
        yield Static(help_text, classes="field-help")


def switch_row(widget_id: str, label: str, value: bool) -> Horizontal:
    return Horizontal(Switch(value=value, id=widget_id), Label(label), classes="switch-row")


def secret_field(name: str, label: str, help_text: str = "") -> ComposeResult:
    """A masked field for secret `name` (#secret-NAME), with a line saying where the secret
    comes from (#secret-NAME-source), filled in by the screen."""
    yield row(label, Input(password=True, id=f"secret-{name}", placeholder="typed in for this session only", compact=True))
    yield Static("", id=f"secret-{name}-source", classes="field-help")
    if help_text:
        yield Static(help_text, classes="field-help")


class NumberInput(Input):
    """A whole-number field that lets letters through to the screen's keys: `v` validates
    while the focus is in the sample size (Textual gives a focused Input every printable key)."""

    def __init__(self, value: str = "", **kwargs) -> None:
        super().__init__(value, type="integer", **kwargs)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and (character.isdigit() or character in "+-")
