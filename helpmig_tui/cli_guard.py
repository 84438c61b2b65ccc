"""The command line's edge: no traceback ever reaches the operator.

Everything a command raises ends here as one line on stderr and an exit code:
- a stop (a signal, Ctrl+C, the console closed): what was stopped and how to go on; 130/143;
- known conditions of the machine (a full disk, a home that is a file or cannot be
  written, a damaged project file): their own line; exit 2;
- anything else: one line naming the log file, which holds the traceback; exit 1.

Tracebacks that would otherwise escape past `main()` (a thread's, asyncio's "exception
never retrieved", an unraisable one) go to the log as well.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpmig_tui import redact
from helpmig_tui.cli_stops import INTERRUPTED, StopRequested, Stops

EXIT_FAILED, EXIT_USAGE = 1, 2
FALLBACK_LOGS = "helpmig-logs"  # under the temporary folder when the home cannot hold the log

HOME_HINT = ("--home (or HELPMIG_HOME) must name a folder helpmig can create and write; remove or rename what is "
             "in the way, or choose another")
_MISSING = re.compile(r"no such (table|column): ([\w.]+)")

log = logging.getLogger("helpmig.cli")


@dataclass(frozen=True)
class Known:
    """A known condition of the machine or the project file: one line, a hint, exit 2."""

    message: str
    hint: str


def say(message: str, hint: str = "") -> None:
    """One line for the operator on stderr, masked."""
    line = f"helpmig: {message}" + (f" ({hint})" if hint else "")
    try:
        print(redact.redact(line), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


@dataclass
class Errors:
    """How this process says an error: its one line names the log (set once the log is
    set up; logging is the process's too), and with --json the error is also the JSON on
    stdout, where a script reads the result."""

    log_file: Path | None = None
    json: bool = False
    said: bool = False  # an error line was said: a failed run's exit needs no other

    def begin(self, json: bool) -> None:
        """A command starts (tests run several in one process): nothing said, no log yet."""
        self.log_file, self.json, self.said = None, json, False

    def say(self, message: str, hint: str = "", code: int = EXIT_USAGE) -> None:
        self.said = True
        where = f"log: {self.log_file}" if self.log_file else "no log could be written"
        say(message, f"{hint}; {where}" if hint else where)
        if self.json:
            from helpmig_tui.cli_output import json_text

            try:
                print(redact.redact(json_text({"error": message, "hint": hint, "exit_code": code,
                                                "log": str(self.log_file) if self.log_file else None})), flush=True)
            except (OSError, ValueError):
                pass


ERRORS = Errors()


def setup_log(log_file: Path, *, verbose: bool = False) -> Path | None:
    """The log of this process: under the home, else the temporary folder (said once);
    None when no file can be written at all."""
    from helpmig_tui.logs import setup_logging

    level = logging.DEBUG if verbose else logging.INFO
    try:
        setup_logging(log_file, level)
        return log_file
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        fallback = Path(tempfile.gettempdir()) / FALLBACK_LOGS / log_file.name
    try:
        setup_logging(fallback, level)
    except OSError:
        say(f"warning: cannot write a log at {log_file.parent} ({reason}) nor at {fallback.parent}")
        return None
    say(f"warning: cannot write the log at {log_file.parent} ({reason}); this run logs to {fallback}")
    return fallback


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, SQLAlchemy's DBAPI original, what it was raised from, and the
    exceptions of a task group."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [getattr(item, "orig", None), *getattr(item, "exceptions", ()), item.__cause__, item.__context__]
    return seen


def _where(exc: BaseException, default: str) -> str:
    name = getattr(exc, "filename", None)
    return os.fspath(name) if name else default


def known_condition(exc: BaseException, home: Path, project: str | None) -> Known | None:
    """Recognise what the operator can fix: the disk, the home folder, the project file."""
    state = f"the project file of {project} ({home / 'projects' / project / 'state.sqlite'})" if project else \
        f"a project file under {home}"
    folder = str(home / "projects" / project) if project else str(home)  # where a file without a name was
    if home.exists() and not home.is_dir():  # whatever failed under it, this is why
        return Known(f"the home {home} is a file, not a folder", HOME_HINT)
    for item in _chain(exc):
        text = str(item).lower()
        number = getattr(item, "errno", None)
        if number in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)) or "database or disk is full" in text:
            return Known(f"the disk is full: could not write to {_where(item, folder)}",
                         "free some space on that drive and run the command again; what was saved before is intact")
        if number == errno.EROFS or "readonly database" in text or "read-only file system" in text:
            return Known(f"helpmig cannot write to {_where(item, folder)}: the drive or the folder is read-only",
                         "use --home DIR (or HELPMIG_HOME) on a writable drive, or make it writable")
        if isinstance(item, NotADirectoryError) or (isinstance(item, FileExistsError) and item.filename
                                                   and not Path(item.filename).is_dir()):
            return Known(f"{_where(item, str(home))} is a file, not a folder", HOME_HINT)
        if isinstance(item, FileNotFoundError) and item.filename and not home.is_dir() \
                and home.is_relative_to(os.fsdecode(item.filename)):  # /proc/x: a folder no one can make there
            return Known(f"the home {home} cannot be created ({item.strerror})", HOME_HINT)
        if isinstance(item, PermissionError) or "unable to open database file" in text:
            return Known(f"helpmig may not write to {_where(item, folder)} (permission denied)",
                         "run helpmig as an account that may write there, or use --home DIR on a folder it may write")
        missing = _MISSING.search(str(item))
        if missing:
            return Known(f"{state} is damaged: its {missing.group(1)} {missing.group(2)} is missing",
                         "helpmig did not change it; restore the file from a copy, or start a new project")
        if "malformed" in text or "file is not a database" in text:
            said = [i for i in _chain(exc) if "malformed" in str(i).lower() or "file is not a database" in str(i).lower()]
            return Known(f"{state} is damaged: {said[-1]}",  # SQLite's own words, not a wrapper's saying it again
                         "helpmig did not change it; restore the file from a copy, or start a new project")
        if "database is locked" in text:
            return Known(f"{state} is locked by another program",
                         "close whatever has it open (a SQLite browser, a backup) and run the command again")
        if type(item).__name__ == "JSONDecodeError":
            return Known(f"{state} is damaged: a stored setting is not valid JSON ({item})",
                         "helpmig did not change it; restore the file from a copy, or start a new project")
    return None


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _log_uncaught(kind: str) -> Callable[..., None]:
    def hook(*args: object) -> None:
        info = args[0]
        exc = getattr(info, "exc_value", None)
        if exc is not None and isinstance(exc, BaseException):
            log.error("%s: %s", kind, exc, exc_info=(type(exc), exc, exc.__traceback__))
        else:
            log.error("%s: %s", kind, info)

    return hook


def install_hooks() -> None:
    """Tracebacks from threads and unraisable exceptions go to the log, not the screen."""
    threading.excepthook = _log_uncaught("a thread failed")  # type: ignore[assignment]
    sys.unraisablehook = _log_uncaught("an exception could not be raised")  # type: ignore[assignment]


@dataclass
class Guard:
    """Runs one command and turns whatever it raises into a line and an exit code."""

    home: Path
    project: str | None
    stops: Stops
    resume: str = ""  # how to go on after a stop, e.g. "run `helpmig load P` to resume"
    resumable: bool = False  # a run that picks up where it stopped (load, delta, rollback)

    def stopped(self, stop: StopRequested | None = None) -> int:
        """The line after a stop, and its exit code (the first stop's: 130 or 143)."""
        first = self.stops.first or (stop.stop if stop else None)
        at_once = bool(stop and stop.at_once)
        how = "stopped at once" if at_once else "stopped safely" if self.resumable else "stopped"
        line = how + (f": {self.resume}" if self.resume else "")
        if at_once:
            line += " (the writes that were in flight are checked in Intercom before anything is sent again)"
        log.info("%s by %s", how, first.what if first else "an interrupt")
        say(line)
        return first.code if first else INTERRUPTED

    def run(self, command: Callable[[], int]) -> int:
        try:
            return command()
        except StopRequested as stop:
            return self.stopped(stop)
        except KeyboardInterrupt:  # a Ctrl+C that reached Python's default handler
            return self.stopped()
        except BrokenPipeError:  # `helpmig status P | head -3`: the reader left; nothing to tell it
            log.info("stdout was closed by the reader; output cut short")
            _quiet_stdout()
            return EXIT_FAILED
        except Exception as exc:
            if self.stops.first is not None:  # a query cancelled by the stop, a prompt cut short
                log.info("stopped: %s", exc, exc_info=exc)
                return self.stopped()
            try:
                known = known_condition(exc, self.home, self.project)
            except Exception:  # the guard itself may meet the same broken disk: never a traceback
                known = None
            if known is not None:
                log.error("%s", known.message, exc_info=exc)
                ERRORS.say(known.message, known.hint)
                return EXIT_USAGE
            log.error("unexpected error", exc_info=exc)
            first = str(exc).splitlines()[0] if str(exc).strip() else ""
            ERRORS.say(f"unexpected error: {type(exc).__name__}" + (f": {first}" if first else ""),
                       "the details are in the log", EXIT_FAILED)
            return EXIT_FAILED
