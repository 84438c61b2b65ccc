"""The Sample run, Load and Delta steps: one progress bar per phase, rates against the
limit, counters, the live log, pause / resume / cancel, and the phase gate.

The load runs in the App's worker; leaving this screen never stops it. The screen asks
with messages and the App feeds it progress (`show_progress`, `add_event`, ...).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, ProgressBar, RichLog, Select, Sparkline, Static

from helpmig_tui.pipeline.context import LoadOptions, LoadProgress
from helpmig_tui.pipeline.loader import DELTA_PHASES, PHASES
from screens.run_messages import RollbackRequested, RunControlRequested, RunRequested, ValidationRequested

TITLES = {"sample": "Sample run", "load": "Load", "delta": "Delta and cutover"}
INTRO = {
    "sample": "A few records per object go into the workspace first, are read back and compared, "
              "and can be rolled back. Set a test contact to keep customers from being notified.",
    "load": "Everything, phase by phase. Each phase ends with its reconciliation; a phase with "
            "unexplained differences waits for you.",
    "delta": "Records created or changed in the source since the load began: new ones are created, "
             "changed ones updated, new messages appended, state and assignment kept in step. Nothing is "
             "duplicated. Records deleted, spammed or merged in the source are listed and handled as chosen below.",
}
CUTOVER = (
    "Stop new tickets in the source (or announce the freeze) before the last delta",
    "Run the delta until it finds nothing new",
    "Validate again, then switch the support address and widgets to Intercom",
    "Re-enable Intercom outbound campaigns and workflows",
    "Keep the reports folder: scope, reconciliation per phase, validation, rebuild inventory",
)
# what a delta does in Intercom with records gone from the source (source_gone.py)
GONE_CHOICES = (("list them and wait for my choice", "wait"), ("leave them in Intercom", "leave"),
                ("close them in Intercom", "close"), ("delete them from Intercom", "delete"))

SHORT = {"match": "admins, teams", "schema": "schema", "companies": "companies", "contacts": "contacts",
         "conversations": "conversations", "articles": "articles", "custom_objects": "custom objects",
         "supplementary": "CSVs", "deletions": "gone from source"}


def _compact(t: dict[str, int]) -> str:
    """A phase's totals in a few words: in, loaded, and what needs a look."""
    text = f"{t['read']:,} in, {t['created'] + t['updated']:,} loaded"
    for key, word in (("skipped", "skip"), ("rejected", "rej"), ("failed", "fail"), ("in_doubt", "doubt"),
                      ("queued", "queued"), ("unexplained", "UNEXPLAINED")):
        if t.get(key):
            text += f", {t[key]:,} {word}"
    return text


class PhaseRow(Horizontal):
    def __init__(self, phase: str) -> None:
        super().__init__(classes="phase-row")
        self.phase = phase

    def compose(self) -> ComposeResult:
        yield Static(SHORT[self.phase], classes="phase-name")
        yield ProgressBar(total=None, show_eta=True, classes="phase-bar")
        yield Static("waiting", classes="phase-counts")


class RunScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "start", "Start/resume"),
        Binding("ctrl+s", "start", "Start", show=False),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("c", "cancel", "Cancel"),
        Binding("a", "accept", "Accept gate"),
        Binding("v", "validate", "Validate sample", show=False),
        Binding("b", "rollback_sample", "Roll back sample", show=False),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, project: str, kind: str, *, running: bool = False) -> None:
        super().__init__()
        self.project = project
        self.kind = kind
        self.running = running
        self.paused = False
        self.gated: str | None = None
        self._calls: list[float] = []
        self._last: tuple[float, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{TITLES[self.kind]}: {self.project}", classes="title")
        yield Static(INTRO[self.kind], classes="intro")
        if self.kind == "sample":
            with Horizontal(classes="form-row"):
                yield Label("Records per object")
                yield Input("20", id="sample-size", type="integer")
                yield Label("Test contact")
                yield Input(placeholder="optional: you@yourcompany.com", id="test-contact")
        if self.kind == "delta":
            with Horizontal(classes="form-row"):
                yield Label("Gone from the source")
                yield Select(GONE_CHOICES, value="wait", allow_blank=False, id="gone")
        yield Static("", id="status")
        with Horizontal():
            with Vertical(id="phases"):
                for phase in DELTA_PHASES if self.kind == "delta" else PHASES:
                    yield PhaseRow(phase)
            with Vertical(id="rates", classes="panel"):
                yield Static("No API calls yet.", id="stats")
                yield Sparkline([0], id="calls", summary_function=max)
        yield RichLog(id="log", max_lines=500, wrap=True, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._set_status("Running..." if self.running else "Press s to start (a stopped run resumes where it stopped).")
        self.query_one(RichLog).focus()  # keys work at once; the fields are a Tab away
        if self.kind == "delta":
            log = self.query_one(RichLog)
            log.write("Cutover checklist:")
            for item in CUTOVER:
                log.write(f"  [ ] {item}")

    def _set_status(self, text: str | Text) -> None:
        self.query_one("#status", Static).update(text)

    def _row(self, phase: str) -> PhaseRow:
        return next(r for r in self.query(PhaseRow) if r.phase == phase)

    # -- fed by the App --------------------------------------------------------------

    def run_started(self) -> None:
        self.running, self.paused, self.gated = True, False, None
        self._set_status("Running... p pauses, c cancels (the journal keeps every write; resume continues).")

    def show_progress(self, progress: LoadProgress) -> None:
        row = self._row(progress.phase)
        total = sum(o.total or 0 for o in progress.objects) or None
        done = sum(o.finished for o in progress.objects)
        bar = row.query_one(ProgressBar)
        bar.update(total=max(total or 0, done) or None, progress=done)
        rate = sum(o.rate for o in progress.objects)
        parts = [f"{done:,}" + (f"/{total:,}" if total else ""), f"{rate:,.0f}/s"]
        bad = {k: sum(getattr(o, k) for o in progress.objects) for k in ("rejected", "failed", "in_doubt", "queued")}
        parts += [f"{n} {k.replace('_', ' ')}" for k, n in bad.items() if n]
        row.query_one(".phase-counts", Static).update(", ".join(parts))
        now = time.monotonic()
        if self._last is not None and now > self._last[0]:
            self._calls.append((progress.api_requests - self._last[1]) / (now - self._last[0]))
            self._calls = self._calls[-60:]
            self.query_one(Sparkline).data = self._calls
        self._last = (now, progress.api_requests)
        limit = f"{progress.window_limit / 10:,.0f}/s" if progress.window_limit else "unknown"
        current = self._calls[-1] if self._calls else 0.0
        self.query_one("#stats", Static).update(
            f"API calls: {current:,.0f}/s (limit {limit})\n"
            f"Requests: {progress.api_requests:,}   429s: {progress.api_rate_limited}\n"
            f"Retries: {progress.api_retries}   In doubt: {progress.api_in_doubt}\n"
            f"Latency p50: {progress.latency_p50_ms or 0:,.0f} ms"
        )

    def add_event(self, level: str, text: str) -> None:
        style = {"warning": "yellow", "error": "red"}.get(level, "")
        self.query_one(RichLog).write(Text(text, style=style))

    def phase_done(self, report) -> None:
        row = self._row(report.phase)
        mark = Text("✓ " if report.clean else "✗ ", style="green" if report.clean else "red")
        row.query_one(".phase-counts", Static).update(mark + Text(_compact(report.totals())))
        if report.totals()["read"]:
            row.query_one(ProgressBar).update(total=report.totals()["read"], progress=report.totals()["read"])

    def run_finished(self, result, error: str | None) -> None:
        self.running = False
        if error:
            self._set_status(Text(f"Stopped: {error}", style="red"))
            return
        if result.status == "gated":
            self.gated = result.message
            self._set_status(Text(f"{result.message}. Press a to accept it and go on, or fix and press s.",
                                  style="yellow"))
        elif result.status == "cancelled":
            self._set_status("Cancelled. Press s to resume where it stopped.")
        else:
            after = {"sample": " Press v to validate the sample, b to roll it back.",
                     "load": " Next: Validate.", "delta": " Run it again until it finds nothing new."}[self.kind]
            self._set_status(Text("Done." + after, style="green"))

    def show_validation(self, result, error: str | None) -> None:
        self.add_event("error" if error else "info", error or f"validation: {result.summary()}")
        for m in (result.mismatches if result else [])[:20]:
            self.add_event("warning", f"{m.kind} {m.object}:{m.key} {m.field}: expected {m.expected!r}, got {m.actual!r}")

    # -- actions ---------------------------------------------------------------------

    def _options(self) -> LoadOptions | None:
        if self.kind == "delta":
            gone = self.query_one("#gone", Select).value
            return LoadOptions(accept_gates=False, gone=gone if gone in ("leave", "close", "delete") else None)
        if self.kind != "sample":
            return LoadOptions(accept_gates=False)
        size = self.query_one("#sample-size", Input).value.strip()
        if not size.isdigit() or int(size) < 1:
            self._set_status(Text("Records per object: a whole number, 1 or more.", style="red"))
            return None
        contact = self.query_one("#test-contact", Input).value.strip() or None
        return LoadOptions(sample=int(size), test_contact=contact)

    def action_start(self) -> None:
        if self.running:
            self.notify("The run is already going.")
            return
        options = self._options()
        if options is not None:
            self.post_message(RunRequested(self.project, self.kind, options))

    def action_accept(self) -> None:
        if not self.gated:
            self.notify("No phase is waiting for you.")
            return
        options = self._options()
        if options is not None:
            options.accept_gates = True
            self.post_message(RunRequested(self.project, self.kind, options))

    def action_pause(self) -> None:
        if self.running:
            self.paused = True
            self._set_status("Paused at a safe point. Press r to resume.")
            self.post_message(RunControlRequested(self.project, "pause"))

    def action_resume(self) -> None:
        if self.running and self.paused:
            self.paused = False
            self.run_started()
            self.post_message(RunControlRequested(self.project, "resume"))

    def action_cancel(self) -> None:
        if self.running:
            self._set_status("Cancelling at the next safe point...")
            self.post_message(RunControlRequested(self.project, "cancel"))

    def action_validate(self) -> None:
        if self.kind == "sample" and not self.running:
            self.post_message(ValidationRequested(self.project, 50, sample_run_only=True))

    def action_rollback_sample(self) -> None:
        if self.kind == "sample" and not self.running:
            self.post_message(RollbackRequested(self.project, sample_only=True, dry_run=False))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()
