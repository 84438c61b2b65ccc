"""Whether what the operator typed for a contact (the fallback or the test contact) can be
an email address: checked where it is typed and again before a run, since every record
sent to an address that cannot be one is rejected, one by one."""

from __future__ import annotations


def checked_email(value: str) -> str | None:
    """The address without its surrounding blanks; None when it cannot be one."""
    email = value.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain.strip(".") or any(c.isspace() for c in email):
        return None
    return email
