"""The log: one file per process, every secret masked before a line is written.

Each helpmig process writes its own file (`helpmig-<date>-<time>-<pid>.log`): on Windows
a file another process holds open cannot be renamed, so a rotating file shared by a
load and a status check loses lines and prints "--- Logging error ---". A process's
file still rotates (it alone holds it), and old files are pruned when a process starts.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import time
from functools import cache
from pathlib import Path

from helpmig_tui import redact

LOGGER = "helpmig"
CONNECTORS = "connectors"  # the connectors log under their package's name (they never import helpmig_tui)
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
PREFIX = "helpmig"
KEEP_FILES = 50  # the newest log files kept: several days of busy use
KEEP_DAYS = 30  # and none older than this


class RedactingFormatter(logging.Formatter):
    """Formats, then masks: covers the message, its arguments and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact.redact(super().format(record))


@cache
def process_log_name() -> str:
    """This process's log file name, fixed for its lifetime."""
    return f"{PREFIX}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def prune_logs(folder: Path, keep: Path | None = None, *, keep_files: int = KEEP_FILES,
               keep_days: float = KEEP_DAYS, now: float | None = None) -> list[Path]:
    """Delete all but the newest `keep_files` logs and any older than `keep_days`.

    A file another process still holds (Windows refuses to delete it) is left for a later
    prune; `keep` (this process's file) is never touched. Returns what was deleted.
    """
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    found = []
    for path in folder.glob(f"{PREFIX}*.log*"):
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue
    found.sort(reverse=True)
    deleted = []
    for rank, (mtime, path) in enumerate(found):
        if path == keep or (rank < keep_files and mtime >= cutoff):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        deleted.append(path)
    return deleted


def setup_logging(log_file: Path, level: int = logging.INFO) -> logging.Logger:
    """Log helpmig's and its connectors' messages to `log_file` (rotating, 5 x 5 MB), and
    every other library's warnings (asyncio's, a thread's) there too rather than on the
    operator's screen; prune old logs beside it. Calling it again with another file moves
    the log there."""
    logger = logging.getLogger(LOGGER)
    target = os.path.abspath(log_file)
    if any(getattr(h, "baseFilename", None) == target for h in logger.handlers):
        return logger
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if os.name != "nt":  # the log names customers and records: keep it private
        os.chmod(log_file.parent, 0o700)
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger(CONNECTORS).setLevel(level)  # propagates to the root's handler
    for name, wanted in ((LOGGER, level), ("", logging.WARNING)):
        each = logging.getLogger(name)
        for old in [h for h in each.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]:
            each.removeHandler(old)
            old.close()
        each.setLevel(wanted)
        each.addHandler(handler)
    logger.propagate = False
    prune_logs(log_file.parent, keep=log_file)
    return logger


def get_logger(name: str) -> logging.Logger:
    """A child of the helpmig logger, e.g. get_logger("pipeline")."""
    return logging.getLogger(f"{LOGGER}.{name}")
