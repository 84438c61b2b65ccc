"""The lock a running load holds on its project, so that anyone can tell a run that is
going on from one that was interrupted (a killed process, a closed terminal, a dropped
RDP session), at once and on any OS: the operating system releases the lock when the
process dies, whatever killed it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


class RunLockBusy(Exception):
    """Another helpmig process is running a load of this project."""


def _try_lock(handle: IO[bytes]) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


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
            self._handle.close()  # closing releases the lock
            self._handle = None


def held_elsewhere(project_dir: Path) -> bool:
    """Is a run holding this project's lock right now (in this or another process)?"""
    path = project_dir / "run.lock"
    if not path.exists():
        return False
    with path.open("a+b") as handle:
        return not _try_lock(handle)
