"""The Sample run, Load and Delta steps: a bar per phase (and per object of the running
phase), the engine's live ETA, rates against the limit (the plan's until Intercom says
its own), what the load waits for when nothing moves, the live log, pause / resume /
cancel, and the gate with what stopped it, in words.

The load runs in the App's worker; leaving this screen never stops it. The screen asks
with messages and the App feeds it progress (`show_progress`, `add_event`, ...). The
screen holds no text field, so every key it offers works wherever the focus is; the
sample's size and test contact are set in a dialog (`e`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Header, Input, Label, ProgressBar, RichLog, Select, Sparkline, Static

from helpmig_tui.email_address import checked_email
from helpmig_tui.pipeline.context import LoadOptions, LoadProgress, Waiting
from helpmig_tui.pipeline.loader import DELTA_PHASES, PHASES
from screens.confirm import ConfirmDialog
from screens.help import footer
from screens.run_messages import RollbackRequested, RunControlRequested, RunRequested, ValidationRequested
from screens.run_progress import PhaseMeter, duration

TITLES = {"sample": "Sample run", "load": "Load", "delta": "Delta and cutover"}
INTRO = {
    "sample": "A few records per object go in first, are read back and compared, and can be rolled back.",
    "load": "Everything, phase by phase; a phase with unexplained differences waits for you at its gate.",
    "delta": "What changed in the source since the load began: created, updated, new messages appended, state "
             "and assignment kept in step; records gone from the source handled as chosen below.",
}
CUTOVER = (
    "Stop new tickets in the source (or announce the freeze) before the last delta",
    "Run the delta until it finds nothing new",
    "Validate again, then switch the support address and widgets to Intercom",
    "Re-enable Intercom outbound campaigns and workflows",
    "Keep the reports folder: scope, reconciliation per phase, validation, rebuild inventory",
)
STALL_S = 2.0  # nothing finished for this long: the status line says what the load waits for
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
    """One phase, or (indented, under the running phase) one of its objects."""

    def __init__(self, phase: str, obj: str | None = None) -> None:
        super().__init__(classes="phase-row" + (" object-row" if obj else ""))
        self.phase = phase
        self.obj = obj
        self._shown: tuple[float | None, str | Text] | None = None  # what to show once mounted

    def compose(self) -> ComposeResult:
        yield Static(f"  {self.obj}" if self.obj else SHORT[self.phase], classes="phase-name")
        # hidden until the phase shows; a bar of unknown total animates 15 times a second, even hidden
        yield ProgressBar(total=1, show_eta=False, classes="phase-bar")
        yield Static("" if self.obj else "waiting", classes="phase-counts")

    def on_mount(self) -> None:
        for bar in self.query(ProgressBar):
            bar.visible = False
        if self._shown is not None:
            shown, self._shown = self._shown, None
            self.show(*shown)

    def show(self, fraction: float | None, text: str | Text) -> None:
        bars = list(self.query(ProgressBar))
        if bars and self._shown == (fraction, text):
            return  # a progress message that moved nothing on this row: no relayout
        self._shown = (fraction, text)
        if not bars:
            return  # not composed yet: on_mount shows it
        bar = bars[0]
        bar.visible = True
        if fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=1000, progress=round(fraction * 1000))
        self.query_one(".phase-counts", Static).update(text)


class SampleDialog(ModalScreen[tuple[int, str | None] | None]):
    """The sample run's size and test contact."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, records: int, contact: str | None) -> None:
        super().__init__()
        self.records = records
        self.contact = contact

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Static("Sample run settings", classes="title")
            yield Label("Records per object")
            yield Input(str(self.records), id="sample-size", type="integer")
            yield Label("Test contact: sample conversations go to this address, so no customer is notified")
            yield Input(self.contact or "", placeholder="optional: you@yourcompany.com", id="test-contact")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#sample-size", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        size = self.query_one("#sample-size", Input).value.strip()
        if not size.isdigit() or int(size) < 1:
            self.query_one("#error", Static).update("Records per object: a whole number, 1 or more.")
            return
        contact = self.query_one("#test-contact", Input).value.strip() or None
        if contact and checked_email(contact) is None:
            self.query_one("#error", Static).update("Test contact: an email address.")
            return
        self.dismiss((int(size), contact))


class RunScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "start", "Start", tooltip="Start the run, or resume a stopped one where it stopped"),
        Binding("e", "settings", "Settings", tooltip="Records per object and the test contact of the sample run"),
        Binding("p", "pause", "Pause", tooltip="Pause at the next safe point (nothing is interrupted mid-write)"),
        Binding("r", "resume", "Resume", tooltip="Resume a paused run"),
        Binding("c", "cancel", "Cancel", tooltip="Stop at the next safe point; s resumes where it stopped"),
        Binding("a", "accept", "Accept", tooltip="Accept the phase waiting at its gate and go on"),
        Binding("v", "validate", "Validate", tooltip="Read the sample back from Intercom and compare it"),
        Binding("b", "rollback_sample", "Roll back", tooltip="Remove what the sample runs created (asks first)"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, project: str, kind: str, *, running: bool = False,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.project = project
        self.kind = kind
        self.running = running
        self.paused = False
        self.stopping = False
        self.finished = False  # a run ended done in this screen's life (sample: v and b are offered)
        self.stopped = False  # a run of this kind stopped before its end (quit, closed terminal): s resumes it
        self.gated: str | None = None
        self.sample_size = 20
        self.test_contact: str | None = None
        self.clock = clock  # seconds, for rates, stalls and ETAs
        self.wall = wall  # Unix time, for the countdown to a rate-limit window
        self.meters: dict[str, PhaseMeter] = {}
        self.planned: dict[str, dict[str, int | None]] = {}
        self.planned_limit: int | None = None  # requests per 10 s, as the plan has it
        self.waiting: Waiting | None = None
        self.in_flight = 0
        self._moved_at = clock()
        self._last_done = -1
        self._calls: list[float] = []
        self._last: tuple[float, int] | None = None
        self._rollback_asked = False
        self._status_text: str | Text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{TITLES[self.kind]}: {self.project}", classes="title")
        yield Static(INTRO[self.kind], classes="intro")
        if self.kind == "delta":
            with Horizontal(classes="form-row"):
                yield Label("Gone from the source")
                yield Select(GONE_CHOICES, value="wait", allow_blank=False, id="gone")
        yield Static("", id="status")
        with VerticalScroll(id="phases"):
            for phase in DELTA_PHASES if self.kind == "delta" else PHASES:
                yield PhaseRow(phase)
        with Horizontal(id="rates"):
            yield Static("No API calls yet.", id="stats")
            yield Sparkline([], id="calls", summary_function=max)
        yield RichLog(id="log", max_lines=500, wrap=True, markup=False)
        yield footer()

    def on_mount(self) -> None:
        self.query_one(Sparkline).display = False
        self._ready()
        self.query_one(RichLog).focus()
        if self.kind == "delta":
            log = self.query_one(RichLog)
            log.write("Cutover checklist:")
            for item in CUTOVER:
                log.write(f"  [ ] {item}")
        self.set_interval(0.5, self._watch)

    def _ready(self) -> None:
        if self.running:
            self._set_status("Running... p pauses, c cancels.")
            return
        if self.stopped:
            self._set_status(Text(f"The {TITLES[self.kind].lower()} stopped before its end. Press s to resume it "
                                  "where it stopped.", style="yellow"))
            return
        what = ""
        if self.kind == "sample":
            contact = f"test contact {self.test_contact}" if self.test_contact else "no test contact"
            what = f" ({self.sample_size} records per object, {contact}; e changes them)"
        self._set_status(f"Press s to start{what}. A stopped run resumes where it stopped.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys show in the footer only where they do something now."""
        sample_done = self.kind == "sample" and self.finished and not self.running
        shown = {
            "settings": self.kind == "sample" and not self.running,
            "pause": self.running and not self.paused,
            "resume": self.running and self.paused,
            "cancel": self.running,
            "accept": bool(self.gated) and not self.running,
            "validate": sample_done,
            "rollback_sample": sample_done,
            "start": not self.running,
        }
        return shown.get(action, True)

    def _set_status(self, text: str | Text) -> None:
        self._status_text = text
        self.query_one("#status", Static).update(text)
        self.refresh_bindings()

    def _row(self, phase: str, obj: str | None = None) -> PhaseRow:
        found = [r for r in self.query(PhaseRow) if r.phase == phase and r.obj == obj]
        if found:
            return found[0]
        row = PhaseRow(phase, obj)
        after = [r for r in self.query(PhaseRow) if r.phase == phase][-1]
        self.query_one("#phases", VerticalScroll).mount(row, after=after)
        return row

    # -- fed by the App --------------------------------------------------------------

    def run_started(self) -> None:
        self.running, self.paused, self.gated, self.stopping = True, False, None, False
        self._moved_at = self.clock()
        self._set_status("Running... p pauses, c cancels (the journal keeps every write; s resumes).")

    def run_planned(self, planned: dict[str, dict[str, int | None]], limit_per_10s: int | None = None) -> None:
        """Each phase's objects and their records, known before any bar starts, and the
        plan's rate limit (shown until Intercom says its own)."""
        self.planned = planned
        self.planned_limit = limit_per_10s
        for phase, objects in planned.items():
            if phase not in self.meters:
                self.meters[phase] = PhaseMeter(dict(objects))

    def show_progress(self, progress: LoadProgress) -> None:
        now = self.clock()
        meter = self.meters.setdefault(progress.phase, PhaseMeter(dict(self.planned.get(progress.phase, {}))))
        meter.update([(o.object, o.finished, o.total) for o in progress.objects])
        done = sum(m.done for m in meter.meters.values())
        if done != self._last_done:
            self._last_done, self._moved_at = done, now
        self.waiting, self.in_flight = progress.waiting, progress.api_in_flight
        self._show_phase(progress.phase, meter, progress.eta_s)
        self._show_rates(progress, now)

    def _show_phase(self, phase: str, meter: PhaseMeter, eta: float | None) -> None:
        """The phase's bar and count, with the engine's ETA (counted in API calls)."""
        total = meter.total
        text = f"{meter.done:,}/{total:,}" if total is not None else f"{meter.done:,}"
        text += f"  ETA {duration(eta)}" if eta is not None else ""
        self._row(phase).show(meter.shown if total is not None else None, text)
        if len(meter.meters) > 1:  # a bar per object of the running phase (conversations, then messages, ...)
            for obj, m in meter.meters.items():
                counts = f"{m.done:,}/{m.total:,}" if m.total is not None else f"{m.done:,} (total not known)"
                self._row(phase, obj).show(m.fraction, counts)

    def _show_rates(self, progress: LoadProgress, now: float) -> None:
        if self._last is not None and now > self._last[0]:
            self._calls.append((progress.api_requests - self._last[1]) / (now - self._last[0]))
            self._calls = self._calls[-60:]
            sparkline = self.query_one(Sparkline)
            sparkline.data = self._calls
            sparkline.display = len(self._calls) > 1
        self._last = (now, progress.api_requests)
        if progress.window_limit:
            limit = f"limit {progress.window_limit / 10:,.0f}/s, as Intercom says"
        elif self.planned_limit:
            limit = f"limit {self.planned_limit / 10:,.0f}/s as planned; Intercom has not said yet"
        else:
            limit = "limit: Intercom says it with its first answer"
        current = self._calls[-1] if self._calls else 0.0
        self.query_one("#stats", Static).update(
            f"API {current:,.0f}/s ({limit})  requests {progress.api_requests:,}\n"
            f"429s {progress.api_rate_limited}  retries {progress.api_retries}  in doubt {progress.api_in_doubt}  "
            f"p50 {progress.latency_p50_ms or 0:,.0f} ms"
        )

    def _watch(self) -> None:
        """Twice a second: when nothing has finished for STALL_S, say what the load waits for."""
        if not self.running or self.paused or self.stopping:
            return
        idle = self.clock() - self._moved_at
        if idle < STALL_S:
            if isinstance(self._status_text, Text) and self._status_text.style == "yellow" and \
                    str(self._status_text).startswith(("Waiting", "Nothing finished")):
                self.run_started()
            return
        self._set_status(Text(self.stall_line(idle), style="yellow"))

    def stall_line(self, idle: float) -> str:
        waiting = self.waiting
        if waiting is not None:
            line = f"Waiting: {waiting.what}"
            if waiting.until is not None:
                line += f" in {max(0, round(waiting.until - self.wall()))} s"
            return line + "."
        return (f"Nothing finished for {idle:.0f} s: {self.in_flight} requests in flight, waiting for Intercom's "
                "answers.")

    def add_event(self, level: str, text: str) -> None:
        style = {"warning": "yellow", "error": "red"}.get(level, "")
        self.query_one(RichLog).write(Text(text, style=style))

    def phase_done(self, report) -> None:
        for row in [r for r in self.query(PhaseRow) if r.phase == report.phase and r.obj]:
            row.remove()
        mark = Text("✓ " if report.clean else "✗ ", style="green" if report.clean else "red")
        meter = self.meters.get(report.phase)
        fraction = meter.shown if meter is not None and meter.total is not None else 1.0
        self._row(report.phase).show(1.0 if report.clean else fraction, mark + Text(_compact(report.totals())))
        for problem in report.problems:
            self.add_event("warning", f"{report.phase}: {problem}")

    def run_finished(self, result, error: str | None, found: str | None = None) -> None:
        """The run ended: `found` is what a delta found, in words."""
        self.running = False
        self.stopping = False
        if error:
            self._set_status(Text(f"Stopped: {error}", style="red"))
            return
        if result.status == "gated":
            self.gated = result.message
            problems = [p.split(": ", 1)[-1] for p in result.problems()[1:4]]
            why = "; ".join(problems) or result.message
            self._set_status(Text(f"Stopped at a gate: {why}. a accepts it and goes on; or fix it and press s.",
                                  style="yellow"))
        elif result.status == "cancelled":
            self._set_status("Stopped safely at a safe point. Press s to resume where it stopped.")
        else:
            self.finished = True
            problems = result.problems()
            verdict = "Done, clean." if result.clean else f"Done, not clean: {'; '.join(problems[:2])}."
            after = {"sample": " v validates the sample, b rolls it back.", "load": " Next: Validate.",
                     "delta": ""}[self.kind]
            if self.kind == "delta" and found:
                again = "nothing is left to carry over" if found.startswith("nothing new") else \
                    "run it again until it finds nothing new"
                verdict = f"Delta done: {found}; {again}." + ("" if result.clean else f" Not clean: {problems[0]}.")
            self._set_status(Text(verdict + after, style="green" if result.clean else "yellow"))

    def show_validation(self, result, error: str | None) -> None:
        self.add_event("error" if error else "info", error or f"validation: {result.summary()}")
        for m in (result.mismatches if result else [])[:20]:
            self.add_event("warning", f"{m.kind} {m.object}:{m.key} {m.field}: expected {m.expected!r}, got {m.actual!r}")

    def rollback_planned(self, planned: dict[str, int] | None, error: str | None) -> None:
        """The counts of the sample's rollback arrived: ask before anything is removed."""
        if not self._rollback_asked:
            if error:
                self.add_event("error", f"rollback: {error}")
            return
        self._rollback_asked = False
        if error or not planned:
            self.add_event("error" if error else "info", f"rollback: {error or 'nothing of the sample is in Intercom'}")
            return
        what = ", ".join(f"{n:,} {kind}" for kind, n in planned.items())

        def answered(yes: bool | None) -> None:
            if yes:
                self.add_event("info", "rolling the sample back...")
                self.post_message(RollbackRequested(self.project, sample_only=True, dry_run=False))

        self.app.push_screen(ConfirmDialog("Roll back the sample run?", f"Removes from Intercom what the sample runs "
                                           f"created: {what}. Companies and attributes are archived.", "Roll back"),
                             answered)

    # -- actions ---------------------------------------------------------------------

    def _options(self) -> LoadOptions:
        if self.kind == "delta":
            gone = self.query_one("#gone", Select).value
            return LoadOptions(accept_gates=False, gone=gone if gone in ("leave", "close", "delete") else None)
        if self.kind != "sample":
            return LoadOptions(accept_gates=False)
        return LoadOptions(sample=self.sample_size, test_contact=self.test_contact)

    def action_start(self) -> None:
        if self.running:
            self.notify("The run is already going.")
            return
        self.post_message(RunRequested(self.project, self.kind, self._options()))

    def action_settings(self) -> None:
        def saved(values: tuple[int, str | None] | None) -> None:
            if values is not None:
                self.sample_size, self.test_contact = values
                self._ready()

        self.app.push_screen(SampleDialog(self.sample_size, self.test_contact), saved)

    def action_accept(self) -> None:
        if not self.gated:
            self.notify("No phase is waiting for you.")
            return
        options = self._options()
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
            self.stopping = True
            self._set_status("Stopping safely at the next safe point...")
            self.post_message(RunControlRequested(self.project, "cancel"))

    def action_validate(self) -> None:
        if self.kind == "sample" and not self.running:
            self.add_event("info", "validating the sample...")
            self.post_message(ValidationRequested(self.project, 50, sample_run_only=True))

    def action_rollback_sample(self) -> None:
        if self.kind == "sample" and not self.running:
            self._rollback_asked = True
            self.post_message(RollbackRequested(self.project, sample_only=True, dry_run=True))
