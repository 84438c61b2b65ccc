"""The ETA: a phase takes the longer of its calls at the allowed rate and its longest chain
of calls that must go one after the other; the live ETA follows the chain's measured pace."""

from __future__ import annotations

import sqlite3

import pytest

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import NullObserver
from helpmig_tui.pipeline.eta import USABLE_SHARE, LiveEta
from helpmig_tui.pipeline.plan import CONVERSATION_CHAIN, Plan, PlannedPhase, phase_eta


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_phase_takes_its_calls_at_the_limit_or_its_chain_at_the_latency():
    assert phase_eta(16_670, 10, 1667, 0.1) == pytest.approx(100.0)  # the rate limit sets it
    assert phase_eta(1_667, 505, 1667, 0.1) == pytest.approx(50.5)  # one long thread sets it
    assert phase_eta(0, 0, 1667, 0.1) == 0.0


def test_the_plan_adds_phase_etas_and_names_the_chain_bound_phases():
    plan = Plan([PlannedPhase("contacts", "Contacts", {"customers": 500}, 1000, 4),
                 PlannedPhase("conversations", "Conversations", {"tickets": 700}, 7000, 510)],
                limit_per_10s=4167, latency_s=0.2, apps=3)
    assert plan.phase_eta_s(plan.phases[0]) == pytest.approx(1000 / 416.7)
    assert plan.phase_eta_s(plan.phases[1]) == pytest.approx(102.0)  # 510 calls x 0.2 s > 7000 / 416.7
    assert plan.eta_s == pytest.approx(1000 / 416.7 + 102.0)
    assert plan.chain_bound == ["conversations"]
    as_dict = plan.to_dict()
    assert as_dict["apps"] == 3 and as_dict["phases"][1]["chain"] == 510 and as_dict["phases"][1]["eta_s"] == 102


def test_the_live_eta_is_the_calls_left_at_the_window_rate_or_at_the_rate_reached_when_slower():
    clock = Clock()
    eta = LiveEta(clock)
    eta.phase_started(requests=0)
    requests = done = 0
    got = None
    for _ in range(6):  # the host could go faster than the window allows: 200 requests/s
        clock.now += 10
        requests, done = requests + 2000, done + 200
        got = eta.estimate([(900, done)], requests=requests, limit_per_10s=1667, latency_s=0.1)
    assert got == pytest.approx(900 * 10 / (166.7 * USABLE_SHARE))  # 10 calls a record, at the window's rate
    for _ in range(6):  # then it is short of CPU: 50 requests/s over the last half minute
        clock.now += 10
        requests, done = requests + 500, done + 50
        got = eta.estimate([(600, done)], requests=requests, limit_per_10s=1667, latency_s=0.1)
    assert got == pytest.approx(600 * 10 / 50)
    assert eta.estimate([(None, done)], requests, 1667, 0.1) is None  # a total not known: nothing to say
    eta.phase_started(requests=requests)
    clock.now += 1
    assert eta.estimate([(900, 0)], requests + 10, 1667, 0.1) is None  # nothing finished yet


def test_the_live_eta_follows_a_long_chain_at_its_measured_pace():
    clock = Clock()
    eta = LiveEta(clock)
    eta.phase_started(requests=0)
    eta.chain_started("ticket-7", 505)
    for _ in range(105):  # its parts take 150 ms each, not the 100 ms of latency
        clock.now += 0.15
        eta.chain_step("ticket-7")
    # the rest of the phase is small: 10 records at 10 calls each
    got = eta.estimate([(10, 90)], requests=900, limit_per_10s=1667, latency_s=0.1)
    assert got == pytest.approx(400 * 0.15)
    eta.chain_done("ticket-7")
    # then the calls left at the rate reached so far (900 calls in 15.75 s, under the window's)
    assert eta.estimate([(10, 90)], 900, 1667, 0.1) == pytest.approx(100 / (900 / 15.75))


async def test_the_plan_counts_the_longest_thread_as_the_conversations_chain(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 40)
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:  # the longest thread, counted in the source itself
        longest = conn.execute("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM st_TicketMessages "
                               "GROUP BY TicketId)").fetchone()[0]
    conn.close()
    assert longest > 50
    async with demo.session(NullObserver()) as session:
        plan = await session.plan()
    conversations = next(p for p in plan.phases if p.name == "conversations")
    assert conversations.chain >= longest + CONVERSATION_CHAIN
    assert plan.phase_eta_s(conversations) >= conversations.chain * plan.latency_s
