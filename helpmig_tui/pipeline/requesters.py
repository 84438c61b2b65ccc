"""Who may become an Intercom contact: the rules the load and the scope check share.

A contact object whose map names an email needs a valid one: trimmed and case-folded
(Intercom treats emails without regard to case), or the record is rejected with its reason
("contact.email_missing", "contact.email_invalid": the audit's codes for those classes).
Records whose emails differ only in case are one person: the first becomes the contact,
the others are merged into it. A contact object whose map names no email is identified by
its source id alone (the identifier the map names).
"""

from __future__ import annotations

from helpmig_tui.audit import EMAIL_RE
from helpmig_tui.mapping.apply import MappedRecord
from helpmig_tui.mapping.model import MigrationMap, StandardTarget


def needs_email(mmap: MigrationMap, obj: str) -> bool:
    """Does the map give this contact object an email (then every contact needs a valid one)?"""
    cache = mmap._cache.setdefault("needs_email", {})
    if obj not in cache:
        cache[obj] = any(isinstance(fm.target, StandardTarget) and fm.target.field == "email"
                         for fm in mmap.fields_of(obj))
    return cache[obj]


def clean_email(value: object) -> str | None:
    """An email as Intercom gets it: trimmed and case-folded; None when it is not valid."""
    text = str(value or "").strip()
    return text.casefold() if EMAIL_RE.match(text) else None


def email_problem(mmap: MigrationMap, m: MappedRecord) -> tuple[str, str] | None:
    """(code, reason) when a contact cannot be created for lack of a valid email."""
    if not needs_email(mmap, m.object):
        return None
    raw = m.standard.get("email")
    if raw is None or not str(raw).strip():
        return "contact.email_missing", "no email address: Intercom could not tell this contact apart"
    if clean_email(raw) is None:
        return "contact.email_invalid", f"{str(raw).strip()[:80]!r} is not a valid email address"
    return None
