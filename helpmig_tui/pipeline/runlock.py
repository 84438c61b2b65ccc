"""The lock a running load holds on its project, so that anyone can tell a run that is
going on from one that was interrupted (a killed process, a closed terminal, a dropped
RDP session), at once and on any OS: the operating system releases the lock when the
process dies, whatever killed it.

Every lock is released explicitly before its file is closed: Windows frees a byte-range
lock left on a closed handle only when it gets round to it, so a status check that
merely closed its probe could make a load started right after it look busy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

LOCKED_BYTES = 1  # msvcrt locks a byte range from the file position; byte 0 is the lock


class RunLockBusy(Exception):
    """Another helpmig process is running a load of this project."""


def _windows() -> bool:
    return os.name == "nt"


def _try_lock(handle: IO[bytes]) -> bool:
    try:
        if _windows():
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, LOCKED_BYTES)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(handle: IO[bytes]) -> None:
    if _windows():
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, LOCKED_BYTES)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class RunLock:
    """Held while a run works on a project (`with RunLock(project_dir):`)."""

    def __init__(self, project_dir: Path) -> None:
        self.path = project_dir / "run.lock"
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> RunLock:
        handle = self.path.open("a+b")
        if not _try_lock(handle):
            handle.close()
            raise RunLockBusy(f"another helpmig process is loading this project ({self.path})")
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            try:
                _unlock(self._handle)
            finally:
                self._handle.close()
                self._handle = None


def held_elsewhere(project_dir: Path) -> bool:
    """Is a run holding this project's lock right now (in this or another process)?"""
    path = project_dir / "run.lock"
    if not path.exists():
        return False
    with path.open("a+b") as handle:
        if not _try_lock(handle):
            return True
        _unlock(handle)  # the probe's own lock, released before the handle closes
        return False
