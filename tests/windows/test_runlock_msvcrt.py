"""The run lock's Windows path, driven through a monkeypatched msvcrt that behaves as
Windows does: byte-range locks per handle, refused to every other handle (even in the
same process), and a lock left on a closed handle released only "later"."""

from __future__ import annotations

import errno
import os
import sys

import pytest

from helpmig_tui.pipeline import runlock
from helpmig_tui.pipeline.runlock import RunLock, RunLockBusy, held_elsewhere


class WindowsLocks:
    """msvcrt.locking: LK_NBLCK fails with EACCES on a range another handle holds;
    LK_UNLCK works only for the handle that locked; closing does not unlock."""

    LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = range(5)

    def __init__(self) -> None:
        self.held: dict[tuple[int, int], object] = {}  # (file id, offset) -> the handle's identity
        self.calls: list[tuple[str, int, int]] = []

    @staticmethod
    def _handle(fd: int) -> object:
        stat = os.fstat(fd)
        return (fd, stat.st_ino, stat.st_ctime_ns)

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        key = (os.fstat(fd).st_ino, offset)
        self.calls.append(({self.LK_NBLCK: "lock", self.LK_UNLCK: "unlock"}[mode], offset, nbytes))
        if mode == self.LK_NBLCK:
            if key in self.held:
                raise PermissionError(errno.EACCES, "Permission denied")
            self.held[key] = self._handle(fd)
        elif mode == self.LK_UNLCK:
            if self.held.get(key) != self._handle(fd):
                raise PermissionError(errno.EACCES, "Permission denied")
            del self.held[key]


@pytest.fixture
def msvcrt(monkeypatch) -> WindowsLocks:
    fake = WindowsLocks()
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(runlock, "_windows", lambda: True)
    return fake


def test_a_held_lock_is_seen_and_refused(msvcrt, tmp_path):
    with RunLock(tmp_path):
        assert held_elsewhere(tmp_path)
        with pytest.raises(RunLockBusy):
            RunLock(tmp_path).__enter__()
    assert not held_elsewhere(tmp_path)
    assert msvcrt.held == {}


def test_a_status_check_right_before_a_load_does_not_block_it(msvcrt, tmp_path):
    """The probe in held_elsewhere unlocks before it closes: a load started at once gets the lock."""
    (tmp_path / "run.lock").touch()
    assert not held_elsewhere(tmp_path)
    with RunLock(tmp_path):
        pass
    assert not held_elsewhere(tmp_path)


def test_a_finished_load_leaves_the_project_free(msvcrt, tmp_path):
    with RunLock(tmp_path):
        pass
    with RunLock(tmp_path):  # a resume right after: nothing left behind on the closed handle
        pass
    assert [call[0] for call in msvcrt.calls] == ["lock", "unlock", "lock", "unlock"]


def test_the_lock_is_always_on_byte_zero(msvcrt, tmp_path):
    (tmp_path / "run.lock").write_bytes(b"left by an older version")  # append mode starts at the end
    with RunLock(tmp_path):
        assert held_elsewhere(tmp_path)
    assert {offset for _, offset, _ in msvcrt.calls} == {0}
    assert {nbytes for _, _, nbytes in msvcrt.calls} == {1}
