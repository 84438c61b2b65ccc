"""The demo says how many records it generated and how many are in scope, and why the rest
are not: counted here from the generated database itself and from the audit, not from the
demo's own bookkeeping; `helpmig demo` prints it, and the wizard's overview shows it at 80x24."""

from __future__ import annotations

import re
import sqlite3

from helpmig_tui.app import make_app
from helpmig_tui.audit_store import source_objects
from helpmig_tui.cli import main
from helpmig_tui.demo import latest_demo, prepare_demo
from helpmig_tui.project import open_project
from helpmig_tui.settings import Secrets, Settings, resolve_paths
from screens.overview import OverviewScreen

TICKETS = 37
LINE = re.compile(r"^(\w+): ([\d,]+) generated, ([\d,]+) in scope \((.+)\)$")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _parse(line: str) -> tuple[str, int, int, dict[str, int]]:
    match = LINE.match(line)
    assert match, line
    obj, generated, kept, why = match.groups()
    reasons = {}
    for part in why.split(", "):
        count, reason = part.split(" ", 1)
        reasons[reason] = _number(count)
    return obj, _number(generated), _number(kept), reasons


def test_the_demo_says_what_it_generated_what_is_in_scope_and_why(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    said: list[str] = []
    demo = prepare_demo(paths, "smartertrack", TICKETS, progress=said.append)
    try:
        lines = {obj: (generated, kept, reasons) for obj, generated, kept, reasons in map(_parse, demo.scope())}
        assert all(line in said for line in demo.scope())  # said while it was generated
        generated, kept, reasons = lines["tickets"]

        # the generated database, read directly
        db = sqlite3.connect(next((paths.home / "demo-sources" / demo.project).rglob("smartertrack.db")))
        rows, deleted, spam = db.execute(
            "SELECT COUNT(*), SUM(IsDeleted = 1), SUM(IsSpam = 1 AND IsDeleted = 0) FROM st_Tickets").fetchone()
        db.close()
        assert generated == rows == TICKETS
        assert reasons == {"deleted": deleted, "spam": spam} and deleted and spam
        assert kept == generated - sum(reasons.values())

        # the audit, through the connector, counts exactly what is in scope
        with open_project(paths, demo.project) as store:
            audited = {o.name: o.count for o in source_objects(store)}
        assert audited["tickets"] == kept
        for obj, (_, in_scope, _) in lines.items():
            if obj in audited:
                assert audited[obj] == in_scope, obj
    finally:
        demo.close()


async def test_the_overview_shows_the_demo_scope_whole_at_80x24(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", TICKETS)
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False), demo=demo)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            while not isinstance(app.screen, OverviewScreen):
                await pilot.press("escape")
                await pilot.pause()
            about = app.screen.query_one("#about")
            text = " ".join(str(about.render()).split())
            _, generated, kept, _ = _parse(next(line for line in demo.scope() if line.startswith("tickets:")))
            assert f"tickets: {generated:,} generated, {kept:,} in scope (" in text
            assert about.region.width and about.region.right <= app.screen.size.width
    finally:
        demo.close()


def test_helpmig_demo_prints_the_scope_and_again_when_it_reopens(tmp_path, monkeypatch, capsys):
    """The command itself (the wizard replaced by what would have opened it)."""
    opened: list[str] = []
    monkeypatch.setattr("helpmig_tui.app.make_app", lambda **kw: _NoWizard(opened, kw["demo"]))
    home = tmp_path / "home"
    for _ in range(2):
        assert main(["--home", str(home), "demo", "--tickets", str(TICKETS)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    name = latest_demo(resolve_paths(home), "smartertrack")
    assert opened == [name, name]
    assert err.count(f"tickets: {TICKETS} generated, ") == 2 and "reopening the demo project" in err


class _NoWizard:
    def __init__(self, opened: list[str], demo) -> None:
        opened.append(demo.project)
        self.demo = demo
        self.return_code = 0

    def run(self, *args, **kwargs) -> None:
        self.demo.close()
