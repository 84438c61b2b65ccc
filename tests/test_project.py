"""Projects: names, source options, and where a project stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpmig_tui.project import (
    ProjectError,
    check_name,
    create_project,
    list_projects,
    normalize_source_options,
    open_project,
    project_status,
)
from helpmig_tui.state.models import Audit, FieldMap, FindingRow, JournalEntry, Run


@pytest.mark.parametrize("name", ["acme", "Acme-2026", "a.b_c", "x" * 64])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a b", "a/b", "..", "x" * 65, "nul", "COM1", "lpt9.txt", "trailing."])
def test_bad_names(name):
    with pytest.raises(ProjectError):
        check_name(name)


def test_options_are_normalised(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opts = normalize_source_options(
        "smartertrack", {"sqlite": "st.db", "attachments": "files", "trusted": False, "user": None, "prefix": "st_"}
    )
    assert opts == {"sqlite": str(tmp_path / "st.db"), "attachments": str(tmp_path / "files"), "prefix": "st_"}
    server = normalize_source_options("trackit", {"server": r"db01\TRACKIT", "database": "TRACKIT_DATA", "trusted": True})
    assert server == {"server": r"db01\TRACKIT", "database": "TRACKIT_DATA", "trusted": True}


def test_trusted_and_user_together_are_refused():
    with pytest.raises(ProjectError, match="not both"):
        normalize_source_options("trackit", {"server": "s", "database": "d", "trusted": True, "user": "sa"})


def _stale_run(store, minutes: int, status: str = "running") -> None:
    started = datetime.now(UTC) - timedelta(minutes=minutes)
    with store.session() as session:
        session.add(Run(kind="load", status=status, started_at=started, heartbeat_at=started))


def test_an_interrupted_load_is_resumable(paths, tmp_path):
    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}) as store:
        _stale_run(store, minutes=10)
        with store.session() as session:
            session.add_all(
                [
                    JournalEntry(phase="contacts", kind="contact", source_key="1", status="done", intercom_id="a"),
                    JournalEntry(phase="contacts", kind="contact", source_key="2", status="in_flight"),
                ]
            )
        status = project_status(store)
    assert status.resumable and status.last_run.interrupted
    assert status.next_step == "resume the interrupted load run"
    assert status.journal == {"done": 1, "in_flight": 1}
    assert [item.status.resumable for item in list_projects(paths)] == [True]


def test_a_running_load_with_a_fresh_heartbeat_is_not_interrupted(paths, tmp_path):
    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}) as store:
        _stale_run(store, minutes=0)
        assert not project_status(store).resumable


def test_status_counts_open_findings_of_the_latest_audit_and_the_map(paths, tmp_path):
    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}) as store:
        with store.session() as session:
            old = Audit(status="done")
            new = Audit(status="done")
            session.add_all([old, new])
            session.flush()
            session.add_all(
                [
                    FindingRow(audit_id=old.id, code="a", severity="blocker", message="old"),
                    FindingRow(audit_id=new.id, code="b", severity="warning", message="w"),
                    FindingRow(audit_id=new.id, code="c", severity="warning", message="w2"),
                    FindingRow(audit_id=new.id, code="d", severity="blocker", message="waived", status="waived"),
                    FieldMap(version=1, hash="h", body={}, status="confirmed"),
                ]
            )
    with open_project(paths, "p") as store:
        status = project_status(store)
    assert status.findings == {"warning": 2}
    assert (status.map_version, status.map_status) == (1, "confirmed")


def test_a_killed_load_is_resumable_while_an_audit_holds_the_project(paths, tmp_path):
    """The lock held by another kind of command (an audit, a map edit) is not the load's."""
    from helpmig_tui.pipeline.runlock import RunLock

    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}) as store:
        _stale_run(store, minutes=0)  # marked running, fresh heartbeat: its process was killed
        with RunLock(paths.project_dir("p"), "audit"):
            assert project_status(store).resumable
        with RunLock(paths.project_dir("p"), "load"):
            assert not project_status(store).resumable  # a load holds it: this one runs


def test_a_run_is_interrupted_the_moment_its_process_dies(paths, tmp_path):
    """The run lock tells a live run from a killed one at once, without waiting for the
    heartbeat to go stale."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}) as store:
        _stale_run(store, minutes=0)  # running, fresh heartbeat
        holder = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(f"""
                import sys, time
                from pathlib import Path
                from helpmig_tui.pipeline.runlock import RunLock
                with RunLock(Path({str(paths.project_dir("p"))!r})):
                    print("locked", flush=True)
                    time.sleep(60)
            """)],
            cwd=root, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "locked"
            assert not project_status(store).resumable  # the loader is alive
        finally:
            holder.kill()
            holder.wait()
        assert project_status(store).resumable  # killed: offered at once
