"""The Mapping step's dialogs: edit a field, edit an object, bulk confirm, the diff.

Dialogs only collect and check input; the screen applies it through the engine, which
records every change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static, TextArea

from helpmig_tui.mapping.diff import RowChange
from helpmig_tui.mapping.model import FieldMap, FieldTarget, ObjectMap, ObjectOptions, allowed_target_types, target_problem
from helpmig_tui.mapping.standard import STANDARD_FIELDS, TargetKind
from helpmig_tui.mapping.transforms import Transform

ATTRIBUTE_TYPES = ("string", "integer", "float", "boolean", "datetime", "date", "options")
_TARGET = TypeAdapter(FieldTarget)
_TRANSFORM = TypeAdapter(Transform)


def _pydantic_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


@dataclass(frozen=True)
class FieldEdit:
    target: FieldTarget
    transforms: list[Transform]


class _Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self._save()

    def _save(self) -> None:
        raise NotImplementedError

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def _error(self, text: str) -> None:
        self.query_one("#error", Static).update(text)

    def _buttons(self, label: str) -> ComposeResult:
        yield Static("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button("Cancel", id="cancel")
            yield Button(label, id="save", variant="primary")


class FieldDialog(_Dialog):
    """Target and transforms of one field; transforms are JSON, one per line."""

    def __init__(self, fm: FieldMap, kind: TargetKind) -> None:
        super().__init__()
        self.fm = fm
        self.kind = kind

    def compose(self) -> ComposeResult:
        fm, target = self.fm, self.fm.target
        standard = [(f"{f.name}: {f.description}", f.name) for f in STANDARD_FIELDS.get(self.kind, ())]
        name = getattr(target, "name", None) or getattr(target, "label", None) or getattr(target, "prefix", "") or ""
        with VerticalScroll(classes="dialog mapping-dialog"):
            yield Static(f"{fm.key} → {self.kind.value}", classes="title")
            yield Static(f"Samples: {', '.join(fm.samples) or '(none)'}\nctrl+s saves, escape cancels.",
                         classes="intro")
            yield Label("Target")
            yield Select([(t, t) for t in allowed_target_types(self.kind)], value=target.type, allow_blank=False,
                         id="type")
            yield Label("Standard field")
            yield Select(standard, value=getattr(target, "field", Select.NULL), id="standard")
            yield Label("Attribute or column name, note label, or tag prefix")
            yield Input(value=name, id="name")
            yield Label("Attribute type")
            yield Select([(t, t) for t in ATTRIBUTE_TYPES], value=getattr(target, "data_type", "string"),
                         allow_blank=False, id="data_type")
            yield Label("A reference's values are")
            yield Select([("keys", "key"), ("email addresses", "email"), ("names", "name")],
                         value=getattr(target, "match", "key"), allow_blank=False, id="match")
            yield Input(value=getattr(target, "refers_to", None) or "", placeholder="the source object it points at",
                        id="refers_to")
            yield Label('Transforms, one JSON object per line, e.g. {"op": "html_to_text"}')
            yield TextArea("\n".join(json.dumps(t.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
                                     for t in fm.transforms), id="transforms")
            yield from self._buttons("Save")

    def read(self) -> FieldEdit:
        """The edit as entered; ValueError with a readable line when it is not valid."""
        kind = str(self.query_one("#type", Select).value)
        name = self.query_one("#name", Input).value.strip()
        data: dict[str, object] = {"type": kind}
        if kind == "standard":
            data["field"] = self.query_one("#standard", Select).value
            refers = self.query_one("#refers_to", Input).value.strip()
            data["refers_to"] = refers or None
            data["match"] = self.query_one("#match", Select).value
        elif kind == "attribute":
            data.update(name=name, data_type=self.query_one("#data_type", Select).value)
        elif kind in ("note", "column"):
            data["label" if kind == "note" else "name"] = name
        elif kind == "tag":
            data["prefix"] = name
        try:
            target = _TARGET.validate_python(data)
        except ValidationError as exc:
            raise ValueError(f"target: {_pydantic_line(exc)}") from None
        problem = target_problem(self.kind, target)
        if problem:
            raise ValueError(problem)
        transforms = []
        lines = self.query_one("#transforms", TextArea).text.splitlines()
        for number, line in enumerate((x for x in lines if x.strip()), start=1):
            try:
                transforms.append(_TRANSFORM.validate_json(line))
            except ValidationError as exc:
                raise ValueError(f"transform {number}: {_pydantic_line(exc)}") from None
        return FieldEdit(target, transforms)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        try:
            edit = self.read()
        except ValueError as exc:
            self._error(str(exc))
            return
        self.dismiss(edit)


@dataclass(frozen=True)
class ObjectEdit:
    target: TargetKind
    options: ObjectOptions


class ObjectDialog(_Dialog):
    """What an object becomes (among its allowed targets) and its options."""

    def __init__(self, om: ObjectMap, allowed: list[TargetKind]) -> None:
        super().__init__()
        self.om = om
        self.allowed = allowed

    def compose(self) -> ComposeResult:
        om, o = self.om, self.om.options
        with VerticalScroll(classes="dialog mapping-dialog"):
            yield Static(f"{om.object} ({om.role or 'object'})", classes="title")
            yield Static("Another target proposes the object's fields afresh. ctrl+s saves, escape cancels.",
                         classes="intro")
            yield Label("Becomes")
            yield Select([(t.value, t.value) for t in self.allowed], value=om.target.value, allow_blank=False,
                         id="target")
            yield Label("Conversation channel")
            yield Select([(c, c) for c in ("email", "chat", "phone")], value=o.channel or Select.NULL, id="channel")
            yield Label("Conversations over 500 parts")
            yield Select([("split into several", "split"), ("summarise the rest", "summarise")],
                         value=o.parts_over_500 or Select.NULL, id="parts_over_500")
            yield Label("Parts without a direction are")
            yield Select([("replies", "comment"), ("internal notes", "note")], value=o.part_type or Select.NULL,
                         id="part_type")
            yield Label("Custom object type")
            yield Input(value=o.custom_object_type or "", id="custom_object_type")
            yield Label("Tag every record with")
            yield Input(value=o.tag or "", id="tag")
            yield Label("Contact for records without a requester (email)")
            yield Input(value=o.placeholder_contact or "", id="placeholder_contact")
            for n, rule in enumerate(o.skip_when):  # unticked: the records it leaves out migrate
                yield Checkbox(f"Leave out {rule.reason} ({rule.field})", True, id=f"rule-{n}")
            yield from self._buttons("Save")

    def read(self) -> ObjectEdit:
        def select(name: str) -> str | None:
            value = self.query_one(f"#{name}", Select).value
            return None if value is Select.NULL else str(value)

        def text(name: str) -> str | None:
            return self.query_one(f"#{name}", Input).value.strip() or None

        try:
            options = ObjectOptions(channel=select("channel"), parts_over_500=select("parts_over_500"),
                                    part_type=select("part_type"), custom_object_type=text("custom_object_type"),
                                    tag=text("tag"), placeholder_contact=text("placeholder_contact"),
                                    skip_when=[rule for n, rule in enumerate(self.om.options.skip_when)
                                               if self.query_one(f"#rule-{n}", Checkbox).value])
        except ValidationError as exc:
            raise ValueError(_pydantic_line(exc)) from None
        return ObjectEdit(TargetKind(select("target")), options)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        try:
            edit = self.read()
        except ValueError as exc:
            self._error(str(exc))
            return
        self.dismiss(edit)


class BulkConfirmDialog(_Dialog):
    """Confirm every proposed row at or above a confidence; edited rows count as chosen."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Confirm in bulk", classes="title")
            yield Static("Every unconfirmed row at or above this confidence is confirmed; rows you edited are "
                         "confirmed too. 0 confirms everything.", classes="intro")
            yield Label("Minimum confidence (0 to 1)")
            yield Input(value="0.90", id="threshold")
            yield from self._buttons("Confirm")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        raw = self.query_one("#threshold", Input).value.strip()
        try:
            value = float(raw)
        except ValueError:
            self._error(f"{raw!r} is not a number")
            return
        if not 0.0 <= value <= 1.0:
            self._error("give a number between 0 and 1")
            return
        self.dismiss(value)


class DiffDialog(_Dialog):
    """What changed since the previous confirmed version (read only: nothing to save)."""

    inherit_bindings = False
    BINDINGS = [Binding("escape,d", "cancel", "Close")]

    def __init__(self, title: str, changes: list[RowChange]) -> None:
        super().__init__()
        self.title_text = title
        self.changes = changes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog diff-dialog"):
            yield Static(self.title_text, classes="title")
            yield DataTable(id="changes", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="buttons"):
                yield Button("Close", id="cancel")

    def on_mount(self) -> None:
        table = self.query_one("#changes", DataTable)
        table.add_columns("Row", "Change", "Before", "After")
        for change in self.changes:
            table.add_row(change.key, change.change, change.before, change.after)
