"""A generated SMART Service Desk export folder: CSV (any encoding and delimiter) or XLSX, with messy rows.

`write_smart_export(folder, ...)` writes every file of the default layout plus the
attachment files, deterministically by seed, and returns the `GroundTruth`: records
per object, rows a correct reader rejects, comments per ticket, attachment files and
the messy cases (duplicate ids, unreadable dates, missing and escaping attachment
paths, CAB members without a login) and the shapes export tools add around the data
(a second column under one header, the header repeated mid-file, a blank row, a
"Total" footer, a private flag that cannot be read).
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.samples.fake_http import INVALID_BYTE
from connectors.samples.ground_truth import GroundTruth

BASE = datetime(2024, 1, 8, 9, 30)  # export-local wall clock
FORMATS = ("csv", "xlsx", "workbook")


def _stamp(when: datetime, style: str) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if style == "iso" else when.strftime("%d.%m.%Y %H:%M")


def _write(folder: Path, name: str, header: list[str], rows: list[list[Any]], *, fmt: str, encoding: str,
           delimiter: str, book: Any) -> None:
    if fmt == "csv":
        with (folder / f"{name}.csv").open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
        return
    import openpyxl  # noqa: PLC0415 - XLSX only

    if fmt == "xlsx":
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet(name)
    else:
        workbook, sheet = None, book.create_sheet(name)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if workbook is not None:
        workbook.save(folder / f"{name}.xlsx")


def _shapes(rows: list[list[Any]], header: list[str], repeat_at: int | None, *, blank: bool) -> int:
    """What export tools add around the data: the header again (before the row at `repeat_at`),
    a blank row and a footer; returns how many rows a reader must skip."""
    added = 0
    if repeat_at is not None:
        rows.insert(repeat_at, list(header))
        added += 1
    if blank:
        rows.append([""] * len(header))
        added += 1
    rows.append([f"Total: {len(rows) - added}"] + [""] * (len(header) - 1))
    return added + 1


MESSY_ROWS = 7  # the planted duplicate and blank ids copy tickets 3, 5 and 6


def write_smart_export(
    folder: str | Path,
    *,
    size: int = 40,
    seed: int = 1,
    fmt: str = "csv",
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    date_style: str = "iso",
    messy: bool = True,
    messy_rows: bool = False,
) -> GroundTruth:
    """Write an export folder with `size` tickets; returns what a correct connector reads from it.
    `messy_rows` (a UTF-8 CSV export): a description with a byte that is not UTF-8, and one of 1.1 MB."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}")
    folder = Path(folder)
    (folder / "files").mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    truth = GroundTruth("smart-export")
    book = None
    if fmt == "workbook":
        import openpyxl  # noqa: PLC0415 - XLSX only

        book = openpyxl.Workbook(write_only=True)

    def write(name: str, header: list[str], rows: list[list[Any]]) -> None:
        _write(folder, name, header, rows, fmt=fmt, encoding=encoding, delimiter=delimiter, book=book)

    def when(hours: float) -> Any:
        moment = BASE + timedelta(hours=hours)
        return moment if fmt != "csv" else _stamp(moment, date_style)

    orgs = [[f"O{n}", f"Organisation {n}", f"org{n}.example.com"] for n in range(4)]
    orgs[1][1] = "Société Générale Müller"
    write("organizations", ["org_id", "name", "domain"], orgs)
    truth.counts["organizations"] = len(orgs)

    users: list[list[Any]] = []
    agents = []
    for n in range(max(12, size // 2)):
        agent = n < 4
        email = f"{'agent' if agent else 'user'}{n}@example.com"
        users.append([f"U{n}", email, f"José Person {n}" if n == 5 else f"Person {n}", f"+49 30 {n:06d}", f"Organisation {n % 4}",
                      "agent" if agent else "customer", "yes", f"login{n}" if agent or n % 3 == 0 else "", "IT" if agent else "Sales"])
        if agent:
            agents.append(email)
    users.append(["U900", "cab.nologin@example.com", "Bob No-Login", "", "Organisation 0", "agent", "yes", "", "IT"])
    truth.add_messy("cab_member_without_login", "cab.nologin@example.com")
    if messy:
        users.append(["U901", users[6][1].upper(), "Same Mail", "", "Organisation 0", "customer", "no", "", "Sales"])
        truth.add_messy("user_duplicate_email", "U901")
    write("users", ["user_id", "email", "name", "phone", "organization", "role", "active", "login", "department"], users)
    truth.counts["technicians"] = sum(1 for u in users if u[5] == "agent")
    truth.counts["users"] = len(users) - truth.counts["technicians"]

    header = ["ticket_id", "subject", "description", "status", "priority", "type", "category", "requester_email",
              "requester_name", "assignee_email", "team", "organization", "created_at", "updated_at", "closed_at",
              "channel", "tags", "cf_asset_tag", "Legacy Ref"] + (["Category"] if messy else [])
    tickets: list[list[Any]] = []
    comments: list[list[Any]] = []
    children: dict[str, int] = {}
    manifest: list[list[Any]] = []
    files = {"tickets": 0, "comments": 0}
    for n in range(size):
        tid = f"T-{n:04d}"
        customer = users[4 + n % (len(users) - 6)]
        created = n * 13.0
        tickets.append([tid, f"Drucker {n} druckt nicht – 5 €" if n % 4 == 0 else f"Ticket {n}", f"Body of ticket {n}\nsecond line",
                        ["Open", "Pending", "Resolved", "Closed"][n % 4], ["Low", "Medium", "High", "Urgent"][n % 4],
                        "Request", ["Hardware", "Software", "Access"][n % 3], customer[1], customer[2], rnd.choice(agents),
                        "Service Desk", customer[4], when(created), when(created + 5),
                        when(created + 9) if n % 4 == 3 else "", "email" if n % 2 else "portal",
                        "vip;printer" if n % 5 == 0 else "", f"AT-{n}", f"L{n}"] + ([f"Sub {n % 3}"] if messy else []))
        n_comments = rnd.randint(0, 3)
        for c in range(n_comments):
            cid = f"C-{n:04d}-{c}"
            comments.append([cid, tid, f"Comment {c} on {tid}", when(created + c + 1),
                             rnd.choice(agents) if c % 2 else customer[1], "", "yes" if c == 2 else "no", "no"])
            if c == 0 and n % 6 == 0:
                (folder / "files" / f"{cid}.txt").write_text(f"log of {cid}", encoding="utf-8")
                manifest.append([f"A-{cid}", tid, cid, f"files\\{cid}.txt", f"{cid}.txt", when(created + 1)])
                files["comments"] += 1
        if n_comments:
            children[tid] = n_comments
        if n % 7 == 1:
            (folder / "files" / f"{tid}.pdf").write_bytes(b"%PDF-1.4 " + tid.encode())
            manifest.append([f"A-{tid}", tid, "", f"files/{tid}.pdf", f"{tid}.pdf", when(created)])
            files["tickets"] += 1
    truth.counts["tickets"] = len(tickets)
    stray = (messy_rows and len(tickets) >= 2 and fmt == "csv"
             and encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8"))
    if stray:
        tickets[-1][2] = f"Caf{INVALID_BYTE} au lait\nsecond line"
        truth.add_messy("undecodable_text", tickets[-1][0])
        tickets[-2][2] = "A log line that goes on. " * 44_000
        truth.add_messy("large_body", tickets[-2][0])
    if messy and len(tickets) >= MESSY_ROWS:  # a tiny demo export (--tickets 3) has no room for them
        tickets.append(list(tickets[3]))
        truth.add_messy("duplicate_id_identical", tickets[3][0])
        conflicting = list(tickets[5])
        conflicting[1] = "A different subject under the same id"
        tickets.append(conflicting)
        truth.add_messy("duplicate_id_different", tickets[5][0])
        tickets.append([""] + list(tickets[6][1:]))
        truth.add_messy("ticket_without_id", "")
        truth.rejected["tickets"] = 3
        if fmt == "csv":
            tickets[7][12] = "31.02.2024 25:00"
            truth.add_messy("ticket_unreadable_date", tickets[7][0])
        comments.append(["C-ORPHAN", "T-9999", "A comment whose ticket is not exported", when(1), "user4@example.com", "", "no", "no"])
        if comments[0][0] != "C-ORPHAN":
            comments[0][6] = "?"  # neither yes nor no: the comment must load as an internal note
            truth.add_messy("comment_private_unreadable", comments[0][0])
        truth.add_messy("comment_orphan", "C-ORPHAN")
        children["T-9999"] = 1
        manifest.append(["A-missing", "T-0002", "", "files/not-there.png", "not-there.png", when(2)])
        manifest.append(["A-escape", "T-0002", "", "../outside.txt", "outside.txt", when(2)])
        manifest.append(["A-orphan", "T-9999", "", "files/orphan.txt", "orphan.txt", when(2)])
        (folder / "files" / "orphan.txt").write_text("no ticket", encoding="utf-8")
        truth.add_messy("attachment_orphan", "A-orphan")
        files["tickets"] += 2
        truth.missing_attachments = 2
        truth.add_messy("attachment_missing", "A-missing")
        truth.add_messy("attachment_outside_folder", "A-escape")
    comment_header = ["comment_id", "ticket_id", "body", "created_at", "author_email", "author_name", "is_private", "is_html"]
    if messy:
        truth.add_messy("duplicate_header", "category")
        truth.skipped["tickets"] = _shapes(tickets, header, len(tickets) - 3, blank=fmt == "csv")
        truth.skipped["comments"] = _shapes(comments, comment_header, None, blank=False)
    write("tickets", header, tickets)
    if stray:  # the export's one byte that is not UTF-8, as a hand-edited or concatenated file has
        path = folder / "tickets.csv"
        path.write_bytes(path.read_bytes().replace(INVALID_BYTE.encode("utf-8"), b"\xe9"))
    write("comments", comment_header, comments)
    write("attachments", ["attachment_id", "ticket_id", "comment_id", "file_path", "file_name", "created_at"], manifest)
    truth.counts["comments"] = len(comments) - truth.skipped.get("comments", 0)
    truth.children = {"comments": children}
    truth.attachments = files

    articles = [[f"KB{n}", f"How to fix {n}", f"<p>Step {n}</p>", ["Printers", "Accounts", "Network"][n % 3], "yes", when(n)]
                for n in range(6)]
    write("kb_articles", ["article_id", "title", "body", "category", "is_public", "created_at"], articles)
    truth.counts["kb_articles"] = 6
    truth.counts["kb_categories"] = 3

    k = max(2, size // 10)
    write("problems", ["problem_id", "title", "status", "impact", "urgency", "related_tickets", "root_cause", "created_at"],
          [[f"P{n}", f"Problem {n}", "Open", "High", "Low", f"T-{n:04d};T-{n + 1:04d}", "Firmware", when(n)] for n in range(k)])
    write("changes", ["change_id", "title", "category", "risk", "impact", "approval_status", "cab_members", "planned_start", "created_at"],
          [[f"CH{n}", f"Change {n}", "Normal", "Medium", "Low", "Approved",
            f"{agents[0]};cab.nologin@example.com" + (";Carol External" if n == 0 else ""), when(100 + n), when(n)] for n in range(k)])
    truth.add_messy("cab_member_without_login", "Carol External")
    write("releases", ["release_id", "title", "status", "planned_start", "planned_end", "related_changes", "created_at"],
          [[f"R{n}", f"Release {n}", "Planned", when(200), when(210), f"CH{n}", when(n)] for n in range(k)])
    write("assets", ["asset_id", "name", "serial_number", "asset_type", "location", "status", "assigned_user_email", "vendor_id"],
          [[f"AS{n}", f"Laptop {n}", f"SN{n:06d}", "Workstation", "Berlin", "In use", users[4 + n][1], "V0"] for n in range(k)])
    write("vendors", ["vendor_id", "name", "email", "type"], [[f"V{n}", f"Vendor {n}", f"sales@vendor{n}.example", "Hardware"] for n in range(3)])
    write("contracts", ["contract_id", "name", "type", "vendor_id", "start_date", "end_date", "sla_tier"],
          [[f"K{n}", f"Support {n}", "Maintenance", f"V{n % 3}", when(0), when(24 * 365), "Gold"] for n in range(k)])
    write("purchase_orders", ["po_number", "vendor_id", "total_amount", "status", "line_items"],
          [[f"PO-{n}", f"V{n % 3}", "1 234,50" if fmt == "csv" else 1234.5, "Received", "2 laptops"] for n in range(k)])
    truth.counts.update(problems=k, changes=k, releases=k, assets=k, contracts=k, vendors=3, purchase_orders=k)
    if book is not None:
        book.save(folder / "export.xlsx")
    return truth
