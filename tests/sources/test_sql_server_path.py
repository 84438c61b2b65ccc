"""The SQL Server code path without a SQL Server.

pyodbc runs for real, against the SQLite ODBC driver (`DRIVER={SQLite3}`), through the
same connection helper, converters and read-only guard; and every query the connectors
send is compiled with the mssql dialect and checked against SQL Server's rules.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, insert, select
from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc
from sqlalchemy.dialects.sqlite import pysqlite as sqlite_pysqlite
from sqlalchemy.sql import ClauseElement

from connectors.base import Source, SourceError
from connectors.smartertrack import SmarterTrackSource
from connectors.trackit import TrackItSource
from tests.sources.helpers import no_secret, records

MAX_PARAMETERS = 2100


def odbc_options(manifest) -> dict:
    options = {key: value for key, value in manifest.options.items() if key != "sqlite"}
    return {**options, "odbc": f"DRIVER={{SQLite3}};Database={manifest.database}"}


def comparable(value):
    """The SQLite ODBC driver ends text at a NUL character; SQL Server's drivers do not."""
    return value.split("\x00", 1)[0] if isinstance(value, str) else value


@pytest.mark.parametrize("platform", ["smartertrack", "trackit"])
@pytest.mark.sqlite_odbc
def test_connectors_read_the_same_through_pyodbc(platform, st, ti, st_manifest, ti_manifest):
    native, manifest, cls = (
        (st, st_manifest, SmarterTrackSource) if platform == "smartertrack" else (ti, ti_manifest, TrackItSource)
    )
    with cls.from_options(odbc_options(manifest), no_secret) as source:
        assert source.database.engine.dialect.name == "sqlite" and source.database.engine.dialect.driver == "pyodbc"
        assert source.check().ok
        assert {spec.name: spec.count for spec in source.describe().objects} == manifest.counts
        for spec in source.describe().objects:
            mine = records(source, spec.name, batch_size=50)
            theirs = records(native, spec.name, batch_size=50)
            assert [r.key for r in mine] == [r.key for r in theirs], spec.name
            for a, b in zip(mine, theirs, strict=True):
                assert {k: comparable(v) for k, v in a.data.items()} == {k: comparable(v) for k, v in b.data.items()}, (
                    spec.name,
                    a.key,
                )
        parent, child = ("tickets", "messages") if platform == "smartertrack" else ("tickets", "notes")
        assert source.childless_keys(parent, child) == native.childless_keys(parent, child)
        assert source.child_counts(child, over=2) == native.child_counts(child, over=2)
        assert source.profile(parent).fields["subject"].filled == native.profile(parent).fields["subject"].filled
        attachments = list(source.iter_attachments("messages" if platform == "smartertrack" else "tickets"))
        assert len(attachments) == len(
            list(native.iter_attachments("messages" if platform == "smartertrack" else "tickets"))
        )


@pytest.mark.sqlite_odbc
def test_the_odbc_path_never_writes(st_manifest):
    with SmarterTrackSource.from_options(odbc_options(st_manifest), no_secret) as source:
        with source.database.engine.connect() as conn:
            with pytest.raises(SourceError, match="only reads"):
                conn.exec_driver_sql("DELETE FROM st_Tickets")
            raw = conn.connection.dbapi_connection
            with pytest.raises(Exception, match="readonly"):  # below the guard, SQLite itself refuses
                raw.cursor().execute("DELETE FROM st_Tickets")
    assert (
        sqlite3.connect(st_manifest.database).execute("SELECT COUNT(*) FROM st_Tickets").fetchone()[0]
        == st_manifest.size
    )


def test_a_wrong_path_is_not_created(tmp_path):
    missing = tmp_path / "nope.db"
    with SmarterTrackSource.from_options({"odbc": f"DRIVER={{SQLite3}};Database={missing}"}, no_secret) as source:
        check = source.check()
    assert not check.ok and not missing.exists()


@pytest.mark.sqlite_odbc
def test_the_sqlite_pyodbc_dialect_binds_inserts_and_reflects(tmp_path):
    import connectors.sql.sqlite_odbc  # noqa: F401

    path = tmp_path / "scratch.db"
    sqlite3.connect(path).close()
    engine = create_engine(f"sqlite+pyodbc:///{path}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20)))
    with engine.begin() as conn:
        table.create(conn)
        assert conn.execute(insert(table).values(name="a")).inserted_primary_key == (1,)
        assert conn.execute(insert(table).values(name="b")).inserted_primary_key == (2,)
        assert conn.execute(
            select(table.c.name).where(table.c.id.in_([1, 2])).order_by(table.c.id)
        ).scalars().all() == ["a", "b"]
    assert engine.dialect.server_version_info >= (3,)
    reflected = Table("t", MetaData(), autoload_with=engine)
    assert [c.name for c in reflected.c] == ["id", "name"]
    engine.dispose()


class Recorder:
    """Every Core statement an engine is asked to run."""

    def __init__(self, engine) -> None:
        self.statements: list[ClauseElement] = []
        event.listen(engine, "before_execute", self.seen)

    def seen(self, conn, clause, multiparams, params, options) -> None:
        if isinstance(clause, ClauseElement):
            self.statements.append(clause)


def exercise(source: Source) -> None:
    """Everything the engine will ask of a source."""
    schema = source.describe()
    source.check()
    for spec in schema.objects:
        batch = next(iter(source.iter_records(spec.name, batch_size=5)), [])
        source.get(spec.name, [r.key for r in batch])
        source.profile(spec.name)
        if spec.parent:
            source.children(spec.name, [str(i) for i in range(1, 2600)])
            source.child_counts(spec.name, over=3)
            source.childless_keys(spec.parent, spec.name)
            source.orphan_keys(spec.name, "parent", spec.parent)
        for field in spec.fields:
            if field.references and field.references in {s.name for s in schema.objects}:
                source.orphan_keys(spec.name, field.name, field.references)
        if spec.updated_field or spec.created_field:
            list(
                source.iter_records(
                    spec.name,
                    since=batch[0].data.get(spec.updated_field or spec.created_field)
                    if batch and batch[0].data.get(spec.updated_field or spec.created_field)
                    else None,
                )
            )
        for field in ("email", "customer_email", "requester_email"):
            if field in spec.field_names:
                source.duplicate_values(spec.name, field)
                source.duplicate_values(spec.name, field, casefold=False)
        list(source.iter_attachments(spec.name))
        if batch:
            source.attachments(spec.name, batch[0])


def _literals_are_unicode(sql: str) -> list[str]:
    """String literals that would reach SQL Server as varchar ('x' instead of N'x')."""
    bad = []
    for match in re.finditer(r"(N?)'((?:[^']|'')*)'", sql):
        if match.group(1) != "N" and not re.fullmatch(r"\d{4}-\d\d-\d\d[ \d:.]*", match.group(2)):
            bad.append(match.group(0))
    return bad


@pytest.mark.parametrize("platform", ["smartertrack", "trackit"])
def test_every_query_compiles_for_sql_server(platform, st_manifest, ti_manifest):
    manifest, cls = (st_manifest, SmarterTrackSource) if platform == "smartertrack" else (ti_manifest, TrackItSource)
    dialect = mssql_pyodbc.dialect(paramstyle="qmark")
    sqlite_dialect = sqlite_pysqlite.dialect()
    with cls.from_options(manifest.options, no_secret) as source:
        recorder = Recorder(source.database.engine)
        exercise(source)
        tables = {name for name in source.catalog.table_names}
    assert len(recorder.statements) > 100
    in_lists = pages = 0
    for statement in recorder.statements:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        sql = str(compiled)
        assert sql.lstrip().upper().startswith(("SELECT", "WITH")), sql  # reads (a CTE: the profile's values)
        assert " LIMIT " not in sql and "OFFSET" not in sql and "FETCH" not in sql, sql
        assert '"' not in sql, sql  # brackets, never ANSI quotes
        assert "password" not in sql.lower(), sql
        assert len(compiled.positiontup or ()) <= MAX_PARAMETERS, sql[:200]
        in_lists += " IN (" in sql
        for name in tables:
            if re.search(rf"\b{name}\b", sql) and name != name.lower():
                assert f"[{name}]" in sql, (name, sql)
        literal = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        assert _literals_are_unicode(literal) == [], literal
        if " LIMIT " in str(statement.compile(dialect=sqlite_dialect)):
            assert "SELECT TOP " in sql, sql
            pages += 1
    assert in_lists >= 3  # the 2,599 parents above went out in chunks
    assert pages > 10  # keyset pages: TOP n ... WHERE key > last ORDER BY key


def test_long_key_lists_are_chunked_under_the_parameter_limit(st):
    recorder = Recorder(st.database.engine)
    keys = [str(i) for i in range(1, 4500)]
    st.children("messages", keys)
    sent = [s for s in recorder.statements if "st_TicketMessages" in str(s)]
    assert len(sent) >= 5
    dialect = mssql_pyodbc.dialect(paramstyle="qmark")
    assert (
        max(len(s.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}).positiontup) for s in sent)
        <= 1010
    )
