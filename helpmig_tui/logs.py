"""The rotating log file, with every secret masked before a line is written."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from helpmig_tui import redact

LOGGER = "helpmig"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5


class RedactingFormatter(logging.Formatter):
    """Formats, then masks: covers the message, its arguments and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact.redact(super().format(record))


def setup_logging(log_file: Path, level: int = logging.INFO) -> logging.Logger:
    """Log helpmig's messages to one rotating file (5 x 5 MB); calling it again with
    another file moves the log there."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    target = str(log_file.resolve())
    for handler in list(logger.handlers):
        if getattr(handler, "baseFilename", None) == target:
            return logger
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if os.name != "nt":  # the log names customers and records: keep it private
        os.chmod(log_file.parent, 0o700)
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def get_logger(name: str) -> logging.Logger:
    """A child of the helpmig logger, e.g. get_logger("pipeline")."""
    return logging.getLogger(f"{LOGGER}.{name}")
