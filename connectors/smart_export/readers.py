"""Finding an export file and reading its rows, whatever Excel or the export tool did to it.

CSV: the encoding is decided from the whole file (encoding.py) unless the job names it,
and the delimiter (`,` `;` tab `|`) is sniffed. XLSX: openpyxl, imported only when an
XLSX is read, in read-only mode so a large sheet streams. A file holds one object, or a
workbook holds one sheet per object.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from connectors.base import SourceError
from connectors.smart_export.encoding import CANDIDATES, EncodingDecision, decide_encoding

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class ExportFile:
    path: Path
    sheet: str | None = None  # for a workbook with one sheet per object
    encoding: str | None = None
    delimiter: str | None = None
    decision: EncodingDecision | None = None

    def describe(self) -> str:
        if self.sheet:
            return f"{self.path.name} [{self.sheet}]"
        extra = ", ".join(x for x in (self.encoding, repr(self.delimiter) if self.delimiter else None) if x)
        return f"{self.path.name} ({extra})" if extra else self.path.name


def sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, newline="", errors="replace") as handle:  # decoding errors surface when read
        sample = handle.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count) if first else ","


def _workbooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in XLSX_SUFFIXES and not p.name.startswith("~$"))


def _openpyxl():
    try:
        import openpyxl  # noqa: PLC0415 - optional, imported only for XLSX exports
    except ModuleNotFoundError:
        raise SourceError("reading XLSX exports needs the Python package openpyxl", hint="pip install openpyxl",
                          code="source.missing_dependency") from None
    return openpyxl


def _workbook(path: Path):  # -> openpyxl Workbook
    """The workbook at `path`, read-only; SourceError naming the file when it is no workbook
    (a truncated copy, an HTML or CSV file saved as .xlsx: was a BadZipFile traceback)."""
    openpyxl = _openpyxl()
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, openpyxl.utils.exceptions.InvalidFileException) as exc:
        raise SourceError(f"{path.name} cannot be read as an Excel workbook ({exc or type(exc).__name__})",
                          hint="export it again, or open it in Excel and save it as .xlsx or .csv",
                          code="source.bad_export_file") from None


def find_export(folder: Path, stem: str, *, encoding: str, fallback: str, delimiter: str) -> ExportFile | None:
    """The file (or workbook sheet) holding `stem`, with its encoding and delimiter settled."""
    wanted = stem.casefold()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.stem.casefold() != wanted:
            continue
        suffix = path.suffix.lower()
        if suffix in CSV_SUFFIXES:
            candidates = CANDIDATES if fallback in ("", "auto") else (fallback,)
            decision = decide_encoding(path, forced=None if encoding == "auto" else encoding, candidates=candidates)
            sep = sniff_delimiter(path, decision.encoding) if delimiter == "auto" else delimiter.replace("\\t", "\t")
            return ExportFile(path, encoding=decision.encoding, delimiter=sep, decision=decision)
        if suffix in XLSX_SUFFIXES:
            return ExportFile(path)
    for book in _workbooks(folder):
        workbook = _workbook(book)
        try:
            for name in workbook.sheetnames:
                if name.strip().casefold() == wanted:
                    return ExportFile(book, sheet=name)
        finally:
            workbook.close()
    return None


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return str(value)


def _no_rows() -> Generator[tuple[int, list[Any]], None, None]:
    yield from ()


# csv's default field limit (128 KiB) would end the read of a whole file at one long
# description; a field up to this size is read (the load attaches what Intercom cannot take)
FIELD_LIMIT = 1 << 28


def read_rows(export: ExportFile) -> tuple[list[str], Generator[tuple[int, list[Any]], None, None]]:
    """(headers, rows) where each row is (spreadsheet row number, cells); the header is row 1.
    Every row comes back, blank ones included (shapes.py decides what is a record)."""
    if export.path.suffix.lower() in XLSX_SUFFIXES:
        return _xlsx_rows(export)
    errors = export.decision.errors if export.decision is not None else "strict"
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    handle = export.path.open("r", encoding=export.encoding, newline="", errors=errors)
    reader = csv.reader(handle, delimiter=export.delimiter or ",")
    try:
        headers = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        handle.close()
        return [], _no_rows()
    except UnicodeDecodeError:
        handle.close()
        raise SourceError(f"{export.path.name} is not {export.encoding}", hint="set the encoding option", code="source.malformed") from None

    def rows() -> Generator[tuple[int, list[Any]], None, None]:
        try:
            for number, row in enumerate(reader, start=2):
                yield number, row  # blank rows too: the source counts what it skips
        except UnicodeDecodeError:
            raise SourceError(f"{export.path.name} is not {export.encoding}", hint="set the encoding option",
                              code="source.malformed") from None
        except csv.Error as exc:
            raise SourceError(f"{export.path.name} is not valid CSV near row {reader.line_num}: {exc}",
                              code="source.malformed") from None
        finally:
            handle.close()

    return headers, rows()


def _xlsx_rows(export: ExportFile) -> tuple[list[str], Generator[tuple[int, list[Any]], None, None]]:
    workbook = _workbook(export.path)
    sheet = workbook[export.sheet] if export.sheet else workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        headers = [str(_cell(h)).strip() for h in next(values)]
    except StopIteration:
        workbook.close()
        return [], _no_rows()

    def rows() -> Generator[tuple[int, list[Any]], None, None]:
        try:
            for number, row in enumerate(values, start=2):
                yield number, [_cell(v) for v in row]
        finally:
            workbook.close()

    return headers, rows()
