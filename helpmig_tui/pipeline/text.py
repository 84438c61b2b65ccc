"""Text as Intercom takes it: NULs removed, cp1252 mojibake repaired, long bodies split or
attached whole.

The audit promises these repairs ("removed on load", "repaired where unambiguous"); this
is where they happen, and each repair is reported as a flag on the record.

A body up to `INLINE_PIECES` parts' worth of text is split over parts (the message and
continuation notes). A longer one would be hundreds of notes (a 50 MB body, 800), each
answered by the whole conversation: its beginning goes in the message instead, and the
full text as a file (or several, each within the file limit) on a note right after it.
"""

from __future__ import annotations

import re

from helpmig_tui.audit import BODY_LIMIT, CP1252_BYTE, MOJIBAKE

INLINE_PIECES = 4  # parts a body may be split over before it is attached whole instead
MAX_FILE_BYTES = 25 * 1024 * 1024  # larger files are listed in the report, not uploaded inline
FULL_TEXT_PREFIX = "full-text-of-"  # the files a long body is attached as (validation tells them apart)
_TAG = re.compile(r"<[a-zA-Z!/][^>]{0,200}>")


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
    """The text in pieces of at most `limit` characters, cut at a line break when one is near
    (each piece is copied once: the time is linear in the text)."""
    if len(text) <= limit:
        return [text]
    pieces = []
    start, end = 0, len(text)
    window = min(2000, limit // 2)  # how far back a line break is looked for
    while end - start > limit:
        cut = text.rfind("\n", start + limit - window, start + limit)
        cut = cut if cut > start else start + limit
        pieces.append(text[start:cut])
        start = cut
        while start < end and text[start] == "\n":
            start += 1
    if start < end:
        pieces.append(text[start:])
    return pieces


def too_long(text: str) -> bool:
    """Would splitting this text take more parts than a body may be split over?"""
    return len(text) > INLINE_PIECES * BODY_LIMIT


def opening(text: str, files: list[str], size: int, *, html: bool) -> str:
    """The beginning of a long body, and where the rest is."""
    first = chunks(text[: BODY_LIMIT + 1])[0]
    where = ", ".join(files)
    line = f"(The message continues: its full text, {size:,} characters, is attached as {where}.)"
    return f"{first}\n<p>{line}</p>" if html else f"{first}\n\n{line}"


def full_text_files(name: str, content: str, limit: int = MAX_FILE_BYTES) -> list[tuple[str, str, bytes]]:
    """A long body as files of at most `limit` bytes each, cut between characters:
    (file name, content type, bytes). HTML stays HTML; anything else is plain text."""
    html = bool(_TAG.search(content[:65536]))
    ext, content_type = (".html", "text/html") if html else (".txt", "text/plain")
    data = content.encode("utf-8", "replace")
    pieces: list[bytes] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and end > start and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        pieces.append(data[start:end])
        start = end
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-") or "message"
    if len(pieces) == 1:
        return [(f"{FULL_TEXT_PREFIX}{safe}{ext}", content_type, pieces[0])]
    return [(f"{FULL_TEXT_PREFIX}{safe}-{n}-of-{len(pieces)}{ext}", content_type, piece)
            for n, piece in enumerate(pieces, start=1)]
