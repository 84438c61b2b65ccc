"""SQLite on mapped drives, shares and USB sticks: the project store keeps WAL on a local
disk and takes a rollback journal where WAL's shared memory does not work, saying so
once; SQLite sources open read-only through an authority-free URI, immutable only when
nothing can be changing the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.file_paths import DriveKind
from connectors.sql import database
from connectors.sql.database import SqlSettings, immutable_is_safe, open_database
from helpmig_tui.cli import main
from helpmig_tui.project import list_projects
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state import ProjectStore
from helpmig_tui.state import store as store_module


@pytest.fixture
def drive(monkeypatch):
    """Which kind of drive the store believes every folder is on; nothing told yet."""
    monkeypatch.setattr(store_module, "_told", set())
    monkeypatch.setattr(store_module, "_untold", [])
    state = {"kind": DriveKind.LOCAL}
    monkeypatch.setattr(store_module, "drive_kind", lambda _path: state["kind"])
    return state


def _new(path: Path) -> ProjectStore:
    return ProjectStore.create(path, name="acme", platform="smartertrack", source_options={"sqlite": "/x.db"})


def _pragmas(store: ProjectStore) -> tuple[str, int]:
    with store.reader() as session:
        return session.scalar(text("PRAGMA journal_mode")), session.scalar(text("PRAGMA synchronous"))


def test_a_local_project_uses_wal(drive, tmp_path):
    with _new(tmp_path / "p" / "state.sqlite") as store:
        assert _pragmas(store) == ("wal", 1)  # NORMAL
    assert store_module.take_drive_notes() == []


@pytest.mark.parametrize("kind", [DriveKind.NETWORK, DriveKind.REMOVABLE])
def test_a_network_or_removable_home_uses_a_rollback_journal(drive, tmp_path, kind):
    drive["kind"] = kind
    path = tmp_path / "p" / "state.sqlite"
    with _new(path) as store:
        with store.session() as session:
            session.execute(text("INSERT INTO meta (key, value) VALUES ('probe', 'x')"))
        assert _pragmas(store) == ("delete", 2)  # FULL
    assert not path.with_name("state.sqlite-wal").exists()
    notes = store_module.take_drive_notes()
    assert len(notes) == 1 and "rollback journal instead of WAL" in notes[0] and str(path.parent) in notes[0]
    with ProjectStore.open(path) as store:
        assert _pragmas(store) == ("delete", 2)
    assert store_module.take_drive_notes() == []  # said once


def test_a_wal_project_moved_to_a_share_leaves_wal(drive, tmp_path):
    path = tmp_path / "p" / "state.sqlite"
    with _new(path):
        pass
    drive["kind"] = DriveKind.NETWORK
    with ProjectStore.open(path) as store:
        assert _pragmas(store)[0] == "delete"
        assert store.project().name == "acme"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # recorded in the file
    conn.close()


def test_the_cli_says_it_once_on_stderr(drive, tmp_path, capsys):
    drive["kind"] = DriveKind.NETWORK
    home = tmp_path / "share"
    source = tmp_path / "helpdesk.db"
    sqlite3.connect(source).close()
    assert main(["--home", str(home), "init", "acme", "--source", "smartertrack", "--sqlite", str(source)]) == 0
    assert main(["--home", str(home), "status", "acme"]) == 0
    err = capsys.readouterr().err
    assert err.count("helpmig: note:") == 1 and "network drive or share" in err


def test_a_home_with_awkward_characters_opens_by_its_plain_path(drive, tmp_path):
    paths = resolve_paths(tmp_path / "odd #name%20?" / "100% (copy)")
    path = paths.state_file("acme")
    with _new(path):
        pass
    listed = list_projects(paths)
    assert [(item.name, item.error) for item in listed] == [("acme", None)]
    with ProjectStore.open(path) as store:
        assert store.project().platform == "smartertrack"


# -- SQLite sources -------------------------------------------------------------------------


def _wal_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (a)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()  # the last connection checkpoints and removes the -wal file
    return path


def test_immutable_only_when_nothing_can_be_changing_the_file(tmp_path, monkeypatch):
    path = str(_wal_database(tmp_path / "helpdesk.db"))
    monkeypatch.setattr(database, "drive_kind", lambda _p: DriveKind.LOCAL)
    assert not immutable_is_safe(path)  # writable, local: the helpdesk may be running
    monkeypatch.setattr(database, "_writable", lambda _p: False)
    assert immutable_is_safe(path)  # a read-only copy
    Path(path + "-wal").write_bytes(b"")
    assert not immutable_is_safe(path)  # a WAL beside it holds data immutable would ignore
    Path(path + "-wal").unlink()
    monkeypatch.setattr(database, "_writable", lambda _p: True)
    monkeypatch.setattr(database, "drive_kind", lambda _p: DriveKind.NETWORK)
    assert immutable_is_safe(path)  # WAL mode on a share, checkpointed: no shared memory needed
    rollback = tmp_path / "rollback.db"
    sqlite3.connect(rollback).execute("CREATE TABLE t (a)").connection.close()
    assert not immutable_is_safe(str(rollback))  # a rollback-journal file locks fine on a share


def test_a_wal_source_on_a_share_is_read_without_shared_memory(tmp_path, monkeypatch):
    folder = tmp_path / "share #1"
    folder.mkdir()
    path = _wal_database(folder / "helpdesk?.db")
    monkeypatch.setattr(database, "drive_kind", lambda _p: DriveKind.NETWORK)
    db = open_database(SqlSettings.from_options({"sqlite": str(path)}), lambda _name: None)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT a FROM t")).scalar_one() == 1
    finally:
        db.close()
    assert not Path(str(path) + "-shm").exists() and not Path(str(path) + "-wal").exists()


def test_a_writable_local_source_is_read_only_but_not_immutable(tmp_path):
    path = _wal_database(tmp_path / "helpdesk.db")
    db = open_database(SqlSettings.from_options({"sqlite": str(path)}), lambda _name: None)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT a FROM t")).scalar_one() == 1
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                conn.connection.driver_connection.execute("INSERT INTO t VALUES (2)")
    finally:
        db.close()


async def test_the_wizard_says_it_once_in_the_picker(drive, paths, tmp_path):
    from helpmig_tui.app import make_app
    from helpmig_tui.project import create_project
    from helpmig_tui.settings import Secrets, Settings

    drive["kind"] = DriveKind.NETWORK
    create_project(paths, "alpha", "smart-export", {"folder": str(tmp_path)}).close()
    create_project(paths, "beta", "smart-export", {"folder": str(tmp_path)}).close()
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")  # a refresh lists the projects again
        await pilot.pause()
        notes = [n.message for n in app._notifications if "rollback journal" in n.message]
    assert len(notes) == 1 and "network drive or share" in notes[0]
