"""What the LLM is told: the target model, one object's schema, and redacted samples.

Nothing personal leaves the machine: email addresses and phone numbers are replaced
wherever they appear, values of fields holding people's names are replaced whole,
name-like word pairs inside short text are replaced too, and long text (bodies,
descriptions) is sent only as its shape ("<text, 120 chars>").
"""

from __future__ import annotations

import json
import re
from typing import Any

from connectors.base import FieldType
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence
from helpmig_tui.mapping.model import MigrationMap, ObjectMap, allowed_target_types
from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.sniff import sniff
from helpmig_tui.mapping.standard import STANDARD_FIELDS, is_required

EMAIL_ANYWHERE = re.compile(r"[^\s@<>()\[\]{}'\",;:]+@[^\s@<>()\[\]{}'\",;:]+\.[A-Za-z]{2,}")
PHONE_ANYWHERE = re.compile(r"(?<![\w$])\+?\d[\d\s().-]{5,}\d(?!\w)")
NAME_PAIR = re.compile(r"\b[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'-]+(?:\s+[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'.-]+){1,2}\b")
PERSON_WORDS = {
    "name", "fullname", "firstname", "lastname", "surname", "requester", "requestor", "customer", "client",
    "author", "technician", "assignee", "respons", "responsible", "request", "contact", "caller", "owner", "fio",
    "agent", "user", "sender", "creator", "leader", "manager",
}
TEXT_SHAPE = 80  # longer values are sent as their shape only
SAMPLES = 3
TOP_VALUES = 10


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def redact_value(value: str, person_field: bool) -> str:
    """A sample with everything personal replaced."""
    text = str(value).strip()
    if person_field:
        return "<name>"
    if len(text) > TEXT_SHAPE:
        return f"<text, {len(text)} chars>"
    text = EMAIL_ANYWHERE.sub("<email>", text)
    text = PHONE_ANYWHERE.sub(lambda m: "<phone>" if _digits(m.group()) >= 7 else m.group(), text)
    return NAME_PAIR.sub("<name>", text)


def is_person_field(f: FieldEvidence) -> bool:
    """A field whose values are people's names (by its name, or by what its values look like)."""
    if f.type in (FieldType.EMAIL, FieldType.PHONE, FieldType.INTEGER, FieldType.DATETIME, FieldType.BOOLEAN):
        return False
    tokens = set(words(f.name)) | set(words(f.label))
    if tokens & PERSON_WORDS and not tokens & {"id", "uuid", "key", "email", "mail", "phone", "type", "count"}:
        return True
    return sniff(f.samples).is_("person", 0.5)


def field_payload(ev: ObjectEvidence, f: FieldEvidence, current: Any) -> dict[str, Any]:
    person = is_person_field(f)
    long_text = f.type in (FieldType.TEXT, FieldType.HTML) or (f.longest or 0) > TEXT_SHAPE
    data: dict[str, Any] = {"field": f.name, "type": f.type.value}
    if f.label and f.label != f.name:
        data["label"] = f.label
    if f.references:
        data["points_at"] = f.references
    rate = ev.fill_rate(f)
    if rate is not None:
        data["filled"] = f"{rate:.0%}"
    if f.distinct is not None:
        data["distinct_values"] = f.distinct
    if f.longest:
        data["longest"] = f.longest
    if long_text and not person:
        data["samples"] = [f"<text, {len(s)} chars>" for s in f.samples[:SAMPLES]]
    else:
        data["samples"] = [redact_value(s, person) for s in f.samples[:SAMPLES]]
        if f.top_values and not person:
            data["values"] = [redact_value(v, False) for v, _ in f.top_values[:TOP_VALUES]]
    if current is not None:
        data["current_proposal"] = {"target": current.target.model_dump(mode="json", exclude_none=True),
                                    "reason": current.reason}
    return data


SYSTEM = """You map helpdesk data into Intercom. For every source field of the object you
are given, choose one target and the transforms its values need. Answer with JSON only:
{"fields": [{"field": "<source field>", "target": {...}, "transforms": [...],
"confidence": <0..1>, "reason": "<one line>"}]}.
Targets: {"type": "standard", "field": "<a standard field below>"}; {"type": "attribute",
"name": "<letters, digits, underscores>", "data_type": "string|integer|float|boolean|datetime|date|options"};
{"type": "tag", "prefix": ""}; {"type": "note", "label": "<label>"}; {"type": "column", "name": "<name>"};
{"type": "skip"}. Transforms, applied in order: {"op": "value_map", "mapping": {"<value>": "<target value>"}},
{"op": "date"}, {"op": "html_to_text"}, {"op": "truncate", "max_length": 255}, {"op": "split", "separator": ";"},
{"op": "join", "fields": ["<other field>"]}. Record keys and parent links are skipped.
Values shown as <email>, <phone>, <name> or <text, N chars> were redacted."""


def object_prompt(platform: str, ev: ObjectEvidence, om: ObjectMap, mmap: MigrationMap) -> dict[str, Any]:
    kind = om.target
    standard = [
        {"field": s.name, "type": s.value.value, "required": is_required(kind, s.name), "meaning": s.description,
         **({"values": list(s.options)} if s.options else {})}
        for s in STANDARD_FIELDS.get(kind, ())
    ]
    return {
        "platform": platform,
        "object": ev.name,
        "label": ev.label,
        "becomes": kind.value,
        "record_key": ev.key,
        "parent_link": ev.parent_field,
        "allowed_target_types": list(allowed_target_types(kind)),
        "standard_fields": standard,
        "fields": [field_payload(ev, f, mmap.field_map(ev.name, f.name)) for f in ev.fields],
    }


def messages(payload: dict[str, Any]) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}]

