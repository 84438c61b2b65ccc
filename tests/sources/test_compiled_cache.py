"""SQLite sources laid out alike share their compiled SQL, never their rows or a wrong layout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import literal_column, select

from connectors.compiled_sql import sqlite_engine
from connectors.sql.catalog import Catalog
from connectors.sql.database import SqlSettings, open_database


def _desk(path: Path, rows: list[tuple[int, str]], extra: str = "") -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE tickets (id INTEGER PRIMARY KEY, subject VARCHAR(80){extra})")
    conn.executemany("INSERT INTO tickets (id, subject) VALUES (?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def _read(path: Path):
    """Open, read every ticket and close: the table, the rows, and was the SQL found compiled."""
    db = open_database(SqlSettings(sqlite=str(path)), lambda _name: None)
    try:
        table = Catalog(db).table("tickets")
        with db.engine.connect() as conn:
            result = conn.execute(select(table).where(table.c.id > 0).order_by(table.c.id))
            hit = result.context.cache_hit is db.engine.dialect.CACHE_HIT
            return table, [tuple(row) for row in result], hit, [c.name for c in table.c]
    finally:
        db.close()


def test_a_second_file_laid_out_alike_reuses_the_sql_and_reads_its_own_rows(tmp_path):
    first = _desk(tmp_path / "a.db", [(1, "printer"), (2, "vpn")])
    second = _desk(tmp_path / "b.db", [(7, "mail")])
    table_a, rows_a, _hit, _ = _read(first)
    table_b, rows_b, hit_b, _ = _read(second)
    assert table_b is table_a
    assert hit_b, "the second engine compiled the same statement again"
    assert rows_a == [(1, "printer"), (2, "vpn")]
    assert rows_b == [(7, "mail")]


def test_a_file_laid_out_differently_gets_its_own_table_and_sql(tmp_path):
    plain = _desk(tmp_path / "a.db", [(1, "printer")])
    wider = _desk(tmp_path / "b.db", [(1, "printer")], extra=", queue TEXT")
    longer = tmp_path / "c.db"
    conn = sqlite3.connect(longer)
    conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, subject VARCHAR(200))")
    conn.execute("INSERT INTO tickets VALUES (1, 'printer')")
    conn.commit()
    conn.close()
    table_plain, _, _, names_plain = _read(plain)
    table_wider, rows_wider, hit_wider, names_wider = _read(wider)
    table_longer, _, hit_longer, _ = _read(longer)
    assert names_plain == ["id", "subject"] and names_wider == ["id", "subject", "queue"]
    assert rows_wider == [(1, "printer", None)]
    assert table_wider is not table_plain and table_longer is not table_plain
    assert table_longer.c.subject.type.length == 200
    assert not hit_wider and not hit_longer


def test_the_shared_cache_tells_dialects_apart_by_what_they_learned(tmp_path):
    path = _desk(tmp_path / "a.db", [(1, "printer")])
    engines = [sqlite_engine(lambda: sqlite3.connect(path)) for _ in range(3)]
    try:
        statement = select(literal_column("'tells dialects apart'").label("probe"))  # built by this test alone
        hits = []
        for n, engine in enumerate(engines):
            with engine.connect() as conn:
                if n == 2:
                    engine.dialect.server_version_info = (3, 0, 0)  # as if another SQLite answered
                hits.append(conn.execute(statement).context.cache_hit is engine.dialect.CACHE_HIT)
        assert hits == [False, True, False]
    finally:
        for engine in engines:
            engine.dispose()
