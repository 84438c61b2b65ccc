"""What the LLM is told: the target model, one object's schema, and redacted samples.

Nothing personal leaves the machine, and what carries meaning does:

- by pattern: email addresses (valid or not: anything with an @ or an (at)) and phone
  numbers are replaced wherever they appear;
- by field: every value of a field about people (requester, technician, author, ... by its
  words, whatever its values look like, keys excepted) is replaced whole, and any value that
  equals a person's name or email seen anywhere in the source is replaced in every field,
  whatever its case ("bob tech" as well as "Bob Tech");
- by shape: long text (bodies, descriptions) is sent only as its shape ("<text, 120 chars>"),
  and capitalised word pairs inside free text are taken for names;
- category values (statuses, priorities, groups, pick lists) are sent as they are: they are
  not personal, and the LLM needs them to read the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.model import MigrationMap, ObjectMap, allowed_target_types
from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.sniff import shape, sniff
from helpmig_tui.mapping.standard import STANDARD_FIELDS, is_required
from helpmig_tui.mapping.vocabulary import segment

EMAIL_ANYWHERE = re.compile(r"[^\s<>()\[\]{}'\",;:]*(@|\(at\)|\[at\])[^\s<>()\[\]{}'\",;:]*", re.IGNORECASE)
PHONE_ANYWHERE = re.compile(r"(?<![\w$])\+?\d[\d\s().-]{5,}\d(?!\w)")
NAME_PAIR = re.compile(r"\b[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'-]+(?:\s+[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'.-]+){1,2}\b")
PERSON_WORDS = {
    "name", "fullname", "firstname", "lastname", "surname", "requester", "requestor", "customer", "client",
    "author", "technician", "assignee", "respons", "responsible", "request", "contact", "caller", "owner", "fio",
    "agent", "user", "sender", "creator", "leader", "manager", "tech", "person", "employee", "reporter",
    "login", "username", "userid", "loginid", "nickname", "account",
}
NOT_PEOPLE = {"type", "count", "status", "priority", "role", "group", "team", "category", "language", "number"}
GENERIC_NAMES = {"name", "fullname", "title"}  # a person's name on a contact, a label on a status or a group
PEOPLE = {ObjectRole.CONTACT, ObjectRole.AGENT}
CATEGORY_ROLES = {ObjectRole.TEAM, ObjectRole.LOOKUP, ObjectRole.KB_CATEGORY, ObjectRole.TAG}
KEY_KINDS = {"integer", "uuid", "hex", "float", "boolean", "date", "datetime"}
TEXT_SHAPE = 80  # longer values are sent as their shape only
SAMPLES = 3
TOP_VALUES = 10


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def redact_value(value: str, person_field: bool, known: frozenset[str] = frozenset(), *,
                 category: bool = False) -> str:
    """A sample with everything personal replaced; `category` values keep their words."""
    text = str(value).strip()
    if text.casefold() in known and "@" in text:
        return "<email>"
    if person_field or text.casefold() in known:
        return "<name>"
    if len(text) > TEXT_SHAPE:
        return f"<text, {len(text)} chars>"
    text = EMAIL_ANYWHERE.sub("<email>", text)
    text = PHONE_ANYWHERE.sub(lambda m: "<phone>" if _digits(m.group()) >= 7 else m.group(), text)
    return text if category else NAME_PAIR.sub("<name>", text)


def is_person_field(f: FieldEvidence, role: ObjectRole | None = None) -> bool:
    """A field whose values are about people: by its words (keys whose values are numbers or
    ids excepted; a bare "name" only on contacts and agents), or by what its values look like."""
    if f.type in (FieldType.EMAIL, FieldType.PHONE, FieldType.INTEGER, FieldType.DATETIME, FieldType.BOOLEAN):
        return False
    tokens = {t for n in (f.name, f.label) for w in words(n) for t in (w, *segment(w))}
    people = tokens & PERSON_WORDS if role in PEOPLE or role is None else tokens & (PERSON_WORDS - GENERIC_NAMES)
    values = sniff(f.samples or tuple(v for v, _ in f.top_values))
    if people and not tokens & NOT_PEOPLE and values.kind not in KEY_KINDS:
        return True
    return role not in CATEGORY_ROLES and values.is_("person", 0.5)


def personal_values(evidence: SourceEvidence) -> frozenset[str]:
    """People's names and emails seen anywhere in the source, case-folded: replaced in every
    field they turn up in."""
    found: set[str] = set()
    for obj in evidence.objects:
        for f in obj.fields:
            values = [*f.samples, *(v for v, _ in f.top_values)]
            if is_person_field(f, obj.role):
                found.update(str(v).strip().casefold() for v in values if str(v).strip())
            found.update(str(v).strip().casefold() for v in values if "@" in str(v))
    return frozenset(found)


def _category(ev: ObjectEvidence, f: FieldEvidence) -> bool:
    """Statuses, priorities, groups, pick lists: a small domain of labels, or any field of a
    lookup, a team or a category."""
    sh = shape(f.samples, f.top_values, filled=f.filled, count=ev.count, distinct=f.distinct, longest=f.longest)
    return ev.role in CATEGORY_ROLES or f.type is FieldType.OPTIONS or sh.kind in ("enum", "constant")


def field_payload(ev: ObjectEvidence, f: FieldEvidence, current: Any, known: frozenset[str] = frozenset()) -> dict[str, Any]:
    person = is_person_field(f, ev.role)
    category = not person and _category(ev, f)
    long_text = f.type in (FieldType.TEXT, FieldType.HTML) and not category or (f.longest or 0) > TEXT_SHAPE
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
        data["samples"] = [redact_value(s, person, known, category=category) for s in f.samples[:SAMPLES]]
        if f.top_values and not person:
            data["values"] = [redact_value(v, False, known, category=category) for v, _ in f.top_values[:TOP_VALUES]]
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
{"op": "join", "fields": ["<other field>"]}. Record keys and parent links are skipped. A standard field
takes one source field only. Values shown as <email>, <phone>, <name> or <text, N chars> were redacted."""


def object_prompt(platform: str, ev: ObjectEvidence, om: ObjectMap, mmap: MigrationMap,
                  known: frozenset[str] = frozenset()) -> dict[str, Any]:
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
        "fields": [field_payload(ev, f, mmap.field_map(ev.name, f.name), known) for f in ev.fields],
    }


def messages(payload: dict[str, Any]) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}]
