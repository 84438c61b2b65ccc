"""Export cells into typed values: dates in the job's format and zone, booleans, lists, amounts."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from connectors.base import FieldType
from connectors.flags import read_flag
from connectors.local_time import parse_iso, to_utc



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
    """Typed values from cells, with the job's date settings."""

    def __init__(self, local: tzinfo, date_format: str | list[str] = "auto", date_order: str = "dmy") -> None:
        self.local = local
        self.explicit = [] if date_format in ("", "auto", None) else ([date_format] if isinstance(date_format, str) else list(date_format))
        self.formats = date_formats(date_order)

    def date(self, cell: Any) -> datetime | None:
        if isinstance(cell, datetime):
            return to_utc(cell, self.local)
        text = str(cell).strip()
        if not text:
            return None
        for fmt in self.explicit:
            try:
                return to_utc(datetime.strptime(text, fmt), self.local)
            except ValueError:
                continue
        if self.explicit:
            raise ValueError(f"not in the date format {', '.join(self.explicit)}: {text[:40]!r}")
        parsed = parse_iso(text, self.local)
        if parsed is not None:
            return parsed
        for fmt in self.formats:
            try:
                return to_utc(datetime.strptime(text, fmt), self.local)
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
