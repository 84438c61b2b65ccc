"""The project store: create, reopen, upgrade, permissions, concurrency, bad files."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from helpmig_tui.state import (
    CorruptProjectFile,
    NewerSchema,
    NotAProjectFile,
    OlderSchema,
    ProjectExists,
    ProjectNotFound,
    ProjectStore,
)
from helpmig_tui.state import migrations
from helpmig_tui.state.models import Base, Event, JournalEntry, Run
from helpmig_tui.state.store import APPLICATION_ID
from tests.support.schema_v1 import create_v1

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(os.name == "nt", reason="file modes exist only on POSIX")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new(path: Path) -> ProjectStore:
    return ProjectStore.create(path, name="acme", platform="smartertrack", source_options={"sqlite": "/x.db"})


def test_create_then_reopen_keeps_the_project(tmp_path):
    path = tmp_path / "p" / "state.sqlite"
    with _new(path) as store:
        with store.session() as session:
            session.add(Event(kind="note", message="hello"))
    with ProjectStore.open(path) as store:
        project = store.project()
        assert (project.name, project.platform, project.source_options) == ("acme", "smartertrack", {"sqlite": "/x.db"})
        assert project.created_at.tzinfo is not None
        assert store.schema_version == migrations.LATEST
        with store.reader() as session:
            assert session.scalar(select(Event.message)) == "hello"
            assert session.scalar(text("PRAGMA journal_mode")) == "wal"
            assert session.scalar(text("PRAGMA application_id")) == APPLICATION_ID


def test_create_refuses_an_existing_file(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"precious")
    with pytest.raises(ProjectExists):
        _new(path)
    assert path.read_bytes() == b"precious"


def test_open_missing_project(tmp_path):
    with pytest.raises(ProjectNotFound):
        ProjectStore.open(tmp_path / "nope.sqlite")


@posix_only
def test_file_and_directory_are_private(tmp_path):
    path = tmp_path / "p" / "state.sqlite"
    with _new(path) as store:
        with store.session() as session:  # forces the WAL and SHM files into existence
            session.add(Event(kind="note", message="x"))
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and wal.stat().st_mode & 0o777 == 0o600


@posix_only
def test_open_tightens_loosened_permissions(tmp_path):
    path = tmp_path / "state.sqlite"
    _new(path).close()
    os.chmod(path, 0o644)
    ProjectStore.open(path).close()
    assert path.stat().st_mode & 0o777 == 0o600


def _write_v1_file(path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        create_v1(conn)
        now = datetime(2026, 1, 2, tzinfo=UTC).isoformat()
        conn.execute(text("INSERT INTO meta VALUES ('app', 'helpmig'), ('schema_version', '1')"))
        conn.execute(
            text(
                "INSERT INTO project VALUES (1, 'old', 'trackit', '{\"sqlite\":\"/t.db\"}', NULL, 'audited', '{}', :n, :n)"
            ),
            {"n": now},
        )
        conn.execute(
            text(
                "INSERT INTO runs (id, kind, status, started_at, options, summary) VALUES (1, 'load', 'done', :n, '{}', '{}')"
            ),
            {"n": now},
        )
        conn.execute(
            text(
                "INSERT INTO journal (run_id, phase, kind, source_key, status, intercom_id, attempts, created_at, updated_at)"
                " VALUES (1, 'contacts', 'contact', 'u1', 'done', '66a', 1, :n, :n)"
            ),
            {"n": now},
        )
    engine.dispose()


def _schema(path: Path) -> dict[str, object]:
    engine = create_engine(f"sqlite:///{path}")
    insp = inspect(engine)
    shape = {
        table: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)),
            sorted(i["name"] for i in insp.get_indexes(table)),
            sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        )
        for table in insp.get_table_names()
    }
    engine.dispose()
    return shape


def _held_open(folder: Path) -> list[str]:
    """The files under `folder` this process holds open (Linux's /proc; elsewhere none known)."""
    held = []
    for fd in Path("/proc/self/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:  # the listing's own descriptor, closed since
            continue
        if target.startswith(str(folder)):
            held.append(target)
    return held


def test_a_version_1_file_is_upgraded_and_keeps_its_data(tmp_path):
    old = tmp_path / "old" / "state.sqlite"
    old.parent.mkdir()
    _write_v1_file(old)
    with ProjectStore.open(old) as store:
        assert store.schema_version == migrations.LATEST
        assert store.project().name == "old"
        with store.session() as session:
            entry = session.scalars(select(JournalEntry)).one()
            assert (entry.source_key, entry.intercom_id, entry.seq, entry.parent_key) == ("u1", "66a", 0, None)
            assert session.get(Run, 1).heartbeat_at is None
    backup = old.with_name("state.sqlite.v1.bak")
    assert _held_open(old.parent) == []  # nothing left for the collector to close: Windows locks open files
    with sqlite3.connect(backup) as conn:  # the copy taken before the upgrade is still version 1
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
        assert conn.execute("SELECT source_key FROM journal").fetchall() == [("u1",)]
    conn.close()
    fresh = tmp_path / "fresh" / "state.sqlite"
    _new(fresh).close()
    assert _schema(old) == _schema(fresh)


def test_upgrade_runs_once(tmp_path):
    path = tmp_path / "state.sqlite"
    _write_v1_file(path)
    ProjectStore.open(path).close()
    ProjectStore.open(path).close()  # a second open finds nothing to do
    with ProjectStore.open(path) as store:
        with store.reader() as session:
            assert session.scalar(select(func.count()).select_from(JournalEntry)) == 1


def test_listing_mode_does_not_upgrade(tmp_path):
    path = tmp_path / "state.sqlite"
    _write_v1_file(path)
    before = _digest(path)
    with pytest.raises(OlderSchema):
        ProjectStore.open(path, upgrade=False)
    assert _digest(path) == before


def test_a_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "state.sqlite"
    _new(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(migrations.LATEST + 1),))
    before = _digest(path)
    with pytest.raises(NewerSchema, match="newer helpmig") as info:
        ProjectStore.open(path)
    assert "upgrade helpmig" in info.value.hint
    assert _digest(path) == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is a spreadsheet, honestly\n" * 200)
    before = _digest(path)
    with pytest.raises(NotAProjectFile, match="not a SQLite database"):
        ProjectStore.open(path)
    assert _digest(path) == before


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"")
    with pytest.raises(NotAProjectFile):
        ProjectStore.open(path)
    assert path.read_bytes() == b""


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.close()
    before = _digest(path)
    with pytest.raises(NotAProjectFile, match="not a helpmig project"):
        ProjectStore.open(path)
    assert _digest(path) == before
    assert not path.with_name(path.name + "-wal").exists()


def test_a_damaged_project_file_is_refused_untouched(tmp_path):
    path = tmp_path / "state.sqlite"
    with _new(path) as store, store.session() as session:
        session.add_all(Event(kind="note", message="x" * 500) for _ in range(200))
    with sqlite3.connect(path) as conn:  # fold the WAL into the main file first
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page : page * 4] = os.urandom(page * 3)  # garble pages 2-4, keep the header
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises((CorruptProjectFile, NotAProjectFile)) as info:
        ProjectStore.open(path)
    assert "did not change it" in info.value.hint or "backup" in info.value.hint
    assert _digest(path) == before


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from helpmig_tui.state import ProjectStore
    from helpmig_tui.state.models import JournalEntry

    store = ProjectStore.open(Path(sys.argv[1]))
    for i in range(int(sys.argv[2])):
        with store.session() as session:  # one commit per write, as the loader journals
            session.add(JournalEntry(phase="contacts", kind="contact", source_key=str(i), status="done"))
    store.close()
    """
)


def test_a_reader_reads_while_a_writer_commits(tmp_path):
    path = tmp_path / "state.sqlite"
    _new(path).close()
    total = 1500
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(total)], cwd=ROOT)
    seen: list[int] = []
    with ProjectStore.open(path) as reader:
        while writer.poll() is None:
            with reader.reader() as session:
                seen.append(session.scalar(select(func.count()).select_from(JournalEntry)))
        assert writer.wait() == 0
        with reader.reader() as session:
            final = session.scalar(select(func.count()).select_from(JournalEntry))
    assert final == total
    assert seen == sorted(seen), "a reader never sees committed rows disappear"
    assert len(seen) > 3 and any(0 < n < total for n in seen), "reads happened during the writes"


def test_the_store_refuses_naive_datetimes(tmp_path):
    with _new(tmp_path / "state.sqlite") as store:
        with pytest.raises(Exception, match="naive datetime"):
            with store.session() as session:
                session.add(Event(kind="x", message="y", at=datetime(2026, 1, 1)))
        with store.reader() as session:
            assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_schema_holds_every_table_design_names():
    assert {t.name for t in Base.metadata.sorted_tables} == {
        "meta", "project", "source_objects", "audits", "findings", "field_maps", "map_changes",
        "runs", "phases", "journal", "events",
    }


def test_two_writers_of_the_settings_each_keep_their_change(tmp_path):
    """The Connect step's two tests record into the project's settings at once (the source's
    outcome, the Intercom workspace): a writing session holds the lock from its first read,
    so the second reads what the first wrote instead of overwriting it with an old copy."""
    import threading

    from helpmig_tui.state.models import Project

    path = tmp_path / "state.sqlite"
    _new(path).close()
    first_read, second_trying = threading.Event(), threading.Event()
    seen: dict[str, dict] = {}

    def first() -> None:
        with ProjectStore.open(path) as store, store.writing() as session:
            project = session.get(Project, 1)
            seen["first"] = dict(project.settings)
            first_read.set()
            second_trying.wait(10)
            project.settings = {**project.settings, "first": 1}

    def second() -> None:
        first_read.wait(10)
        with ProjectStore.open(path) as store:
            second_trying.set()
            with store.writing() as session:
                project = session.get(Project, 1)
                seen["second"] = dict(project.settings)
                project.settings = {**project.settings, "second": 2}

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert seen["second"].get("first") == 1  # it read after the first committed
    with ProjectStore.open(path) as store:
        assert {"first": 1, "second": 2}.items() <= store.project().settings.items()


def test_two_project_files_share_their_compiled_sql_and_keep_their_rows(tmp_path):
    statement = select(Event.message).where(Event.kind == "compiled once").order_by(Event.id)
    seen = []
    for name in ("one", "two"):
        with _new(tmp_path / name / "state.sqlite") as store:
            with store.session() as session:
                session.add(Event(kind="compiled once", message=name))
            with store.engine.connect() as conn:
                result = conn.execute(statement)
                seen.append((result.scalars().all(), result.context.cache_hit is store.engine.dialect.CACHE_HIT))
    assert seen[0][0] == ["one"] and seen[1] == (["two"], True)
