"""Rows real SQL desks carry and our sample layouts cannot (their keys are SQLite rowids):
a key column that is NULL, blank or holds what its type cannot, and text that is not
valid UTF-8. Planted on demand (`messy_rows=True` of the SQL generators) into a table
rebuilt with a plain key column, as exports, restores and hand-made tables often have.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from connectors.samples.manifest import Manifest

# Windows-1252 text in a UTF-8 column ("café – naïve" as cp1252 bytes), and a lone
# continuation byte: neither decodes as UTF-8
UNDECODABLE = ("caf\u00e9 \u2013 na\u00efve".encode("cp1252"), b"\x80 stray byte")


@dataclass(frozen=True)
class KeyedTable:
    table: str
    key: str  # the key column (an INTEGER PRIMARY KEY in the sample's layout)
    object: str  # the connector's object name, for the manifest
    text: str  # a text column to plant undecodable bytes in
    renumber: tuple[str, ...] = ()  # unique number columns a copied row takes the next number of


def plant_messy_rows(database: str, manifest: Manifest, tables: list[KeyedTable]) -> None:
    """Per table: one row with a NULL key, one with a blank key, one with a key its type
    cannot hold (copies of the table's first row otherwise), and two rows whose text holds
    bytes that are not UTF-8. Counts and planted cases go to `manifest`."""
    conn = sqlite3.connect(database)
    try:
        for spec in tables:
            _plain_key(conn, spec.table, spec.key)
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{spec.table}")')]
            others = ", ".join(f'"{c}"' for c in columns if c != spec.key)
            values = ", ".join(f'(SELECT MAX("{c}") + 1 FROM "{spec.table}")' if c in spec.renumber else f'"{c}"'
                               for c in columns if c != spec.key)
            # rows the default read takes and no other planted case uses
            taken = {
                key for by_object in (*manifest.skipped.get(spec.object, {}).values(),
                                      *(cases.get(spec.object, []) for cases in manifest.messy.values()))
                for key in by_object}
            plain = [row[0] for row in conn.execute(f'SELECT "{spec.key}" FROM "{spec.table}" ORDER BY "{spec.key}"')
                     if str(row[0]) not in taken]
            first = plain[0]
            for value, case in ((None, "key_missing"), ("  ", "key_missing"), (f"X-{first}", "key_malformed")):
                conn.execute(f'INSERT INTO "{spec.table}" ("{spec.key}", {others}) '
                             f'SELECT ?, {values} FROM "{spec.table}" WHERE "{spec.key}" = ?', (value, first))
                manifest.plant(case, spec.object, "NULL" if value is None else value)
            manifest.counts[spec.object] = manifest.counts.get(spec.object, 0) + 3
            for key, raw in zip(plain[-len(UNDECODABLE):], UNDECODABLE, strict=True):
                conn.execute(f'UPDATE "{spec.table}" SET "{spec.text}" = COALESCE("{spec.text}", \'\') || '
                             f'CAST(? AS TEXT) WHERE "{spec.key}" = ?', (raw, key))
                manifest.plant("undecodable_text", spec.object, key)
        conn.commit()
    finally:
        conn.close()


def _plain_key(conn: sqlite3.Connection, table: str, key: str) -> None:
    """Rebuild `table` with `key` an ordinary INTEGER column (indexed), views and indexes kept."""
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    plain, n = re.subn(rf'("?{key}"?\s+INTEGER)\s+PRIMARY\s+KEY', r"\1", sql, flags=re.IGNORECASE)
    if not n:
        raise ValueError(f"{table}.{key} is not an INTEGER PRIMARY KEY")
    kept = [row[0] for row in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND (type = 'view' OR (type = 'index' AND tbl_name = ?))",
        (table,))]
    for kind, name in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE sql IS NOT NULL AND (type = 'view' OR "
            "(type = 'index' AND tbl_name = ?))", (table,)).fetchall():
        conn.execute(f'DROP {kind.upper()} "{name}"')
    conn.execute(f'ALTER TABLE "{table}" RENAME TO "{table}__rowid"')
    conn.execute(plain)
    conn.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}__rowid"')
    conn.execute(f'DROP TABLE "{table}__rowid"')
    for statement in kept:
        conn.execute(statement)
    conn.execute(f'CREATE INDEX "ix_{table}_{key}_plain" ON "{table}" ("{key}")')
