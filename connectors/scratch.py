"""Scratch files in the temporary folder that hold a source's records (a REST tenant's read
cache, a SMART export's staging copy): customer data, so they go when their run is done,
when their owner is collected or the process exits without closing them, and, when a
killed process left them behind, after a day, at the next start of the same kind.

One in use is never swept: on Windows an open file cannot be removed, and elsewhere its
process goes on reading it after the name is gone.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import weakref
from pathlib import Path

STALE_S = 24 * 3600  # scratch untouched this long belongs to a process that is gone


def sweep_stale(prefix: str) -> None:
    cutoff = time.time() - STALE_S
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            pass


def _remove(db: sqlite3.Connection, path: Path) -> None:
    db.close()
    try:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    except OSError:
        pass


def removed_with(owner: object, db: sqlite3.Connection, path: Path) -> weakref.finalize:
    """Close `db` and remove `path` when `owner` is collected or at exit; call it to do so now."""
    return weakref.finalize(owner, _remove, db, path)
