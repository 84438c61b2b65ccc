"""Who may become an Intercom contact: the rules the load and the scope check share.

A contact object whose map names an email needs a valid one: trimmed and case-folded
(Intercom treats emails without regard to case), or the record is rejected with its reason
("contact.email_missing", "contact.email_invalid": the audit's codes for those classes).
Records whose emails differ only in case are one person: the first becomes the contact,
the others are merged into it. A contact object whose map names no email is identified by
its source id alone (the identifier the map names). A ticket that names no requester goes
to the operator's fallback contact when one is set, and is rejected with its reason when not.
"""

from __future__ import annotations

from helpmig_tui.audit import EMAIL_RE
from helpmig_tui.mapping.apply import MappedRecord, missing_code
from helpmig_tui.mapping.model import MigrationMap, StandardTarget
from helpmig_tui.mapping.transforms import Flag


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


FALLBACK_FLAG = "requester.fallback"


def take_fallback(m: MappedRecord, fallback: str | None) -> bool:
    """A ticket that names no requester goes to the operator's fallback contact when one is
    set (the requester's rule, the same for the load and the scope check): its missing
    requester stops rejecting it, the record carries the fallback as its placeholder and a flag
    says so. With no fallback, or other problems besides missing fields, nothing changes."""
    if not fallback or "contact" not in m.missing:
        return False
    m.missing.remove("contact")
    m.references["placeholder_contact"] = fallback
    m.flags.append(Flag("contact", FALLBACK_FLAG, f"no requester in the source: the fallback contact {fallback}"))
    if not m.missing:
        m.rejected, m.rejected_code = None, None
    else:  # still missing a field the load may fill (a date from the thread): that reason alone
        problems = [p for p in (m.rejected or "").split("; ") if not p.startswith(f"{m.kind.value}.contact ")]
        m.rejected, m.rejected_code = "; ".join(problems), missing_code(m.kind, m.missing[0])
    return True
