"""Paths as the operator typed them, the kind of drive they are on, and SQLite URIs for them.

On a customer's Windows server data sits on mapped drives (Z:\\) and shares
(\\\\server\\share). `Path.resolve()` turns a mapped drive into its UNC form, and
`Path.as_uri()` turns a UNC path into `file://server/share/...`, whose authority
Windows' SQLite refuses. So paths are made absolute without resolving links or drives,
SQLite is given a URI with no authority at all (every character percent-encoded after
`file:`, which SQLite decodes back into exactly the path), and paths too long for
Windows' 260-character limit get the extended-length prefix before they are opened.

SQLite's WAL needs shared memory that network file systems do not provide, and a
removable drive can vanish between a write and its checkpoint: `drive_kind()` tells
which kind of drive a path is on (GetDriveTypeW on Windows, the mount's file system
type and the block device's removable flag on Linux) so callers can choose a
rollback journal there.
"""

from __future__ import annotations

import enum
import ntpath
import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

MAX_PATH = 260  # Windows' classic limit, terminating NUL included
SQLITE_SUFFIX = "-journal"  # the longest name SQLite derives from a database path
EXTENDED_PREFIX = "\\\\?\\"
EXTENDED_UNC_PREFIX = "\\\\?\\UNC\\"

# GetDriveTypeW's answers (winbase.h)
DRIVE_UNKNOWN, DRIVE_NO_ROOT_DIR, DRIVE_REMOVABLE, DRIVE_FIXED, DRIVE_REMOTE, DRIVE_CDROM, DRIVE_RAMDISK = range(7)

# File systems whose locking and shared memory SQLite's WAL cannot rely on.
NETWORK_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "gpfs",
    "davfs", "fuse.sshfs", "fuse.s3fs", "fuse.rclone", "fuse.glusterfs", "fuse.cephfs", "fuse.davfs2", "ncpfs",
    "coda", "virtiofs", "vboxsf", "prl_fs", "fuse.vmhgfs-fuse",
})


class DriveKind(enum.Enum):
    LOCAL = "local"
    NETWORK = "network"
    REMOVABLE = "removable"
    UNKNOWN = "unknown"

    @property
    def shared_memory_unsafe(self) -> bool:
        """WAL is not safe here: use a rollback journal."""
        return self in (DriveKind.NETWORK, DriveKind.REMOVABLE)


def absolute(value: str | os.PathLike[str], *, cwd: str | None = None, pathmod=os.path) -> str:
    """The path made absolute as typed: `~` expanded, `.` and `..` folded, no link or drive resolved.

    `Z:\\data` stays `Z:\\data` (never `\\\\server\\share\\data`); `pathmod=ntpath` with a
    `cwd` gives Windows' answer on any OS, for tests.
    """
    text = pathmod.expanduser(os.fspath(value))
    if cwd is None:
        return pathmod.abspath(text)
    return pathmod.normpath(pathmod.join(cwd, text))


def absolute_path(value: str | os.PathLike[str]) -> Path:
    return Path(absolute(value))


def shown(value: str | os.PathLike[str]) -> str:
    """A path for a message: bytes that are not UTF-8 (a Latin-1 name on Linux, which
    Python holds as surrogate escapes and cannot print or store) written as \\xNN."""
    return os.fsencode(value).decode("utf-8", "backslashreplace")


def extended_length(path: str) -> str:
    """A Windows path with the `\\\\?\\` prefix when it, or the journal SQLite puts beside it,
    would pass 260 characters; shorter paths are returned unchanged. Expects an absolute path."""
    path = path.replace("/", "\\")
    if path.startswith((EXTENDED_PREFIX, "\\\\.\\")) or len(path) + len(SQLITE_SUFFIX) < MAX_PATH:
        return path
    path = ntpath.normpath(path)  # the prefix turns off Windows' own normalisation
    if path.startswith("\\\\"):
        return EXTENDED_UNC_PREFIX + path[2:]
    return EXTENDED_PREFIX + path


def native(path: str | os.PathLike[str]) -> str:
    """The string to hand the OS (and SQLite) for an absolute path: long Windows paths prefixed."""
    text = os.fspath(path)
    return extended_length(text) if os.name == "nt" else text


def sqlite_uri(path: str | os.PathLike[str], **params: str) -> str:
    """A `file:` URI with no authority that SQLite decodes back into exactly `path`.

    Every character is percent-encoded, so drive letters, `\\\\server\\share`, `\\\\?\\` prefixes,
    spaces, `?`, `#` and `%` pass through unchanged on every OS.
    """
    uri = "file:" + quote(os.fspath(path), safe="")
    if params:
        uri += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return uri


# -- drive kinds -------------------------------------------------------------------------


def windows_root(path: str) -> str:
    """The root GetDriveTypeW expects: `Z:\\` or `\\\\server\\share\\`."""
    text = path.replace("/", "\\")
    if text.upper().startswith(EXTENDED_UNC_PREFIX.upper()):
        text = "\\\\" + text[len(EXTENDED_UNC_PREFIX):]
    elif text.startswith(EXTENDED_PREFIX):
        text = text[len(EXTENDED_PREFIX):]
    drive = ntpath.splitdrive(text)[0]
    return drive + "\\" if drive else ""


def windows_drive_kind(path: str, get_drive_type: Callable[[str], int]) -> DriveKind:
    root = windows_root(path)
    if not root:
        return DriveKind.UNKNOWN
    if root.startswith("\\\\"):
        return DriveKind.NETWORK  # a share, even \\localhost\c$: SMB either way
    kind = get_drive_type(root)
    if kind == DRIVE_REMOTE:
        return DriveKind.NETWORK
    if kind in (DRIVE_REMOVABLE, DRIVE_CDROM):
        return DriveKind.REMOVABLE
    if kind in (DRIVE_FIXED, DRIVE_RAMDISK):
        return DriveKind.LOCAL
    return DriveKind.UNKNOWN


def _get_drive_type_w(root: str) -> int:
    import ctypes

    return int(ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))  # type: ignore[attr-defined]


def _unescape_mount(text: str) -> str:
    r"""mountinfo writes space, tab, newline and backslash as \040, \011, \012, \134."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 3 < len(text) and text[i + 1:i + 4].isdigit():
            out.append(chr(int(text[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mount_of(path: str, mountinfo: str) -> tuple[str, str, str] | None:
    """(mount point, file system type, major:minor) of the mount holding `path`."""
    best: tuple[str, str, str] | None = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        point = _unescape_mount(fields[4])
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, tail[0], fields[2])
    return best


def _removable_block(device: str, sys_root: Path) -> bool:
    """The block device's `removable` flag (a partition reads its disk's)."""
    node = sys_root / "dev" / "block" / device
    try:
        real = node.resolve()
        flag = real / "removable"
        if not flag.exists() and (real / "partition").exists():
            flag = real.parent / "removable"
        return flag.read_text().strip() == "1"
    except OSError:
        return False


def _existing(path: str) -> str:
    """The nearest existing folder of `path` with links resolved (for mount lookup only)."""
    current = Path(path)
    while not current.exists() and current.parent != current:
        current = current.parent
    return os.path.realpath(current)


def linux_drive_kind(path: str, mountinfo: str, sys_root: Path = Path("/sys")) -> DriveKind:
    mount = mount_of(path, mountinfo)
    if mount is None:
        return DriveKind.UNKNOWN
    _, fstype, device = mount
    if fstype in NETWORK_FILE_SYSTEMS or fstype.startswith(("nfs", "smb")):
        return DriveKind.NETWORK
    if _removable_block(device, sys_root):
        return DriveKind.REMOVABLE
    return DriveKind.LOCAL


def drive_kind(path: str | os.PathLike[str]) -> DriveKind:
    """The kind of drive `path` (existing or not yet) is on; UNKNOWN where the OS does not say."""
    text = os.fspath(path)
    if os.name == "nt":
        return windows_drive_kind(text, _get_drive_type_w)
    if sys.platform.startswith("linux"):
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return DriveKind.UNKNOWN
        return linux_drive_kind(_existing(text), mountinfo)
    return DriveKind.UNKNOWN


def drive_note(path: str | os.PathLike[str], kind: DriveKind) -> str:
    """One line for the operator when `kind` keeps SQLite from using WAL at `path`."""
    where = "a network drive or share" if kind is DriveKind.NETWORK else "a removable drive"
    return (f"{os.fspath(path)} is on {where}: project files there use a rollback journal instead of WAL "
            "(one writer at a time; keep the drive connected while helpmig runs)")
