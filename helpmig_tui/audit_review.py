"""Classes of records the operator reviews before the load, recognised on any source.

They load (or not) by the map's rules, but each is usually a mistake at the source or a
record that is not what it seems: a pick-list value the field no longer offers, a due
date before the open date, a work order with nothing to say, a mailbox or queue posing
as a person, a company nobody belongs to. The audit names them with their keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.base import FieldSpec, FieldType, ObjectRole, ObjectSpec
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.vocabulary import name_matches

# mailboxes that send on their own: never a person, whatever the domain
AUTOMATED = frozenset(
    "noreply no-reply no_reply donotreply do-not-reply do_not_reply mailer-daemon mailerdaemon postmaster "
    "bounce bounces auto-reply autoreply notifications notification".split()
)
# a help desk's own shared mailboxes: a person when a customer's, a queue when the desk's
SHARED = frozenset(
    "support helpdesk help-desk help servicedesk service-desk service itsupport it-support it hotline tickets "
    "ticket queue desk".split()
)
DUE_WORDS = ("due", "deadline", "resolve_by", "resolution_due")
OPTION_TYPES = (FieldType.STRING, FieldType.OPTIONS)
MAX_VALUES_SHOWN = 5


def _address(value: Any) -> tuple[str, str] | None:
    text = str(value or "").strip().lower()
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    return (local, domain) if local and domain else None


@dataclass
class People:
    """Who the desk itself is: its agents' mail domains and its queues' addresses and keys."""

    agent_domains: set[str] = field(default_factory=set)
    queue_emails: set[str] = field(default_factory=set)
    queue_keys: dict[str, set[str]] = field(default_factory=dict)  # queue object -> keys

    def add_agent(self, email: Any) -> None:
        found = _address(email)
        if found and found[0] not in AUTOMATED:
            self.agent_domains.add(found[1])

    def add_queue(self, obj: str, key: str, email: Any) -> None:
        self.queue_keys.setdefault(obj, set()).add(key)
        found = _address(email)
        if found:
            self.queue_emails.add("@".join(found))

    def queue_account(self, email: Any, role: ObjectRole) -> str | None:
        """Why an address is a mailbox or queue rather than a person, or None."""
        found = _address(email)
        if found is None:
            return None
        local, domain = found
        if f"{local}@{domain}" in self.queue_emails:
            return "the address of one of the desk's queues"
        if local in AUTOMATED:
            return "an automated sender"
        if local in SHARED and (role is ObjectRole.AGENT or domain in self.agent_domains):
            return "a shared mailbox of the desk"
        return None


def is_queue_object(spec: ObjectSpec) -> bool:
    """Objects that hold queues (SmarterTrack's IsQueue users): shared inboxes, not people."""
    return spec.role in (ObjectRole.LOOKUP, ObjectRole.TEAM) and "queue" in (spec.name + " " + spec.label).lower()


def option_fields(spec: ObjectSpec) -> list[FieldSpec]:
    """Fields whose allowed values the source declares (pick lists, dropdown custom fields)."""
    return [f for f in spec.fields if f.options and f.type in OPTION_TYPES]


def not_an_option(f: FieldSpec, value: Any) -> str | None:
    """The value as text when it is filled and not among the field's options."""
    if value is None or isinstance(value, (list, tuple, dict)):
        return None
    text = str(value).strip()
    if not text or text in f.options or text in {str(o).strip() for o in f.options}:
        return None
    return text


def due_field(spec: ObjectSpec) -> FieldSpec | None:
    """A conversation's due date, by its name, when it also has a creation date."""
    if spec.role is not ObjectRole.CONVERSATION or not spec.created_field:
        return None
    for f in spec.fields:
        words = f"{f.name} {f.label}".lower()
        if f.type in (FieldType.DATETIME, FieldType.DATE) and f.name != spec.created_field \
                and any(word in words for word in DUE_WORDS):
            return f
    return None


def body_fields(spec: ObjectSpec) -> list[FieldSpec]:
    """A conversation's own long text (a description, notes kept on the ticket): its text
    fields that the vocabulary reads as a body or as nothing else (not a requester's name)."""
    found = []
    for f in spec.fields:
        if f.type not in (FieldType.TEXT, FieldType.HTML):
            continue
        matches = [m for m in name_matches(TargetKind.CONVERSATION, f.name, f.label) if m.score >= 0.7]
        if not matches or max(matches, key=lambda m: m.score).field == "body":
            found.append(f)
    return found


def contact_reference_fields(spec: ObjectSpec, contacts: Iterable[str]) -> list[FieldSpec]:
    names = set(contacts)
    return [f for f in spec.fields if f.references in names]


def values_line(values: dict[str, dict[str, int]]) -> str:
    """"Product: 'Modem' (3), 'ISDN' (1); Region: 'EMEA-old' (2)"."""
    parts = []
    for name, counts in values.items():
        shown = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        listed = ", ".join(f"{value!r} ({n})" for value, n in shown[:MAX_VALUES_SHOWN])
        more = f", and {len(shown) - MAX_VALUES_SHOWN} more" if len(shown) > MAX_VALUES_SHOWN else ""
        parts.append(f"{name}: {listed}{more}")
    return "; ".join(parts)
