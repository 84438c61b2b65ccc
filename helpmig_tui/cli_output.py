"""What the command line writes, and how it keeps writing on any console.

- stdout and stderr never die on an encoding: what the console cannot show is replaced
  (a cp1252 console, output redirected to a file on Windows); `--json` is ASCII-escaped,
  so it reads the same whatever the console's code page.
- The operator's channel is stderr (`Console`): permanent lines, and on a terminal one
  status line that Rich redraws (Rich speaks the classic Windows console's API, where raw
  escape codes would print as garbage). Rich is imported only when a terminal needs it.
- `Heartbeat` keeps the command from going quiet for more than QUIET_S: it says what the
  command waits for (a rate-limit window with its countdown, an answer from Intercom, a
  slow source query) or, failing that, what it was last doing and for how long.
- Tables go through Rich on a terminal and as aligned text when stdout is redirected.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from helpmig_tui import redact

QUIET_S = 2.0  # the longest the command line stays silent while it waits


def make_streams_safe() -> None:
    """Characters the console cannot encode become '?' instead of a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):  # a closed or detached stream: nothing to protect
            continue


def json_text(data: Any) -> str:
    """JSON for --json: ASCII-escaped, so no console code page can garble or refuse it."""
    return json.dumps(data, indent=2, ensure_ascii=True, default=str)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


class Console:
    """The operator's channel on stderr; thread-safe; remembers when it last spoke."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _is_tty(self.stream)
        self.last_spoke = time.monotonic()
        self.status_text = ""
        self.asking = False  # a prompt waits for the operator: the heartbeat keeps quiet
        self._lock = threading.RLock()
        self._live: Any = None

    @contextmanager
    def prompt(self) -> Iterator[None]:
        """While the operator answers a question: no status line, no heartbeat over it."""
        self.close()
        self.asking = True
        try:
            yield
        finally:
            self.asking = False
            self.last_spoke = time.monotonic()

    def line(self, text: str) -> None:
        """A line that stays (a warning, a phase's result, an error)."""
        text = redact.redact(text)
        with self._lock:
            self.last_spoke = time.monotonic()
            if self._live is not None:
                self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                self._write(text)

    def status(self, text: str) -> None:
        """What the command is doing now: redrawn in place on a terminal, a line otherwise."""
        text = redact.redact(text)
        with self._lock:
            self.last_spoke = time.monotonic()
            self.status_text = text
            if not self.tty:
                self._write(text)
                return
            from rich.text import Text

            if self._live is None:
                from rich.console import Console as RichConsole
                from rich.live import Live

                self._live = Live(Text(text, no_wrap=True, overflow="ellipsis"),
                                  console=RichConsole(file=self.stream, highlight=False),
                                  auto_refresh=False, transient=True, redirect_stdout=False, redirect_stderr=False)
                self._live.start()
            self._live.update(Text(text, no_wrap=True, overflow="ellipsis"), refresh=True)

    def close(self) -> None:
        """Clear the status line (a terminal's) before the result is printed."""
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _write(self, text: str) -> None:
        try:
            print(text, file=self.stream, flush=True)
        except (OSError, ValueError):  # a closed pipe: the operator is gone, the log still has it
            pass


Probe = Callable[[], "str | None"]


def intercom_waits() -> str | None:
    """What the Intercom clients of this process wait for (only when one was ever made)."""
    session = sys.modules.get("connectors.intercom.session")
    return session.describe_waits() if session is not None else None


def source_queries() -> str | None:
    """The SQL source query running longest, when it has run a while."""
    queries = sys.modules.get("connectors.sql.queries")
    return queries.describe_queries() if queries is not None else None


class Heartbeat:
    """A thread that speaks whenever the console has been silent for `quiet_s`."""

    def __init__(self, console: Console, label: str, probes: Sequence[Probe] = (intercom_waits, source_queries), *,
                 quiet_s: float = QUIET_S, tick_s: float = 0.25) -> None:
        self.console = console
        self.label = label
        self.probes = tuple(probes)
        self.quiet_s = quiet_s
        self.tick_s = tick_s
        self._news_at = console.last_spoke  # when something other than the heartbeat last spoke
        self._doing = console.status_text or label
        self._said = ""  # the heartbeat's own last line
        self._own = -1.0  # last_spoke right after it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        """The most specific thing the command waits for, in one line."""
        for probe in self.probes:
            try:
                text = probe()
            except Exception:  # a probe must never take the command down
                text = None
            if text:
                return f"{self.label}: {text}"
        quiet = int(time.monotonic() - self._news_at)
        return f"{self._doing} (still working; no change for {quiet} s)"

    def beat(self) -> None:
        """One tick: note news, speak when the console was silent too long."""
        if self.console.asking:
            return
        if self.console.status_text != self._said or self.console.last_spoke > self._own:
            self._news_at = self.console.last_spoke
            self._doing = self.console.status_text or self.label
        if time.monotonic() - self.console.last_spoke >= self.quiet_s:
            self._said = self.describe()
            self.console.status(self._said)
            self._own = self.console.last_spoke

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            self.beat()

    def __enter__(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._loop, name="helpmig-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.console.close()


@dataclass(frozen=True)
class Table:
    """Rows to show as a table: drawn by Rich on a terminal, aligned text otherwise."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    right: frozenset[int] = frozenset()  # columns aligned right (numbers)

    def cells(self) -> list[list[str]]:
        return [[redact.redact(f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)) for v in row]
                for row in self.rows]

    def plain(self) -> str:
        cells = self.cells()
        widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(self.headers)]

        def fmt(row: Sequence[str]) -> str:
            return "  ".join(c.rjust(w) if i in self.right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(row, widths))).rstrip()

        return "\n".join([fmt(self.headers), *(fmt(r) for r in cells)])

    def draw(self, stream: TextIO) -> None:
        from rich import box
        from rich.console import Console as RichConsole
        from rich.table import Table as RichTable

        drawn = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for index, header in enumerate(self.headers):
            drawn.add_column(header, justify="right" if index in self.right else "left")
        for row in self.cells():
            drawn.add_row(*row)
        RichConsole(file=stream, highlight=False).print(drawn)


def print_result(parts: str | Sequence[str | Table], stream: TextIO | None = None) -> None:
    """The result on stdout: text masked, tables drawn by Rich when stdout is a terminal."""
    stream = stream if stream is not None else sys.stdout
    tty = _is_tty(stream)
    for part in [parts] if isinstance(parts, str) else parts:
        if isinstance(part, Table):
            if tty:
                part.draw(stream)
                continue
            part = part.plain()
        print(redact.redact(part), file=stream)


class ConsoleLog(logging.Handler):
    """Log records the operator should see, as one line each (never a traceback):
    WARNINGs from the outside world (`connectors.*`: a write in doubt, a legacy ODBC
    driver), and with --verbose every INFO of helpmig and its connectors."""

    def __init__(self, console: Console, verbose: bool) -> None:
        super().__init__(logging.INFO if verbose else logging.WARNING)
        self.console = console
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name.startswith("connectors"):
            return True
        return self.verbose and name.startswith("helpmig")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "warning" if record.levelno >= logging.WARNING else "log"
            self.console.line(f"helpmig: {level}: {record.getMessage()}")
        except Exception:
            self.handleError(record)
