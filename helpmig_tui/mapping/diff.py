"""What changed between two maps, row by row, in words (the review screen's diff)."""

from __future__ import annotations

from dataclasses import dataclass

from helpmig_tui.mapping.model import FieldMap, MigrationMap, ObjectMap


@dataclass(frozen=True)
class RowChange:
    key: str  # OBJECT or OBJECT.FIELD
    change: str  # added | removed | changed
    before: str
    after: str


def _object_text(om: ObjectMap) -> str:
    options = om.options.describe()
    return om.target.value + (f" ({options})" if options else "")


def _field_text(fm: FieldMap) -> str:
    transforms = fm.describe_transforms()
    return fm.target.describe() + (f" [{transforms}]" if transforms else "")


def diff_maps(old: MigrationMap, new: MigrationMap) -> list[RowChange]:
    """Rows whose meaning differs (targets, options, transforms); review state is ignored."""
    changes: list[RowChange] = []
    old_objects = {o.object: o for o in old.objects}
    for om in new.objects:
        before = old_objects.pop(om.object, None)
        if before is None:
            changes.append(RowChange(om.object, "added", "", _object_text(om)))
        elif before.semantic() != om.semantic():
            changes.append(RowChange(om.object, "changed", _object_text(before), _object_text(om)))
    changes += [RowChange(name, "removed", _object_text(om), "") for name, om in old_objects.items()]
    old_fields = {f.key: f for f in old.fields}
    for fm in new.fields:
        previous = old_fields.pop(fm.key, None)
        if previous is None:
            changes.append(RowChange(fm.key, "added", "", _field_text(fm)))
        elif previous.semantic() != fm.semantic():
            changes.append(RowChange(fm.key, "changed", _field_text(previous), _field_text(fm)))
    changes += [RowChange(key, "removed", _field_text(fm), "") for key, fm in old_fields.items()]
    if old.timezone != new.timezone:
        changes.insert(0, RowChange("(time zone)", "changed", old.timezone, new.timezone))
    return changes
