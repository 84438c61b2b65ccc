"""Attachment files the walk cannot read (access denied; a path over Windows' 260
characters with long paths off) are findings with the reason, never silently missing.
The OS refusals are monkeypatched in (the tests run as root, who is never refused)."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from connectors import attachment_files
from connectors.attachment_files import (
    ACCESS_DENIED,
    IN_UNREADABLE_FOLDER,
    PATH_TOO_LONG,
    FileIndex,
    FolderIndex,
    unreadable_reason,
)
from connectors.registry import open_source
from connectors.samples import generate_smartertrack, generate_trackit
from helpmig_tui.audit import run_audit

LONG = "D:\\App_Data\\" + "\\".join(["a-folder-with-a-long-name"] * 11) + "\\file.dat"


@pytest.mark.parametrize(
    ("path", "exc", "windows", "reason"),
    [
        ("C:\\x.dat", PermissionError(errno.EACCES, "Access is denied"), True, ACCESS_DENIED),
        ("/x.dat", PermissionError(errno.EACCES, "Permission denied"), False, ACCESS_DENIED),
        ("/x" * 3000, OSError(errno.ENAMETOOLONG, "File name too long"), False, PATH_TOO_LONG),
        (LONG, FileNotFoundError(errno.ENOENT, "The system cannot find the path specified"), True, PATH_TOO_LONG),
        (LONG, FileNotFoundError(errno.ENOENT, "No such file or directory"), False, "No such file or directory"),
        ("C:\\short.dat", FileNotFoundError(errno.ENOENT, "The system cannot find the file"), True,
         "The system cannot find the file"),
        ("C:\\x.dat", OSError(errno.EIO, "Input/output error"), True, "Input/output error"),
    ],
)
def test_the_reason_is_named(path, exc, windows, reason):
    assert len(LONG) > 260
    assert unreadable_reason(path, exc, windows=windows) == reason


class Refusals:
    """Paths the 'OS' refuses: open (file ACLs), stat (long paths), scandir (folder ACLs)."""

    def __init__(self, monkeypatch) -> None:
        self.open: dict[str, OSError] = {}
        self.stat: dict[str, OSError] = {}
        self.scandir: dict[str, OSError] = {}
        real_open, real_stat, real_scandir = open, os.stat, os.scandir

        def fake_open(path, *args, **kwargs):
            if os.fspath(path) in self.open:
                raise self.open[os.fspath(path)]
            return real_open(path, *args, **kwargs)

        def fake_stat(path, *args, **kwargs):
            if isinstance(path, (str, Path)) and os.fspath(path) in self.stat:
                raise self.stat[os.fspath(path)]
            return real_stat(path, *args, **kwargs)

        def fake_scandir(path="."):
            if isinstance(path, (str, Path)) and os.fspath(path) in self.scandir:
                raise self.scandir[os.fspath(path)]
            return real_scandir(path)

        monkeypatch.setattr(attachment_files, "open", fake_open, raising=False)
        monkeypatch.setattr(os, "stat", fake_stat)
        monkeypatch.setattr(os, "scandir", fake_scandir)

    def deny_file(self, path: Path) -> None:
        self.open[str(path)] = PermissionError(errno.EACCES, "Permission denied", str(path))

    def too_long(self, path: Path) -> None:
        self.stat[str(path)] = OSError(errno.ENAMETOOLONG, "File name too long", str(path))

    def deny_folder(self, path: Path) -> None:
        self.scandir[str(path)] = PermissionError(errno.EACCES, "Permission denied", str(path))


@pytest.fixture
def refuse(monkeypatch) -> Refusals:
    return Refusals(monkeypatch)


def _tree(root: Path) -> None:
    for rel in ("ok.dat", "2024/denied.dat", "2024/deep/long.dat", "locked/inside.dat", "2023/other.dat"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"data")


def test_file_index_names_each_reason(tmp_path, refuse):
    _tree(tmp_path)
    refuse.deny_file(tmp_path / "2024" / "denied.dat")
    refuse.too_long(tmp_path / "2024" / "deep" / "long.dat")
    refuse.deny_folder(tmp_path / "locked")
    index = FileIndex(tmp_path)

    ok = index.ref("ok.dat", "report.pdf", "m1")
    assert ok.exists and ok.problem == "" and ok.open().read() == b"data"
    denied = index.ref("denied.dat", "invoice.pdf", "m2")
    assert denied.exists and denied.problem == ACCESS_DENIED
    with pytest.raises(OSError, match="access denied: .*denied.dat"):
        denied.open()
    long = index.ref("long.dat", "scan.tif", "m3", length=4)
    assert long.problem == PATH_TOO_LONG and long.size == 4
    hidden = index.ref("inside.dat", "photo.jpg", "m4")
    assert not hidden.exists and hidden.problem == IN_UNREADABLE_FOLDER

    [finding] = index.take_folder_findings()
    assert finding.code == "attachment.folder_unreadable" and finding.count == 1
    assert finding.keys == (str(tmp_path / "locked"),) and "access denied: 1" in finding.message
    assert "read access" in finding.detail
    assert index.take_folder_findings() == []  # reported once


def test_a_missing_file_is_plainly_missing_when_every_folder_was_read(tmp_path):
    _tree(tmp_path)
    ref = FileIndex(tmp_path).ref("gone.dat", "gone.pdf", "m1")
    assert not ref.exists and ref.problem == ""


def test_folder_index_never_turns_an_unreadable_folder_into_no_attachments(tmp_path, refuse):
    for rel in ("123/a.txt", "124/b.txt", "125/sub/c.txt", "125/d.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    refuse.deny_folder(tmp_path / "124")
    refuse.deny_folder(tmp_path / "125" / "sub")
    refuse.too_long(tmp_path / "125" / "d.txt")
    index = FolderIndex(tmp_path)
    assert [(r.name, r.problem) for r in index.refs(123, "t1")] == [("a.txt", "")]
    [folder] = index.refs(124, "t2")
    assert folder.name == "(folder 124)" and folder.problem == ACCESS_DENIED and not folder.exists
    assert sorted((r.name, r.problem) for r in index.refs(125, "t3")) == [
        ("(folder sub)", ACCESS_DENIED), ("d.txt", PATH_TOO_LONG)]


def test_an_unreadable_root_says_why(tmp_path, refuse):
    (tmp_path / "123").mkdir()
    refuse.deny_folder(tmp_path)
    index = FolderIndex(tmp_path)
    assert not index.available and index.root_problem == ACCESS_DENIED


def _file_of(manifest, where: str) -> tuple[str, str, Path]:
    """(message id, original name, path on disk) of one ordinary attachment."""
    with sqlite3.connect(manifest.options["sqlite"]) as conn:
        rows = conn.execute(
            "SELECT TicketMessageId, FileNameOriginal, FileNameOnDisk FROM st_TicketAttachments "
            "WHERE FileNameOriginal LIKE 'screenshot-%' AND IsDeleted = 0 ORDER BY TicketAttachmentId"
        ).fetchall()
    conn.close()
    files = {p.name: p for p in Path(manifest.attachments).rglob("*.dat")}
    for mid, original, on_disk in rows:
        path = files.get(on_disk)
        if path is not None and where in path.as_posix():
            return str(mid), original, path
    raise AssertionError("no such attachment in the sample")


def test_the_audit_reports_unreadable_smartertrack_files_with_the_reason(tmp_path, refuse):
    manifest = generate_smartertrack(tmp_path, tickets=60)
    mid, original, path = _file_of(manifest, "/Attachments/20")
    refuse.deny_file(path)
    archive = Path(manifest.attachments) / "Attachments" / "Archive"
    locked = next(p for p in sorted(archive.iterdir()) if p.is_dir() and any(p.iterdir()))
    refuse.deny_folder(locked)
    with open_source("smartertrack", manifest.options, lambda _name: None) as source:
        result = run_audit(source)
    found = {f.code: f for f in result.findings}
    denied = found["attachment.access_denied"]
    assert f"{mid}/{original}" in denied.keys and denied.count == 1 and "read access" in denied.detail
    folder = found["attachment.folder_unreadable"]
    assert folder.keys == (str(locked),) and folder.count == 1
    # Files not found while a folder could not be read may be in it: each says so, none is "missing".
    behind = found["attachment.unreadable"]
    assert IN_UNREADABLE_FOLDER in behind.message and "attachment.missing" not in found
    hidden = {p.name for p in locked.iterdir()} - {p.name for p in Path(manifest.attachments).rglob("*")
                                                   if p.parent != locked}
    with sqlite3.connect(manifest.options["sqlite"]) as conn:
        in_locked = conn.execute(
            f"SELECT COUNT(*) FROM st_TicketAttachments WHERE IsDeleted = 0 AND FileNameOnDisk IN "
            f"({','.join('?' * len(hidden))})", sorted(hidden)).fetchone()[0]
    conn.close()
    planted_missing = manifest.messy["missing_attachment"]["messages"]
    assert in_locked >= 1 and behind.count == in_locked + len(planted_missing)


def test_the_audit_reports_an_unreadable_trackit_folder(tmp_path, refuse):
    manifest = generate_trackit(tmp_path, tickets=60)
    root = Path(manifest.attachments)
    locked = next(p for p in sorted(root.iterdir()) if p.is_dir() and any(p.iterdir()))
    refuse.deny_folder(locked)
    with open_source("trackit", manifest.options, lambda _name: None) as source:
        result = run_audit(source)
    denied = next(f for f in result.findings if f.code == "attachment.access_denied")
    assert denied.count == 1 and denied.keys[0].endswith(f"/(folder {locked.name})")
