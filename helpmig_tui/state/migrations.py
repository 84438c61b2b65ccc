"""Schema versions and the forward migrations between them.

A project file records its schema version in `meta`. Opening an older file upgrades it
step by step inside one transaction; a file from a newer helpmig is refused (never
downgraded). A new migration is one function appended to STEPS, and the test that
compares an upgraded version-1 file (its schema frozen in tests/support/schema_v1.py)
with a freshly created one keeps models and migrations in agreement.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text


def _v1_to_v2(conn: Connection) -> None:
    """Parts know their conversation and position; runs carry a heartbeat so an
    interrupted run is told from a running one; phases record what the plan expected;
    map edits get their own history table."""
    for statement in (
        "ALTER TABLE journal ADD COLUMN parent_key VARCHAR(255)",
        "ALTER TABLE journal ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX ix_journal_parent ON journal (kind, parent_key, seq)",
        "ALTER TABLE runs ADD COLUMN heartbeat_at VARCHAR(32)",
        "ALTER TABLE phases ADD COLUMN planned INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE map_changes (
            id INTEGER NOT NULL, version INTEGER NOT NULL, at VARCHAR(32) NOT NULL,
            actor VARCHAR(128) NOT NULL, object VARCHAR(64) NOT NULL, field VARCHAR(128) NOT NULL,
            action VARCHAR(16) NOT NULL, "before" TEXT, "after" TEXT, PRIMARY KEY (id),
            FOREIGN KEY(version) REFERENCES field_maps (version) ON DELETE CASCADE)""",
    ):
        conn.execute(text(statement))


def _v2_to_v3(conn: Connection) -> None:
    """Source objects keep their structure (key, parent, created field), so the map can be
    proposed offline from the audit alone."""
    conn.execute(text("ALTER TABLE source_objects ADD COLUMN spec TEXT NOT NULL DEFAULT '{}'"))


def _v3_to_v4(conn: Connection) -> None:
    """Journal rows name their source object (per-object reconciliation) and say what the
    write did: created (rollback removes it), updated or adopted (it existed before: rollback
    leaves it), matched (admins, teams, existing attributes)."""
    for statement in (
        "ALTER TABLE journal ADD COLUMN object VARCHAR(64)",
        "ALTER TABLE journal ADD COLUMN outcome VARCHAR(16)",
        "CREATE INDEX ix_journal_object ON journal (object, status)",
    ):
        conn.execute(text(statement))


def _v4_to_v5(conn: Connection) -> None:
    """Journal rows carry the code of their reason (rejections are matched to what the audit
    predicted) and the number people know the record by (a ticket or work order number)."""
    for statement in (
        "ALTER TABLE journal ADD COLUMN code VARCHAR(64)",
        "ALTER TABLE journal ADD COLUMN label VARCHAR(128)",
    ):
        conn.execute(text(statement))


def _v5_to_v6(conn: Connection) -> None:
    """Ownership apart from the last outcome: the Intercom object a row's write created and
    the run that created it stay on the row however often later runs update or match it
    (a rollback follows them); rows that created something before are owned as they were."""
    for statement in (
        "ALTER TABLE journal ADD COLUMN created_id VARCHAR(64)",
        "ALTER TABLE journal ADD COLUMN created_run INTEGER",
        "UPDATE journal SET created_id = intercom_id, created_run = run_id WHERE status = 'done' "
        "AND intercom_id IS NOT NULL AND (outcome = 'created' OR outcome IS NULL) AND kind != 'finished'",
    ):
        conn.execute(text(statement))


def _v6_to_v7(conn: Connection) -> None:
    """A phase keeps its report as it closed: a resumed run takes it rather than running a
    finished phase again (phases that finished before the upgrade run once more)."""
    conn.execute(text("ALTER TABLE phases ADD COLUMN report TEXT"))


# STEPS[i] upgrades version i+1 to i+2.
STEPS: list[Callable[[Connection], None]] = [_v1_to_v2, _v2_to_v3, _v3_to_v4, _v4_to_v5, _v5_to_v6, _v6_to_v7]
LATEST = len(STEPS) + 1


def upgrade(conn: Connection, current: int) -> list[int]:
    """Apply every step from `current` to LATEST; returns the versions reached."""
    reached = []
    for version in range(current, LATEST):
        STEPS[version - 1](conn)
        reached.append(version + 1)
    return reached
