"""The lock a project's writer holds, so that one run works on a project at a time and
anyone can tell a run that is going on from one that was interrupted (a killed process, a
closed terminal, a dropped RDP session), at once and on any OS: the operating system
releases the lock when the process dies, whatever killed it.

Every command that writes to Intercom or to the journal takes it (load, sample, delta,
rollback, validate, and map or plan changes while nothing runs); the holder writes who it
is (command, pid, start) to `run.holder` beside it, so a refused second command can name
it. The lock file itself is never written: Windows' byte-range locks and writes to the same
file do not mix well.

Every lock is released explicitly before its file is closed: Windows frees a byte-range
lock left on a closed handle only when it gets round to it, so a status check that
merely closed its probe could make a load started right after it look busy.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOCKED_BYTES = 1  # msvcrt locks a byte range from the file position; byte 0 is the lock
HOLDER = "run.holder"  # who holds the lock (read only while the lock is held)


@dataclass(frozen=True)
class Holder:
    """Who holds a project's lock: the command, its process, since when (local time)."""

    command: str
    pid: int
    since: float

    def describe(self) -> str:
        return f"`helpmig {self.command}` is running (pid {self.pid}, since {time.strftime('%H:%M:%S', time.localtime(self.since))})"


class RunLockBusy(Exception):
    """Another helpmig command (in this or another process) holds the project's lock."""

    def __init__(self, message: str, holder: Holder | None = None) -> None:
        super().__init__(message)
        self.holder = holder


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


def read_holder(project_dir: Path) -> Holder | None:
    """Who wrote the lock file last (meaningful while the lock is held); None when unknown."""
    try:
        data = json.loads((project_dir / HOLDER).read_text(encoding="utf-8"))
        return Holder(str(data["command"]), int(data["pid"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunLock:
    """Held while a command writes to a project (`with RunLock(project_dir, "load"):`)."""

    def __init__(self, project_dir: Path, command: str = "load") -> None:
        self.path = project_dir / "run.lock"
        self.command = command
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> RunLock:
        handle = self.path.open("a+b")
        if not _try_lock(handle):
            handle.close()
            holder = read_holder(self.path.parent)
            who = holder.describe() if holder else "another helpmig command is working on it"
            raise RunLockBusy(f"project {self.path.parent.name} is busy: {who}", holder)
        self._handle = handle
        self._write_holder()
        return self

    def _write_holder(self) -> None:
        """Who holds the lock; a failure to write it only costs a refused command the name."""
        record = {"command": self.command, "pid": os.getpid(), "since": time.time()}
        holder = self.path.parent / HOLDER
        partial = holder.with_suffix(".tmp")
        try:
            partial.write_text(json.dumps(record), encoding="utf-8")
            os.replace(partial, holder)
        except OSError:
            pass

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
