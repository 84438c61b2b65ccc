"""The tool never writes to a source: read-only opens, a statement guard, untouched files."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from connectors.base import SourceError
from connectors.registry import open_source
from connectors.smartertrack import SmarterTrackSource
from connectors.sql.database import SqlSettings, open_database
from connectors.trackit import TrackItSource
from tests.sources.helpers import copy_sample, no_secret, records


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    return {
        str(path.relative_to(root)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_full_read_leaves_every_file_as_it_was(st_manifest, tmp_path):
    folder = Path(st_manifest.database).parent
    before = fingerprint(folder)
    with SmarterTrackSource.from_options(st_manifest.options, no_secret) as source:
        for spec in source.describe().objects:
            records(source, spec.name)
            source.profile(spec.name)
            for ref in source.iter_attachments(spec.name):
                if ref.exists:
                    ref.open().close()
    assert fingerprint(folder) == before


def test_the_sqlite_file_is_opened_read_only(st_manifest):
    with SmarterTrackSource.from_options(st_manifest.options, no_secret) as source:
        with source.database.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                raw.execute("DELETE FROM st_Tickets")


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM st_Tickets",
        "update st_Users set Email = ''",
        "/* harmless? */ DROP TABLE st_Tickets",
        "-- note\nINSERT INTO st_Tags (Name) VALUES ('x')",
        "CREATE TABLE x (id int)",
        "EXEC sp_who",
        "",
    ],
)
def test_the_guard_refuses_anything_but_reads(st_manifest, statement):
    db = open_database(SqlSettings.from_options(st_manifest.options), no_secret)
    with db.engine.connect() as conn, pytest.raises(SourceError) as info:
        conn.exec_driver_sql(statement)
    assert info.value.code == "source.write_refused"
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("  /* count */ WITH t AS (SELECT 1 AS one) SELECT one FROM t").scalar() == 1
    db.close()


def test_a_missing_file_is_a_clear_error_not_a_new_database(tmp_path):
    missing = tmp_path / "nope.db"
    source = SmarterTrackSource.from_options({"sqlite": str(missing)}, no_secret)
    check = source.check()
    assert not check.ok and "not found" in check.summary and not missing.exists()
    with pytest.raises(SourceError) as info:
        source.describe()
    assert info.value.code == "source.not_found"


def test_a_sqlalchemy_url_works_and_stays_read_only(st_manifest, tmp_path):
    path = copy_sample(st_manifest, tmp_path)
    with SmarterTrackSource.from_options({"url": f"sqlite:///{path}"}, no_secret) as source:
        assert source.describe().object("tickets").count == st_manifest.counts["tickets"]
        with source.database.engine.connect() as conn, pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.connection.dbapi_connection.execute("DELETE FROM st_Tickets")


def test_the_registry_opens_both_platforms(st_manifest, ti_manifest):
    with open_source("smartertrack", st_manifest.options, no_secret) as source:
        assert isinstance(source, SmarterTrackSource) and source.check().ok
    with open_source("trackit", ti_manifest.options, no_secret) as source:
        assert isinstance(source, TrackItSource) and source.check().ok
