"""The project file's first schema, frozen as shipped: where the upgrade tests start
(helpmig itself never creates a version-1 file)."""

from __future__ import annotations

from sqlalchemy import Connection, text

V1_DDL = """
CREATE TABLE meta ("key" VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE project (
    id INTEGER NOT NULL, name VARCHAR(64) NOT NULL, platform VARCHAR(32) NOT NULL,
    source_options TEXT NOT NULL, intercom_url VARCHAR(255), stage VARCHAR(32) NOT NULL,
    settings TEXT NOT NULL, created_at VARCHAR(32) NOT NULL, updated_at VARCHAR(32) NOT NULL,
    PRIMARY KEY (id));
CREATE TABLE source_objects (
    name VARCHAR(64) NOT NULL, role VARCHAR(32) NOT NULL, label VARCHAR(128) NOT NULL, count INTEGER,
    first_created VARCHAR(32), last_created VARCHAR(32), fields TEXT NOT NULL, profile TEXT NOT NULL,
    audited_at VARCHAR(32) NOT NULL, PRIMARY KEY (name));
CREATE TABLE audits (
    id INTEGER NOT NULL, started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32),
    status VARCHAR(16) NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (id));
CREATE TABLE findings (
    id INTEGER NOT NULL, audit_id INTEGER, code VARCHAR(64) NOT NULL, severity VARCHAR(16) NOT NULL,
    object VARCHAR(64), message TEXT NOT NULL, detail TEXT NOT NULL, count INTEGER NOT NULL,
    keys TEXT NOT NULL, status VARCHAR(16) NOT NULL, status_note TEXT NOT NULL, status_at VARCHAR(32),
    PRIMARY KEY (id), FOREIGN KEY(audit_id) REFERENCES audits (id) ON DELETE CASCADE);
CREATE INDEX ix_findings_audit_severity ON findings (audit_id, severity);
CREATE TABLE field_maps (
    version INTEGER NOT NULL, created_at VARCHAR(32) NOT NULL, hash VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL, confirmed_at VARCHAR(32), confirmed_by VARCHAR(128),
    proposer VARCHAR(32) NOT NULL, body TEXT NOT NULL, note TEXT NOT NULL, PRIMARY KEY (version));
CREATE TABLE runs (
    id INTEGER NOT NULL, kind VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL,
    started_at VARCHAR(32) NOT NULL, ended_at VARCHAR(32), map_version INTEGER, map_hash VARCHAR(64),
    options TEXT NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (id),
    FOREIGN KEY(map_version) REFERENCES field_maps (version));
CREATE TABLE phases (
    id INTEGER NOT NULL, run_id INTEGER NOT NULL, name VARCHAR(32) NOT NULL, position INTEGER NOT NULL,
    status VARCHAR(16) NOT NULL, started_at VARCHAR(32), ended_at VARCHAR(32), counts TEXT NOT NULL,
    report_path TEXT, accepted_note TEXT NOT NULL, PRIMARY KEY (id), UNIQUE (run_id, name),
    FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE);
CREATE TABLE journal (
    id INTEGER NOT NULL, run_id INTEGER, phase VARCHAR(32) NOT NULL, kind VARCHAR(32) NOT NULL,
    source_key VARCHAR(255) NOT NULL, status VARCHAR(16) NOT NULL, intercom_id VARCHAR(64),
    attempts INTEGER NOT NULL, last_error TEXT, payload_hash VARCHAR(64), created_at VARCHAR(32) NOT NULL,
    updated_at VARCHAR(32) NOT NULL, PRIMARY KEY (id), UNIQUE (kind, source_key),
    FOREIGN KEY(run_id) REFERENCES runs (id));
CREATE INDEX ix_journal_status ON journal (status);
CREATE TABLE events (
    id INTEGER NOT NULL, at VARCHAR(32) NOT NULL, level VARCHAR(8) NOT NULL, kind VARCHAR(32) NOT NULL,
    message TEXT NOT NULL, run_id INTEGER, data TEXT NOT NULL, PRIMARY KEY (id),
    FOREIGN KEY(run_id) REFERENCES runs (id));
CREATE INDEX ix_events_at ON events (at);
"""


def create_v1(conn: Connection) -> None:
    """Lay down the version-1 schema, the start of every upgrade the tests prove."""
    for statement in V1_DDL.split(";"):
        if statement.strip():
            conn.execute(text(statement))
