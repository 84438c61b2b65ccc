"""What each wizard step waits for."""

from __future__ import annotations

import asyncio

from helpmig_tui.audit_store import decide, findings
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import create_project, open_project, project_status
from helpmig_tui.settings import resolve_paths
from helpmig_tui.steps import step_standing


def test_a_new_project_waits_for_its_audit(paths, tmp_path):
    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "missing.db")}) as store:
        waits, done = step_standing(store, project_status(store), paths.reports_dir("p"))
    assert waits["audit"].startswith("fix the source on Connect: source file not found")
    assert waits["mapping"] == "run the audit first"
    assert waits["load"].startswith("confirm the field map")
    assert waits["validate"] == "load a sample or everything first"
    assert waits["rollback"] == "nothing created in Intercom yet"
    assert not done  # nothing is done yet, not even Connect


def test_waits_clear_as_the_project_moves_on(tmp_path):
    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "trackit", 10)
    with open_project(paths, demo.project) as store:
        backup = next(f for f in findings(store) if f.code == "checklist.trackit_backup")
        decide(store, backup.id, "open")
        waits, _ = step_standing(store, project_status(store), paths.reports_dir(demo.project))
        assert waits["load"] == "1 audit blockers are open: acknowledge or waive them on Audit"
        decide(store, backup.id, "acknowledged")
        waits, _ = step_standing(store, project_status(store), paths.reports_dir(demo.project))
        assert "load" not in waits and "plan" not in waits and "mapping" not in waits

    async def load() -> None:
        async with demo.session() as session:
            await session.load(LoadOptions(accept_gates=True))

    asyncio.run(load())
    with open_project(paths, demo.project) as store:
        waits, done = step_standing(store, project_status(store), paths.reports_dir(demo.project))
    assert not {"validate", "delta", "rollback"} & set(waits)
    assert {"audit", "mapping", "plan", "load"} <= done and not {"sample", "rollback", "reports"} & done

    async def roll_back() -> None:
        async with demo.session() as session:
            await session.rollback(sample_only=False).run()

    asyncio.run(roll_back())  # a rollback of everything: the delta waits for a new load, as the engine refuses it
    with open_project(paths, demo.project) as store:
        waits, done = step_standing(store, project_status(store), paths.reports_dir(demo.project))
    assert waits["delta"] == "the project was rolled back: run the full load again first" and "rollback" in done
