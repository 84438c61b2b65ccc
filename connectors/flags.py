"""Yes/no values as every source writes them, read the same way by every connector.

A value that is not a known yes or no word is None (unknown), never False: a private flag
that cannot be read must not turn a private note into a public reply.
"""

from __future__ import annotations

from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t", "x", "on", "да", "д", "wahr", "ja", "oui", "si", "sí", "sim", "vrai"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f", "off", "нет", "н", "falsch", "nein", "non", "não", "nao", "faux"})


def read_flag(value: Any) -> bool | None:
    """True, False, or None when the value is empty or says neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return None if value != value else value != 0  # NaN says nothing
    if value is None:
        return None
    text = str(value).strip().casefold()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None
