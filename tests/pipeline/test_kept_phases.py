"""A resumed load goes on after the phases it finished: the reports they kept stand in for
walking them again (a resume's start-up at 100k journal rows), unless what they depended
on changed since: the operator's decisions, or a rollback."""

from __future__ import annotations

from helpmig_tui.pipeline.prepare import Resolutions
from helpmig_tui.project import open_project
from tests.support.exactly_once import assert_exactly_once
from tests.support.kept_phases import FINISHED, load, resumed_copy

async def test_a_resume_takes_the_finished_phases_reports_and_walks_them_again_once_a_decision_changed(
        cut_demo, tmp_path):
    demo = resumed_copy(cut_demo, tmp_path)
    paths = demo.paths
    first = cut_demo[1]

    second, status = await load(demo, cut=True)
    assert status == "cancelled"
    assert second.walked() == set() and second.kept() == set(FINISHED)
    for phase in FINISHED:  # the report the phase kept is the one it closed with
        assert second.reports[phase].totals() == first.reports[phase].totals(), phase
        assert [o.object for o in second.reports[phase].objects] == [o.object for o in first.reports[phase].objects]

    with open_project(paths, demo.project) as store:  # the operator settles something: matches may change
        decisions = Resolutions.load(store)
        decisions.fallback_contact = "someone@example.com"
        decisions.save(store)
    third, status = await load(demo, cut=False)
    assert status == "done" and third.walked() == set(FINISHED) and third.kept() == set()
    assert_exactly_once(paths, demo)


async def test_a_rollback_since_the_interruption_walks_the_finished_phases_again(cut_demo, tmp_path):
    demo = resumed_copy(cut_demo, tmp_path)
    paths = demo.paths
    async with demo.session() as session:
        await session.rollback(sample_only=True).run()  # a rollback run, whatever it removed
    resumed, status = await load(demo, cut=False)
    assert status == "done" and resumed.walked() == set(FINISHED) and resumed.kept() == set()
    assert_exactly_once(paths, demo)


async def test_a_kept_report_that_no_longer_reads_walks_its_phase_again(cut_demo, tmp_path):
    """A report kept by a helpmig whose reports had other fields is not trusted: the phase
    is walked again, and so are the ones after it."""
    import sqlite3

    demo = resumed_copy(cut_demo, tmp_path)
    paths = demo.paths
    with sqlite3.connect(paths.state_file(demo.project)) as db:
        report = db.execute("SELECT report FROM phases WHERE name = 'schema'").fetchone()[0]
        db.execute("UPDATE phases SET report = ? WHERE name = 'schema'",
                   (report.replace('"created":', '"made":', 1),))
    db.close()
    resumed, status = await load(demo, cut=False)
    assert status == "done"
    assert resumed.kept() == {"match"} and resumed.walked() == {"schema", "companies", "contacts"}
    assert_exactly_once(paths, demo)


async def test_a_kept_report_is_judged_again_by_the_resumed_runs_rules(cut_demo, tmp_path):
    """The contacts phase closed clean, its foreseen rejections under the project's
    threshold. Resumed with none allowed, its kept report is not clean by the run's rules:
    the phase is walked again, and the run stops at its gate instead of going on."""
    from helpmig_tui.pipeline.context import LoadOptions

    assert cut_demo[1].reports["contacts"].totals()["rejected"] > 0  # what the stricter rule catches
    demo = resumed_copy(cut_demo, tmp_path)
    resumed, status = await load(demo, cut=False, options=LoadOptions(max_rejected=0.0))
    assert resumed.kept() == {"match", "schema", "companies"} and resumed.walked() == {"contacts"}
    assert status == "gated"
