"""Paths as the operator typed them (drive letters, shares, long paths), SQLite URIs with
no authority, and which kind of drive a path is on: Windows' answers computed with ntpath
and a monkeypatched GetDriveTypeW, Linux's from mountinfo and sysfs."""

from __future__ import annotations

import ctypes
import ntpath
import sqlite3
from pathlib import Path, PureWindowsPath
from urllib.parse import unquote

import pytest

from connectors import file_paths
from connectors.file_paths import (
    DRIVE_CDROM,
    DRIVE_FIXED,
    DRIVE_NO_ROOT_DIR,
    DRIVE_RAMDISK,
    DRIVE_REMOTE,
    DRIVE_REMOVABLE,
    DriveKind,
    absolute,
    extended_length,
    linux_drive_kind,
    mount_of,
    sqlite_uri,
    windows_drive_kind,
    windows_root,
)
from helpmig_tui.settings import resolve_paths

WINDOWS_PATHS = [
    r"Z:\helpdesk\projects",
    r"\\fileserver\migrations\helpdesk",
    r"\\?\D:\very\deep\folder",
    r"\\?\UNC\fileserver\share\x",
    r"C:\Users\admin\AppData\Local\helpmig\projects\acme corp (2024)\state.sqlite",
    r"Z:\odd #name%20?\100% done.sqlite",
]


@pytest.mark.parametrize(
    ("typed", "cwd", "expected"),
    [
        (r"Z:\helpdesk\..\migrations", None, r"Z:\migrations"),  # a mapped drive stays a drive letter
        ("Z:/helpdesk/./data", None, r"Z:\helpdesk\data"),
        (r"\\fileserver\share\helpdesk\..\x", None, r"\\fileserver\share\x"),
        (r"projects\acme", r"Z:\work", r"Z:\work\projects\acme"),
        (r"..\home", r"\\fileserver\share\work", r"\\fileserver\share\home"),
    ],
)
def test_windows_paths_are_made_absolute_as_typed(typed, cwd, expected):
    assert absolute(typed, cwd=cwd or "C:\\", pathmod=ntpath) == expected


def test_a_link_is_kept_as_typed_not_resolved(tmp_path):
    """On Windows resolve() turns Z:\\ into \\\\server\\share; the same call follows links here."""
    (tmp_path / "target").mkdir()
    link = tmp_path / "mapped"
    link.symlink_to(tmp_path / "target", target_is_directory=True)
    assert absolute(link / "home") == str(link / "home")
    assert resolve_paths(link / "home").home == link / "home"
    assert (link / "home").resolve() != link / "home"  # what the old code stored


def test_a_relative_home_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_paths("data").home == tmp_path / "data"


def test_long_windows_paths_get_the_extended_prefix_and_short_ones_do_not():
    short = "C:\\" + "a" * 200 + "\\state.sqlite"
    assert extended_length(short) == short
    deep = "D:\\" + "\\".join(["folder-name-of-twenty"] * 12) + "\\state.sqlite"
    assert extended_length(deep) == "\\\\?\\" + deep
    share = "\\\\fileserver\\share\\" + "\\".join(["folder-name-of-twenty"] * 12) + "\\state.sqlite"
    assert extended_length(share) == "\\\\?\\UNC\\fileserver\\share\\" + share[len("\\\\fileserver\\share\\"):]
    assert extended_length("\\\\?\\" + deep) == "\\\\?\\" + deep  # never prefixed twice
    # the journal SQLite writes beside the file counts: 252 + len("-journal") reaches 260
    edge = "C:\\" + "b" * (252 - len("C:\\"))
    assert len(edge) == 252 and extended_length(edge).startswith("\\\\?\\")
    assert not extended_length(edge[:-1]).startswith("\\\\?\\")


@pytest.mark.parametrize("path", WINDOWS_PATHS)
def test_sqlite_uris_have_no_authority_and_decode_to_the_path(path):
    uri = sqlite_uri(path, mode="ro")
    assert uri.startswith("file:") and not uri.startswith("file://")
    body, _, query = uri[len("file:"):].partition("?")
    assert unquote(body) == path and query == "mode=ro"


def test_pathlib_gives_a_share_an_authority_sqlite_refuses():
    """Why helpmig builds its own URI: Windows' SQLite says "invalid uri authority"."""
    assert PureWindowsPath(r"\\fileserver\share\x.sqlite").as_uri() == "file://fileserver/share/x.sqlite"
    assert not sqlite_uri(r"\\fileserver\share\x.sqlite").startswith("file://")


def test_sqlite_opens_awkward_paths_through_the_uri(tmp_path):
    folder = tmp_path / "odd #name%20?" / "100% done, é"
    folder.mkdir(parents=True)
    path = folder / "state?.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a)")
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    ro = sqlite3.connect(sqlite_uri(path, mode="ro"), uri=True)
    try:
        assert ro.execute("SELECT a FROM t").fetchall() == [(1,)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.execute("INSERT INTO t VALUES (2)")
    finally:
        ro.close()
    with pytest.raises(sqlite3.OperationalError):  # a wrong path fails, it does not create a file
        sqlite3.connect(sqlite_uri(folder / "missing.sqlite", mode="ro"), uri=True)
    assert not (folder / "missing.sqlite").exists()


@pytest.mark.parametrize(
    ("path", "root"),
    [
        (r"Z:\helpdesk\x", "Z:\\"),
        ("z:/helpdesk", "z:\\"),
        (r"\\fileserver\share\helpdesk", "\\\\fileserver\\share\\"),
        (r"\\?\D:\deep\x", "D:\\"),
        (r"\\?\UNC\fileserver\share\x", "\\\\fileserver\\share\\"),
        (r"relative\path", ""),
    ],
)
def test_the_root_asked_of_windows(path, root):
    assert windows_root(path) == root


class FakeKernel32:
    """GetDriveTypeW as Windows answers it, for a server with these drives."""

    def __init__(self, drives: dict[str, int]) -> None:
        self.drives = drives
        self.asked: list[str] = []

    def GetDriveTypeW(self, root) -> int:  # noqa: N802 (the Win32 name)
        value = root.value if isinstance(root, ctypes.c_wchar_p) else root
        self.asked.append(value)
        return self.drives.get(value.upper(), DRIVE_NO_ROOT_DIR)


@pytest.fixture
def kernel32(monkeypatch):
    fake = FakeKernel32({"C:\\": DRIVE_FIXED, "Z:\\": DRIVE_REMOTE, "E:\\": DRIVE_REMOVABLE, "F:\\": DRIVE_CDROM,
                         "R:\\": DRIVE_RAMDISK})
    monkeypatch.setattr(ctypes, "windll", type("windll", (), {"kernel32": fake})(), raising=False)
    return fake


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (r"C:\Users\admin\AppData\Local\helpmig", DriveKind.LOCAL),
        (r"Z:\migrations\helpmig", DriveKind.NETWORK),
        (r"E:\helpmig", DriveKind.REMOVABLE),
        (r"F:\helpmig", DriveKind.REMOVABLE),
        (r"R:\scratch", DriveKind.LOCAL),
        (r"Q:\nothing-mounted", DriveKind.UNKNOWN),
        (r"\\?\Z:\deep\x", DriveKind.NETWORK),
    ],
)
def test_drive_kinds_from_get_drive_type(kernel32, path, kind):
    assert windows_drive_kind(path, file_paths._get_drive_type_w) is kind
    assert kernel32.asked == [windows_root(path)]


def test_a_share_is_a_network_drive_without_asking(kernel32):
    assert windows_drive_kind(r"\\fileserver\share\helpmig", file_paths._get_drive_type_w) is DriveKind.NETWORK
    assert windows_drive_kind(r"\\localhost\c$\helpmig", file_paths._get_drive_type_w) is DriveKind.NETWORK
    assert kernel32.asked == []


def test_only_network_and_removable_drives_forbid_wal():
    assert DriveKind.NETWORK.shared_memory_unsafe and DriveKind.REMOVABLE.shared_memory_unsafe
    assert not DriveKind.LOCAL.shared_memory_unsafe and not DriveKind.UNKNOWN.shared_memory_unsafe


MOUNTINFO = r"""22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
30 22 0:40 / /mnt/share rw,relatime shared:5 - cifs //fileserver/migrations rw,vers=3.1.1
31 22 0:41 / /mnt/nfs\040home rw shared:6 - nfs4 server:/export rw
32 22 8:17 / /media/usb rw,nosuid shared:7 - vfat /dev/sdb1 rw
33 22 0:42 / /mnt/ssh rw shared:8 - fuse.sshfs user@host:/ rw
34 30 259:3 / /mnt/share/local-inside rw shared:9 - ext4 /dev/nvme0n1p3 rw
"""


@pytest.fixture
def sysfs(tmp_path) -> Path:
    """/sys/dev/block with a removable USB stick (8:16, partition 8:17) and an NVMe disk."""
    devices = tmp_path / "devices"
    usb = devices / "usb1" / "block" / "sdb"
    (usb / "sdb1").mkdir(parents=True)
    (usb / "removable").write_text("1\n")
    (usb / "sdb1" / "partition").write_text("1\n")
    nvme = devices / "pci" / "block" / "nvme0n1"
    for part in ("nvme0n1p2", "nvme0n1p3"):
        (nvme / part).mkdir(parents=True)
        (nvme / part / "partition").write_text("2\n")
    (nvme / "removable").write_text("0\n")
    block = tmp_path / "dev" / "block"
    block.mkdir(parents=True)
    (block / "8:17").symlink_to(usb / "sdb1")
    (block / "259:2").symlink_to(nvme / "nvme0n1p2")
    (block / "259:3").symlink_to(nvme / "nvme0n1p3")
    return tmp_path


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/home/admin/.local/share/helpmig", DriveKind.LOCAL),
        ("/mnt/share/helpmig/projects", DriveKind.NETWORK),
        ("/mnt/share", DriveKind.NETWORK),
        ("/mnt/shared-not-the-share/x", DriveKind.LOCAL),
        ("/mnt/nfs home/helpmig", DriveKind.NETWORK),
        ("/media/usb/helpmig", DriveKind.REMOVABLE),
        ("/mnt/ssh/helpmig", DriveKind.NETWORK),
        ("/mnt/share/local-inside/helpmig", DriveKind.LOCAL),  # the deepest mount wins
    ],
)
def test_linux_drive_kinds_from_mountinfo(sysfs, path, kind):
    assert linux_drive_kind(path, MOUNTINFO, sysfs) is kind


def test_mount_of_reads_escaped_mount_points():
    assert mount_of("/mnt/nfs home/x", MOUNTINFO) == ("/mnt/nfs home", "nfs4", "0:41")
    assert mount_of("/x", "garbage line\n") is None


def test_a_folder_that_does_not_exist_yet_is_on_its_parent_drive(tmp_path):
    assert file_paths.drive_kind(tmp_path / "not" / "yet") is file_paths.drive_kind(tmp_path)
