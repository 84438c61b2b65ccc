"""A demo that behaves like the real thing: a load quit with ctrl+q mid-way stops safely and
says so; it resumes from the picker of a plain `helpmig` (no demo in the process: the
project's folder holds its sandbox) and again from `helpmig demo`, which reopens the same
project and offers Resume; at the end the sandbox holds exactly what an uninterrupted load
of the same demo leaves, one copy of everything."""

from __future__ import annotations

from helpmig_tui.app import STOPPED_SAFELY
from helpmig_tui.demo import SANDBOX_FILE, latest_demo, open_demo, prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import list_projects, open_project, project_status
from helpmig_tui.settings import resolve_paths
from screens.overview import STEPS, OverviewScreen
from screens.run import RunScreen
from screens.run_messages import RunFinished
from screens.welcome import WelcomeScreen
from tests.support.stops import HeldAfter
from tests.support.wizard import settle, wizard

TICKETS = 40
WAIT_S = 60  # the most a step of this test waits for the load to reach a point (it takes seconds)


async def _quit_mid_load(pilot, held: HeldAfter) -> list[str]:
    """ctrl+q once the load has settled its first conversations and holds the rest; what the
    App said."""
    said: list[str] = []
    real = pilot.app.notify
    pilot.app.notify = lambda message, **kw: (said.append(str(message)), real(message, **kw))[1]
    await held.wait(WAIT_S)
    await pilot.press("ctrl+q")
    return said


async def test_quit_mid_load_then_resume_from_the_picker_and_from_helpmig_demo(tmp_path, capsys):
    paths = resolve_paths(tmp_path / "home")
    demo = open_demo(paths, "smartertrack", TICKETS)  # none yet: a new one
    assert demo.project == "demo-smartertrack"
    folder = paths.project_dir(demo.project)
    assert (folder / SANDBOX_FILE).exists() and paths.demo_file(demo.project).exists()
    # a second demo project keeps its own workspace
    other = prepare_demo(paths, "smartertrack", 5)
    assert other.project != demo.project and other.sandbox.store is not demo.sandbox.store
    other.close()

    # 1. the load, quit with ctrl+q mid-way: it stops safely and says so
    held = HeldAfter(20)
    app = wizard(paths, demo)
    with held.installed():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            steps = app.screen.query_one("#steps")
            steps.highlighted = [s for s, _ in STEPS].index("load")
            await pilot.press("enter", "s")
            said = await _quit_mid_load(pilot, held)
            await settle(pilot)
    assert "Stopping safely… run again to resume." in said
    said_after = " ".join(capsys.readouterr().err.split())  # what is left on the terminal after the wizard
    assert app.return_code == 0 and STOPPED_SAFELY.format(projects=demo.project) in said_after
    with open_project(paths, demo.project) as store:
        status = project_status(store)
    assert status.resumable and status.last_run.kind == "load"
    conversations = demo.sandbox.state.counts()["conversations"]
    demo.close()

    # 2. `helpmig` (no demo in this process): the picker offers Resume; it resumes, and is quit again
    held, finished = HeldAfter(10), []
    app = wizard(paths)
    with held.installed():
        async with app.run_test(size=(80, 24), message_hook=lambda m: isinstance(m, RunFinished) and
                                finished.append(m)) as pilot:
            picker = app.screen
            assert isinstance(picker, WelcomeScreen)
            await picker.listed()
            await pilot.pause()
            assert "interrupted" in str(picker.query_one("DataTable").get_row_at(0)[2])
            await pilot.press("u")
            assert isinstance(app.screen, RunScreen) and app.screen.kind == "load"
            await _quit_mid_load(pilot, held)
            await settle(pilot)
    assert not finished or finished[-1].result.status == "cancelled"
    with open_project(paths, demo.project) as store:
        assert project_status(store).resumable

    # 3. `helpmig demo` again: the same project, reopened on its Load step, offering to resume
    assert latest_demo(paths, "smartertrack") == demo.project
    again = open_demo(paths, "smartertrack", TICKETS)
    assert again.project == demo.project and len(list_projects(paths)) == 2
    assert again.sandbox.state.counts()["conversations"] >= conversations  # nothing lost
    finished: list[RunFinished] = []
    app = wizard(paths, again)
    async with app.run_test(size=(80, 24), message_hook=lambda m: isinstance(m, RunFinished) and finished.append(m)) \
            as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.kind == "load" and screen.stopped
        assert "Press s to resume it" in str(screen.query_one("#status").render())
        assert isinstance(app.screen_stack[-2], OverviewScreen)
        await pilot.press("s")
        await settle(pilot)
    result = finished[-1].result
    assert finished[-1].error is None and result.status == "done" and result.clean, result.problems()
    conversations_report = next(r for r in result.reports if r.phase == "conversations")
    assert sum(o.earlier for o in conversations_report.objects) > 0  # it continued, not restarted
    assert again.sandbox.violations.total == 0

    # 4. one copy of everything: what an uninterrupted load of the same demo leaves
    reference = prepare_demo(resolve_paths(tmp_path / "reference"), "smartertrack", TICKETS)
    async with reference.session() as session:
        assert (await session.load(LoadOptions())).status == "done"
    assert again.sandbox.state.counts() == reference.sandbox.state.counts()
    again.close()
    reference.close()
