"""Intercom's rules for custom attribute names, and making a valid name from a source field.

Intercom refuses a name with anything but "alphanumeric characters, currency symbols, and
hyphens" (the 400 message in the 2.16 description); its own examples also use spaces
("Mithril Shirt") and underscores ("paid_subscriber"), so those pass. Generated names use
only lower-case ASCII letters, digits and underscores: they survive every reading of the
rule and match the seeds' names (itsm_priority, ti_ticket_id).
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 190  # Intercom states no limit; long names are unreadable in the inbox anyway
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_NOT_A_WORD = re.compile(r"[\W_]+")


def name_problem(name: str) -> str | None:
    """Why Intercom would refuse `name` as a custom attribute name, or None."""
    if not name or not name.strip():
        return "the name is empty"
    if name != name.strip():
        return "the name starts or ends with a space"
    if len(name) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    for char in name:
        if char.isalnum() or char in " _-" or unicodedata.category(char) == "Sc":
            continue
        return f"{char!r} is not allowed: use letters, digits, currency symbols, hyphens, underscores or spaces"
    return None


def words(name: str) -> list[str]:
    """A source field name split into lower-case words: DateOpenedUtc -> date, opened, utc.
    Accents are dropped (Région -> region); letters of other scripts stay (Дата создания)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    spaced = _CAMEL.sub(" ", plain)
    return [w for w in _NOT_A_WORD.split(spaced.lower()) if w]


CUSTOM_MARKS = {"cf", "udf"}  # custom-field markers dropped from names: cf_rack -> rack


def attribute_name(field: str, prefix: str = "") -> str:
    """A valid attribute name for a source field: st + Custom Field -> st_custom_field,
    infraon + cf_rack -> infraon_rack, ti + Region__c -> ti_region."""
    parts = [p for p in (_NOT_WORD.sub("", w) for w in words(field)) if p]  # names stay ASCII
    while len(parts) > 1 and parts[0] in CUSTOM_MARKS:
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "c" and "__c" in field.lower():
        parts = parts[:-1]
    base = "_".join(parts) or "field"
    if prefix:
        clean_prefix = "_".join(p for p in (_NOT_WORD.sub("", w) for w in words(prefix)) if p)
        if clean_prefix and not base.startswith(clean_prefix + "_"):
            base = f"{clean_prefix}_{base}"
    return base[:MAX_NAME].rstrip("_")


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or name_2, name_3... when it is already taken (case-insensitive)."""
    lowered = {t.casefold() for t in taken}
    if name.casefold() not in lowered:
        return name
    n = 2
    while f"{name}_{n}".casefold() in lowered:
        n += 1
    return f"{name}_{n}"
