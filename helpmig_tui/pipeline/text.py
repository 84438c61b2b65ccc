"""Text as Intercom takes it: NULs removed, cp1252 mojibake repaired, long bodies split.

The audit promises these repairs ("removed on load", "repaired where unambiguous"); this
is where they happen, and each repair is reported as a flag on the record.
"""

from __future__ import annotations

from helpmig_tui.audit import BODY_LIMIT, CP1252_BYTE, MOJIBAKE


def repair(text: str) -> tuple[str, list[str]]:
    """The text with NULs removed and mis-decoded runs fixed, and what was done."""
    done = []
    if "\x00" in text:
        text = text.replace("\x00", "")
        done.append("NUL characters removed")

    def fix(match) -> str:
        try:
            return bytes(CP1252_BYTE[ch] for ch in match.group()).decode("utf-8")
        except UnicodeDecodeError:
            return match.group()

    fixed = MOJIBAKE.sub(fix, text)
    if fixed != text:
        done.append("mis-decoded characters repaired")
    return fixed, done


def chunks(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """The text in pieces of at most `limit` characters, cut at a line break when one is near."""
    if len(text) <= limit:
        return [text]
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", limit - 2000, limit)
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces
