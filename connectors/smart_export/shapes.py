"""What export tools and Excel add around the data: rows and headers that are not records.

Blank and delimiter-only rows, the header repeated mid-file (exports glued together),
footer and summary rows ("Итого: 301", "Total records: 300") are recognised and skipped
with a count; two columns with one header are kept apart with a suffix. Column names
made from headers in Cyrillic are transliterated, so they stay readable ASCII field names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

DATA, BLANK, HEADER, SUMMARY = "data", "blank", "header", "summary"
SKIPPED_LABELS = {BLANK: "blank or delimiter-only rows", HEADER: "repeated header rows",
                  SUMMARY: "footer or summary rows"}

# The first words of a total or a report line, in the languages exports come in.
_SUMMARY = re.compile(
    r"^\s*(grand\s+)?(total|totals|sum|count|records|rows|итог|итого|всего|количество|кол-во|сумма|записей|строк|"
    r"gesamt|summe|anzahl|insgesamt|exported|export(ed)?\s+(on|by|at)|report|выгружено|выгрузка|сформирован|отчет|отчёт)"
    r"\b", re.IGNORECASE)

_NUMBER = re.compile(r"^[\d\s.,]+$")

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia"], strict=True))


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def dedupe_headers(headers: Sequence[str]) -> tuple[list[str], dict[str, list[int]]]:
    """Headers made unique ("category", "category_2"), and each repeated header with its column numbers (1-based)."""
    seen: dict[str, list[int]] = {}
    out: list[str] = []
    taken = {h.strip().casefold() for h in headers}
    for i, header in enumerate(headers):
        name = header.strip()
        folded = name.casefold()
        if not name:
            out.append(name)
            continue
        seen.setdefault(folded, []).append(i + 1)
        n = len(seen[folded])
        if n == 1:
            out.append(name)
            continue
        candidate = f"{name}_{n}"
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.casefold())
        out.append(candidate)
    return out, {h: cols for h, cols in seen.items() if len(cols) > 1}


class RowShapes:
    """Tells a record from the rows around it: BLANK, a repeated HEADER, or a SUMMARY line.

    A summary row has at most two filled cells, the first naming a total or the export,
    and leaves the other columns a record needs (`needed`) empty or holding a number."""

    def __init__(self, headers: Sequence[str], needed: Sequence[int]) -> None:
        self.header = [h.strip().casefold() for h in headers]
        self.needed = tuple(needed)

    def kind(self, cells: Sequence[Any]) -> str:
        texts = [_text(c) for c in cells]
        filled = [i for i, t in enumerate(texts) if t]
        if not filled:
            return BLANK
        if len(filled) > 2:
            if texts and self.header and texts[0].casefold() == self.header[0] \
                    and [t.casefold() for t in texts[: len(self.header)]] == self.header:
                return HEADER
            return DATA
        if len(filled) == 2 and [t.casefold() for t in texts[: len(self.header)]] == self.header:
            return HEADER
        first = filled[0]
        if _SUMMARY.match(texts[first]) and not any(
                i != first and i < len(texts) and texts[i] and not _NUMBER.match(texts[i]) for i in self.needed):
            return SUMMARY
        return DATA


def column_name(header: str) -> str:
    """A field name from a header: lower-case ASCII words joined by underscores (Cyrillic transliterated)."""
    text = "".join(_CYRILLIC.get(c, c) for c in header.strip().casefold())
    name = re.sub(r"[^0-9a-z]+", "_", text).strip("_")
    return name or "column"
