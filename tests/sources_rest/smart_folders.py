"""SMART Service Desk export folders the way customers produce them, written here by hand and
independently of connectors/samples/smart_export_sample.py: Russian exports in Windows-1251
(and UTF-8 with and without BOM, UTF-16 "Unicode text" from Excel, XLSX) with Russian
headers, a German one in Windows-1252 with English headers; `;` or tab delimiters, quoted
line breaks, mixed date formats, a column header twice, blank and delimiter-only rows,
the header repeated mid-file, and an "Итого" footer. `Expected` is what a correct reader
reads from it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Moscow")
SHAPED = ("tickets", "comments")  # the files that get a repeated header, blank rows and a footer
BASE = datetime(2024, 3, 4, 9, 15)


@dataclass(frozen=True)
class Language:
    tickets: list[str]  # ticket_id subject description status priority category category requester_email requester_name
    # assignee_email created_at closed_at
    comments: list[str]  # ticket_id body created_at author_email is_private
    users: list[str]  # email name role phone
    attachments: list[str]  # ticket_id file_path file_name
    file_name: str
    subject: str
    steps: tuple[str, ...]
    yes: str
    no: str
    statuses: tuple[str, str]  # open, closed
    categories: tuple[str, str]
    total: str
    technician: str
    customer: str
    people: tuple[str, ...]


RU = Language(
    tickets=["Номер", "Тема", "Описание", "Статус", "Приоритет", "Категория", "Категория", "Email заявителя", "Заявитель",
             "Исполнитель (email)", "Дата создания", "Дата закрытия"],
    comments=["Номер заявки", "Текст", "Дата", "Автор (email)", "Приватный"],
    users=["E-mail", "ФИО", "Роль", "Телефон"], attachments=["Номер заявки", "Путь к файлу", "Имя файла"],
    file_name="Скриншот ошибки",
    subject="Новый ноутбук", steps=("Шаги:", "1. Включить питание", "2. Нажать «Пуск»; ждать"), yes="Да", no="Нет",
    statuses=("Открыта", "Закрыта"), categories=("Оборудование", "Ноутбуки"), total="Итого", technician="Специалист",
    customer="Пользователь", people=("Иван Петров", "Ольга Смирнова", "Пётр Ёлкин", "Анна Щукина"),
)
# Russian values under the layout's own header names (the export tool's defaults)
RU_PLAIN = replace(
    RU, tickets=["ticket_id", "subject", "description", "status", "priority", "category", "category", "requester_email",
                 "requester_name", "assignee_email", "created_at", "closed_at"],
    comments=["ticket_id", "body", "created_at", "author_email", "is_private"], users=["email", "name", "role", "phone"],
    attachments=["ticket_id", "file_path", "file_name"])
EN_DE = Language(
    tickets=["Ticket ID", "Subject", "Description", "Status", "Priority", "Category", "Category", "Requester Email",
             "Requester", "Assignee Email", "Created", "Closed"],
    comments=["Ticket", "Text", "Date", "Author Email", "Private"],
    users=["Email", "Full Name", "Role", "Phone"], attachments=["Ticket", "File Path", "File Name"],
    file_name="Größe Übersicht",
    subject="Drucker druckt nicht – 5 €", steps=("Schritte:", "1. Gerät öffnen", "2. „Reset“ drücken; warten"),
    yes="ja", no="nein", statuses=("Offen", "Geschlossen"), categories=("Hardware", "Drucker"), total="Total",
    technician="Technician", customer="Customer", people=("Jörg Müller", "Zoë Weiß", "François Dubois", "Ana Muñoz"),
)


@dataclass
class Expected:
    tickets: dict[str, dict] = field(default_factory=dict)
    comments: list[dict] = field(default_factory=list)  # in file order
    technicians: list[str] = field(default_factory=list)  # emails
    customers: list[str] = field(default_factory=list)
    case_duplicate: str = ""  # a ticket's requester: a customer's email in capitals
    no_requester: list[str] = field(default_factory=list)  # ticket ids without a valid requester email
    files: list[str] = field(default_factory=list)  # attachment files, all present
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> kind -> rows


def _stamp(when: datetime, n: int) -> str:
    """Mixed date formats, as exports merged from several sources have them."""
    return (when.strftime("%d.%m.%Y %H:%M"), when.strftime("%Y-%m-%d %H:%M:%S"), when.strftime("%d.%m.%Y"))[n % 3]


def _utc(text: str) -> datetime:
    for fmt in ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=ZONE).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(text)


def _rows(lang: Language, n: int, expected: Expected) -> dict[str, list[list[str]]]:
    techs = [f"tech{i}@acme.example" for i in range(2)]
    customers = [f"user{i}@client.example" for i in range(len(lang.people))]
    expected.technicians, expected.customers = techs, customers
    users = [[email, f"Техник {i}" if lang is RU else f"Tech {i}", lang.technician, f"+7 495 000-00-0{i}"]
             for i, email in enumerate(techs)]
    users += [[email, lang.people[i], lang.customer, ""] for i, email in enumerate(customers)]
    tickets, comments = [], []
    for i in range(n):
        tid = f"{1000 + i}"
        created = BASE + timedelta(hours=7 * i)
        stamp = _stamp(created, i)
        closed = i % 4 == 3
        requester = customers[i % len(customers)]
        if i % 10 == 3:
            requester = ""
        elif i % 10 == 7:
            requester = "ivan(at)client.example"
        elif i == 5:  # a customer's email typed in capitals: the same person, one contact
            requester = expected.case_duplicate = requester.upper()
        if "@" not in requester or "(" in requester:
            expected.no_requester.append(tid)
        description = "\n".join((f"{lang.subject} {i}", *lang.steps))
        closed_text = _stamp(created + timedelta(days=1), i + 1) if closed else ""
        tickets.append([tid, f"{lang.subject} {i}", description, lang.statuses[closed], "High", lang.categories[0],
                        f"{lang.categories[1]} {i}", requester, lang.people[i % len(lang.people)], techs[i % 2], stamp,
                        closed_text])
        expected.tickets[tid] = {"subject": f"{lang.subject} {i}", "description": description, "created_at": _utc(stamp),
                                 "closed_at": _utc(closed_text) if closed else None, "category": lang.categories[0],
                                 "category_2": f"{lang.categories[1]} {i}", "requester_email": requester or None}
        for c in range(i % 4):
            private = c == 1
            author = techs[c % 2] if c else requester or customers[0]
            body = f"{lang.steps[0]} {tid}/{c}\n{lang.steps[1]}" if c != 2 else f"{lang.people[c]}: ok"
            when = _stamp(created + timedelta(minutes=30 * (c + 1)), c)
            comments.append([tid, body, when, author, lang.yes if private else lang.no])
            expected.comments.append({"ticket_id": tid, "body": body, "created_at": _utc(when), "author_email": author,
                                      "is_private": private})
    return {"users": users, "tickets": tickets, "comments": comments}


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str, lang: Language, shapes: bool,
              counts: dict[str, int]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for n, row in enumerate(rows):
        if shapes and n == len(rows) // 2:  # two exports glued together: the header again, and a blank line
            writer.writerow(header)
            out.write("\r\n")
            counts["header"] = counts.get("header", 0) + 1
            counts["blank"] = counts.get("blank", 0) + 1
        writer.writerow(row)
    if shapes:
        out.write(delimiter * (len(header) - 1) + "\r\n")  # Excel's delimiter-only line
        writer.writerow([f"{lang.total}: {len(rows)}"] + [""] * (len(header) - 1))
        counts["blank"] = counts.get("blank", 0) + 1
        counts["summary"] = counts.get("summary", 0) + 1
    return out.getvalue()


def write_customer_export(folder: Path, *, lang: Language = RU, encoding: str = "cp1251", delimiter: str = ";",
                          fmt: str = "csv", n: int = 30, shapes: bool = True) -> Expected:
    """Write tickets, comments and users; `encoding` "utf-16" writes Excel's "Unicode text" (UTF-16LE with BOM)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = Expected()
    data = _rows(lang, n, expected)
    headers = {"tickets": lang.tickets, "comments": lang.comments, "users": lang.users, "attachments": lang.attachments}
    data["attachments"] = []
    (folder / "files").mkdir(exist_ok=True)
    for i, tid in enumerate(list(expected.tickets)[:4]):  # files named in the customer's language
        name = f"{lang.file_name} {i}.txt"
        (folder / "files" / name).write_bytes(f"{tid}: {lang.subject}".encode())
        data["attachments"].append([tid, f"files\\{name}", name])
        expected.files.append(name)
    for name, rows in data.items():
        counts: dict[str, int] = {}
        if fmt == "xlsx":
            _write_xlsx(folder / f"{name}.xlsx", headers[name], rows, lang, shapes and name in SHAPED, counts)
        else:
            text = _csv_text(headers[name], rows, delimiter, lang, shapes and name in SHAPED, counts)
            if encoding == "utf-16":
                payload = b"\xff\xfe" + text.encode("utf-16-le")
            else:
                payload = text.encode(encoding)
            (folder / f"{name}.csv").write_bytes(payload)
        expected.skipped[name] = counts
    return expected


def _write_xlsx(path: Path, header: list[str], rows: list[list[str]], lang: Language, shapes: bool,
                counts: dict[str, int]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for n, row in enumerate(rows):
        if shapes and n == len(rows) // 2:
            sheet.append(header)
            sheet.append([])
            counts.update(header=1, blank=1)
        cells = list(row)
        for i, value in enumerate(cells):  # Excel keeps a real date where it recognised one
            if isinstance(value, str) and len(value) == 16 and value[2] == "." and i in (2, 10):
                cells[i] = datetime.strptime(value, "%d.%m.%Y %H:%M")
        sheet.append(cells)
    if shapes:
        sheet.append([])  # openpyxl writes no row for an empty list: the footer follows the data
        sheet.append([f"{lang.total}: {len(rows)}"])
        counts["summary"] = 1
    book.save(path)
