"""Progress that never lies: bars only move forward (totals known before a bar starts, a
bar per object), the load says what it waits for when nothing moves (the rate-limit
window with its countdown), the ETA shown is the engine's, and the limit is said once known."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from textual.app import App
from textual.widgets import ProgressBar

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions, LoadProgress, ObjectProgress, Waiting
from helpmig_tui.settings import resolve_paths
from screens.run import STALL_S, PhaseRow, RunScreen
from screens.run_progress import Meter, PhaseMeter
from tests.support.virtual_time import LoopClock, run_virtual


def test_a_meter_keeps_the_total_it_started_with_and_fills_when_more_come():
    meter = Meter()
    meter.update(0, 254)
    meter.update(100, 254)
    assert meter.fraction == 100 / 254
    meter.update(150, 1717)  # the engine's total changed after the start: the bar keeps its length
    assert meter.total == 254
    meter.update(300, 1717)  # more than counted (the scope's skips come at the end): full, and stays full
    assert meter.fraction == 1.0 and meter.total == 300
    late = Meter()
    late.update(5, None)
    late.update(9, 20)  # a total learned after the bar started: a count, never a bar that jumps
    assert late.fraction is None and late.done == 9
    planned = Meter(None, planned=True)  # decided before the run: no length (a delta)
    planned.update(0, 400)
    assert planned.total is None


@given(st.lists(st.tuples(st.sampled_from(["tickets", "messages", "notes", "extra"]), st.integers(0, 40),
                          st.one_of(st.none(), st.integers(0, 500))), max_size=60))
def test_a_phase_bar_never_moves_back(steps):
    meter = PhaseMeter({"tickets": 100, "messages": 300, "notes": None})
    done = {"tickets": 0, "messages": 0, "notes": 0, "extra": 0}
    shown = 0.0
    for obj, more, total in steps:
        done[obj] += more  # the engine's counts only grow
        meter.update([(obj, done[obj], total)])
        assert meter.shown >= shown and 0.0 <= meter.shown <= 1.0
        for m in meter.meters.values():
            assert m.fraction is None or 0.0 <= m.fraction <= 1.0
        shown = meter.shown


def test_a_samples_messages_never_count_against_its_records():
    """The sample run showed "130/20": 20 chats and their 110 messages counted against the
    20 chats planned (a sample's messages have no total). The phase counts its planned
    records; the messages get a row of their own with a count."""
    meter = PhaseMeter({"chats": 20, "chat_messages": None})
    meter.update([("chats", 20, 20), ("chat_messages", 110, None)])
    assert (meter.done, meter.total, meter.fraction) == (20, 20, 1.0)
    assert meter.meters["chat_messages"].done == 110 and meter.meters["chat_messages"].fraction is None


# -- the engine: what a load waits for ---------------------------------------------------


def test_a_load_paused_by_the_rate_limit_says_so_with_its_countdown(tmp_path):
    """A workspace allowing 20 requests per 10 s: the first burst meets 429s and every
    request waits for the window; the heartbeat reports that wait while nothing moves."""
    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 8, rate_limit=20, clock=LoopClock())
    seen: list[tuple[float, LoadProgress]] = []

    class Watch:
        def progress(self, progress: LoadProgress) -> None:
            seen.append((clock.time(), progress))

        def event(self, level: str, message: str) -> None:
            pass

        def phase_finished(self, report) -> None:
            pass

    clock = LoopClock()

    async def load():
        async with demo.session(Watch(), client_options={"clock": clock}) as session:
            return await session.load(LoadOptions(phases=("match", "schema", "companies", "contacts"),
                                                  accept_gates=True))

    result = run_virtual(load())
    demo.close()
    assert result.status == "done"
    waits = [(now, p.waiting) for now, p in seen if p.waiting is not None]
    assert waits, "no progress said what the load waited for"
    assert {w.kind for _, w in waits} == {"rate_limit"}
    assert any("20 per 10 s" in w.what or "20 requests are spent" in w.what for _, w in waits)
    assert all(w.until is not None and 0 < w.until - now <= 11 for now, w in waits)  # a countdown inside a window
    beats = [now for now, _ in seen]
    assert max(b - a for a, b in zip(beats, beats[1:])) <= 1.5  # reported every second even when nothing moves
    assert seen[-1][1].window_limit == 20  # the limit, once Intercom said it


# -- the screen: bars and the waiting line ------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _progress(phase: str, objects: list[tuple[str, int, int | None]], waiting: Waiting | None = None,
              requests: int = 0, limit: int | None = None) -> LoadProgress:
    trackers = [ObjectProgress(obj, phase, total, created=finished) for obj, finished, total in objects]
    for t in trackers:
        t.read = t.created
    return LoadProgress(1, phase, trackers, requests, 0, 0, 0, limit, None, None, api_in_flight=3, waiting=waiting)


def _bars(screen: RunScreen) -> dict[tuple[str, str | None], float | None]:
    return {(r.phase, r.obj): bar.percentage for r in screen.query(PhaseRow) for bar in r.query(ProgressBar)
            if bar.visible}


async def test_the_screen_bars_only_move_forward_and_a_stall_says_what_it_waits_for():
    clock, wall = Clock(), Clock()
    screen = RunScreen("p", "load", running=True, clock=clock, wall=wall)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test(size=(80, 24)) as pilot:
        screen.run_started()
        screen.run_planned({"conversations": {"tickets": 254, "messages": 1463}})
        before: dict = {}
        # what froze the old bar: the tickets done before the messages' tracker had counted any
        feed = [
            [("tickets", 120, 254)],
            [("tickets", 254, 254)],
            [("tickets", 254, 254), ("messages", 52, 1463)],
            [("tickets", 254, 254), ("messages", 700, 1463)],
            [("tickets", 260, 254), ("messages", 1500, 1463)],
        ]
        for objects in feed:
            clock.now += 0.25
            screen.show_progress(_progress("conversations", objects, requests=100, limit=1667))
            await pilot.pause()
            bars = _bars(screen)
            for key, value in bars.items():
                if key in before and before[key] is not None and value is not None:
                    assert value >= before[key], (key, before[key], value)
            before = bars
        assert before[("conversations", "messages")] == 1.0 and before[("conversations", None)] == 1.0
        assert "limit 167/s" in str(screen.query_one("#stats").render())

        # nothing moves for more than 2 s while Intercom's window is spent: the status says so, counting down
        waiting = Waiting("rate_limit", "this window's 1,667 requests are spent: waiting for the next rate-limit "
                                        "window", until=wall.now + 9)
        screen.show_progress(_progress("conversations", feed[-1], waiting=waiting, requests=200))
        clock.now += STALL_S - 0.5
        screen._watch()
        assert str(screen.query_one("#status").render()).startswith("Running")
        clock.now += 1.0
        wall.now += 2
        screen._watch()
        assert str(screen.query_one("#status").render()) == (
            "Waiting: this window's 1,667 requests are spent: waiting for the next rate-limit window in 7 s.")
        clock.now += 0.5
        screen.show_progress(_progress("conversations", [("tickets", 261, 254), ("messages", 1500, 1463)]))
        screen._watch()
        assert str(screen.query_one("#status").render()).startswith("Running")
        # no word from the engine: the line still says what is known
        clock.now += STALL_S + 1
        screen._watch()
        assert "Nothing finished for 3 s: 3 requests in flight" in str(screen.query_one("#status").render())


async def test_a_real_load_in_the_wizard_never_moves_a_bar_back(tmp_path):
    from helpmig_tui.app import make_app
    from helpmig_tui.settings import Secrets, Settings
    from screens.overview import STEPS

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 30)
    seen: list[dict] = []
    original = RunScreen.show_progress

    def watched(self, progress):
        original(self, progress)
        seen.append({k: v for k, v in _bars(self).items()})

    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False), demo=demo)
    RunScreen.show_progress = watched  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.screen.query_one("#steps").highlighted = [s for s, _ in STEPS].index("sample")
            await pilot.press("enter", "s")
            for _ in range(6):
                await pilot.pause()
                await app.workers.wait_for_complete()
    finally:
        RunScreen.show_progress = original  # type: ignore[method-assign]
    assert len(seen) > 5
    for before, after in zip(seen, seen[1:]):
        for key, value in after.items():
            if before.get(key) is not None and value is not None:
                assert value >= before[key], (key, before[key], value)


def test_a_429_is_said_before_anything_else_with_the_time_it_ends():
    """LoadContext.waiting reads the client's window: a 429 blocks every request until it resets."""
    from connectors.intercom.ratelimit import WindowBudget
    from helpmig_tui.pipeline.context import LoadContext

    def ctx(window: WindowBudget, in_flight: int = 2, read_backs=None, threads=None):
        metrics = SimpleNamespace(window=window, in_flight=in_flight)
        client = SimpleNamespace(session=SimpleNamespace(clock=SimpleNamespace(time=lambda: 100.0)),
                                 metrics=lambda: metrics)
        return SimpleNamespace(client=client, _read_backs=read_backs or {}, _long_threads=threads or {})

    blocked = LoadContext.waiting(ctx(WindowBudget(1667, 0, 0, 104.0, 103.5), read_backs={1: ("contact 7", 101.0)}))
    assert blocked.kind == "rate_limit" and "429" in blocked.what and blocked.until == 103.5
    reading = LoadContext.waiting(ctx(WindowBudget(1667, 900, 880, 104.0, None), read_backs={1: ("contact 7", 102.0)}))
    assert reading.kind == "read_back" and "contact 7" in reading.what and reading.until == 102.0
    thread = LoadContext.waiting(ctx(WindowBudget(1667, 900, 880, 104.0, None), threads={"t": "tickets #12 with 300 "
                                                                                             "messages"}))
    assert thread.kind == "long_thread" and "tickets #12 with 300 messages" in thread.what
    assert LoadContext.waiting(ctx(WindowBudget(None, None, None, None, None))) is None


async def test_the_screen_shows_the_engines_eta_the_plans_limit_until_intercom_says_its_own_and_no_130_of_20():
    clock = Clock()
    screen = RunScreen("p", "sample", running=True, clock=clock, wall=Clock())

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    def text(phase: str) -> str:
        row = next(r for r in screen.query(PhaseRow) if r.phase == phase and r.obj is None)
        return str(row.query_one(".phase-counts").render())

    async with Host().run_test(size=(80, 24)) as pilot:
        screen.run_started()
        screen.run_planned({"conversations": {"chats": 20, "chat_messages": None}}, limit_per_10s=1667)
        progress = _progress("conversations", [("chats", 12, 20), ("chat_messages", 70, None)], requests=90)
        progress.eta_s = 125.0  # the engine's, counted in calls
        screen.show_progress(progress)
        await pilot.pause()
        assert text("conversations") == "12/20  ETA 2 min 5 s"
        assert "limit 167/s as planned; Intercom has not said yet" in str(screen.query_one("#stats").render())
        clock.now += 0.25
        screen.show_progress(_progress("conversations", [("chats", 20, 20), ("chat_messages", 110, None)],
                                       requests=130, limit=1000))
        await pilot.pause()
        assert text("conversations") == "20/20"  # not 130/20: the messages are not the chats' count
        assert "limit 100/s, as Intercom says" in str(screen.query_one("#stats").render())
