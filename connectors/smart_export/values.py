"""Export cells into typed values: dates in the job's format and zone, booleans, lists, amounts."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from connectors.base import FieldType
from connectors.flags import read_flag
from connectors.local_time import noted_utc, parse_iso



def date_formats(order: str) -> tuple[str, ...]:
    """strptime formats tried after ISO-8601; `order` settles 03/04/2024 (dmy or mdy). Dotted dates are day-first."""
    day, month = ("%d", "%m") if order == "dmy" else ("%m", "%d")
    formats = []
    for sep in (".",):
        formats += [f"%d{sep}%m{sep}%Y %H:%M:%S", f"%d{sep}%m{sep}%Y %H:%M", f"%d{sep}%m{sep}%Y"]
    for sep in ("/", "-"):
        base = f"{day}{sep}{month}{sep}%Y"
        formats += [f"{base} %H:%M:%S", f"{base} %H:%M", f"{base} %I:%M:%S %p", f"{base} %I:%M %p", base]
    formats += ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"]
    return tuple(formats)


class CellReader:
    """Typed values from cells, with the job's date settings. A wall-clock time the DST
    rule settled (a gap or an overlap in the job's zone) is noted in `noted`, which the
    reader takes per row (`take_notes`), so the audit and the load count those records."""

    def __init__(self, local: tzinfo, date_format: str | list[str] = "auto", date_order: str = "dmy") -> None:
        self.local = local
        self.explicit = [] if date_format in ("", "auto", None) else ([date_format] if isinstance(date_format, str) else list(date_format))
        self.formats = date_formats(date_order)
        self.noted: list[tuple[str, str]] = []  # (code, line) since the last `take_notes`

    def take_notes(self) -> list[tuple[str, str]]:
        noted, self.noted = self.noted, []
        return noted

    def _utc(self, value: datetime) -> datetime:
        return noted_utc(value, self.local, self.noted)

    def date(self, cell: Any) -> datetime | None:
        if isinstance(cell, datetime):
            return self._utc(cell)
        text = str(cell).strip()
        if not text:
            return None
        for fmt in self.explicit:
            try:
                return self._utc(datetime.strptime(text, fmt))
            except ValueError:
                continue
        if self.explicit:
            raise ValueError(f"not in the date format {', '.join(self.explicit)}: {text[:40]!r}")
        parsed = parse_iso(text, self.local, self.noted)
        if parsed is not None:
            return parsed
        for fmt in self.formats:
            try:
                return self._utc(datetime.strptime(text, fmt))
            except ValueError:
                continue
        raise ValueError(f"not a date: {text[:40]!r}")

    @staticmethod
    def boolean(cell: Any) -> bool | None:
        text = str(cell).strip()
        if not text:
            return None
        value = read_flag(text)
        if value is None:
            raise ValueError(f"not yes/no: {text[:20]!r}")
        return value

    @staticmethod
    def amount(cell: Any) -> float | None:
        text = str(cell).strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            return None
        if "," in text and "." in text:
            text = text.replace("," if text.index(",") < text.index(".") else ".", "")
        text = text.replace(",", ".")
        return float(text)

    def value(self, kind: FieldType, cell: Any) -> Any:
        if kind is FieldType.DATETIME:
            return self.date(cell)
        if kind is FieldType.BOOLEAN:
            return self.boolean(cell)
        if kind is FieldType.FLOAT:
            return self.amount(cell)
        if kind is FieldType.LIST:
            return [part.strip() for part in str(cell).split(";") if part.strip()]
        if isinstance(cell, datetime):
            return cell.isoformat(sep=" ")
        text = str(cell).strip()
        return text or None
