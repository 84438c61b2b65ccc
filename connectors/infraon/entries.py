"""What an Infraon conversation entry is: who wrote it, from which side, and whether it only
records a change.

An entry is a `message` (a requester's mail, a technician's reply), a `note` (type
"Add Notes", a private entry, anything listed under notes) or a `system` entry that only
records a change (types like "Status Change", "Priority Change": `system_types`). The
rule for system entries is explicit and reported: `note` keeps them as internal notes
(a change with no text says its type), `skip` leaves them out. The side (`direction`)
follows: note for notes and system entries, agent for a technician's entry, customer
otherwise, so a technician's reply is never posted as the customer's even when no
Intercom admin matches the technician.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connectors.infraon.people import Directory, Person

NOTE_TYPES = frozenset({"add notes", "add note", "note", "notes", "private note", "internal note"})
DEFAULT_SYSTEM_TYPES = ("Status Change", "Priority Change", "State Change", "Assignment Change", "Urgency Change",
                        "Impact Change", "Severity Change", "SLA Change")
SYSTEM_RULES = ("note", "skip")
_MARKUP = re.compile(r"<[^>]*>|&nbsp;|\s")


def has_text(html: Any) -> bool:
    return bool(_MARKUP.sub("", str(html or "")))


def parse_type_list(value: Any) -> frozenset[str]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return frozenset(str(item).strip().casefold() for item in items if str(item).strip())


@dataclass(frozen=True)
class EntryRule:
    system_types: frozenset[str]  # case-folded entry types that only record a change
    system_entries: str = "note"  # note | skip

    def kind(self, entry_type: Any, private: bool, listed_as_note: bool) -> str:
        folded = str(entry_type or "").strip().casefold()
        if folded in self.system_types:
            return "system"
        if listed_as_note or private or folded in NOTE_TYPES:
            return "note"
        return "message"


def describe(data: dict[str, Any], who: Person, technicians: Directory, requesters: Directory, rule: EntryRule,
             listed_as_note: bool) -> str:
    """Fill an entry's author and side fields; returns its kind."""
    if who.side == "requester":  # the entry says so: a requester who shares a technician's email stays one
        requester = requesters.match(who)
        technician = None if requester else technicians.match(who)
    else:
        technician = technicians.match(who)
        requester = None if technician else requesters.match(who)
    data["author_id"] = who.key
    data["author_name"] = data.get("author_name") or who.name
    data["author_email"] = data.get("author_email") or who.email
    data["author_technician"] = technician
    data["author_requester"] = requester
    private = data.get("is_private")
    kind = rule.kind(data.get("type"), private is True, listed_as_note)
    data["entry_kind"] = kind
    by_technician = technician is not None or (requester is None and who.side == "technician")
    # a private flag that cannot be read leaves the side unknown: the map makes it a note
    data["direction"] = "note" if kind != "message" else None if private is None else (
        "agent" if by_technician else "customer")
    if kind == "system" and not has_text(data.get("content")):
        data["content"] = f"<p>{data.get('type')}</p>"
    return kind
