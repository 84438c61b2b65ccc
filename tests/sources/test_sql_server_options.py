"""SQL Server from the command line: encryption, certificate, login and query timeouts,
SNAPSHOT reads, a hidden password prompt, the warning about Windows' legacy driver; and
every source query with a time limit and a cancel, through sqlite3 and through pyodbc (the
SQLite ODBC driver stands in for SQL Server's)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import text

from connectors.base import SourceError
from connectors.sql import odbc, queries
from connectors.sql.database import SqlSettings, open_database
from helpmig_tui import cli_secrets
from helpmig_tui.cli import main
from helpmig_tui.settings import Secrets

# counts to 300 million: seconds of work for SQLite, whatever the machine
SLOW = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000000) SELECT count(*) FROM n"


@pytest.fixture
def drivers(monkeypatch):
    import pyodbc

    installed: list[str] = []
    monkeypatch.setattr(pyodbc, "drivers", lambda: list(installed))
    return installed


def _sources(manifest) -> list[dict]:
    return [{"sqlite": manifest.database}, {"odbc": f"DRIVER={{SQLite3}};Database={manifest.database}"}]


@pytest.mark.parametrize("through", ["sqlite3", "pyodbc"])
def test_a_query_past_its_time_limit_is_stopped_and_said(st_manifest, through):
    options = _sources(st_manifest)[through == "pyodbc"]
    db = open_database(SqlSettings.from_options({**options, "query_timeout": "1"}), lambda _n: None)
    try:
        with pytest.raises(SourceError) as info, db.engine.connect() as conn:
            conn.execute(text(SLOW)).scalar()
        assert info.value.code == "source.query_timeout" and "longer than 1 s" in str(info.value)
        assert "--query-timeout" in info.value.hint
        with db.engine.connect() as conn:  # the source still answers quick queries
            assert conn.execute(text("SELECT count(*) FROM st_Tickets")).scalar() > 0
    finally:
        db.close()


@pytest.mark.parametrize("through", ["sqlite3", "pyodbc"])
def test_a_running_query_is_named_and_can_be_cancelled_from_another_thread(st_manifest, through, monkeypatch):
    options = _sources(st_manifest)[through == "pyodbc"]
    db = open_database(SqlSettings.from_options(options), lambda _n: None)
    failed: list[BaseException] = []

    def scan() -> None:
        try:
            with db.engine.connect() as conn:
                conn.execute(text(SLOW)).scalar()
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=scan)
    worker.start()
    try:
        while not db.watch.running():
            time.sleep(0.02)
        monkeypatch.setattr(queries, "WORTH_SAYING_S", 0.0)  # say it at once, not after two seconds
        assert "waiting for the source: a query on n has run" in (queries.describe_queries() or "")
        assert db.watch.cancel() == 1
        worker.join(timeout=30)
    finally:
        db.watch.cancel()
        worker.join(timeout=30)
        db.close()
    assert not worker.is_alive()
    assert isinstance(failed[0], SourceError) and failed[0].code == "source.cancelled"
    with pytest.raises(SourceError, match="cancelled"), db.engine.connect() as conn:  # and no new query starts
        conn.execute(text("SELECT 1")).scalar()


def test_encryption_and_certificate_in_the_connection_string():
    target = odbc.SqlServerTarget(server="sql01", database="TRACKIT", encrypt="strict", trust_server_certificate=True)
    strict = odbc.connection_string(target, driver="ODBC Driver 18 for SQL Server")
    assert "Encrypt=strict;" in strict and "TrustServerCertificate=no;" in strict  # strict always checks it
    with pytest.raises(SourceError, match="strict needs ODBC Driver 18"):
        odbc.connection_string(target, driver="ODBC Driver 17 for SQL Server")
    plain = odbc.connection_string(odbc.SqlServerTarget(server="sql01", encrypt="no", trust_server_certificate=False),
                                   driver="ODBC Driver 17 for SQL Server")
    assert "Encrypt=no;" in plain and "TrustServerCertificate=no;" in plain
    for given, mode in ((True, "yes"), (False, "no"), ("Strict", "strict"), ("mandatory", "yes"), (None, "yes")):
        assert odbc.encrypt_mode(given) == mode
    with pytest.raises(SourceError, match="yes, no or strict"):
        odbc.encrypt_mode("maybe")


def test_the_command_line_records_every_sql_server_option(tmp_path, capsys):
    home = str(tmp_path / "home")
    code = main(["--home", home, "init", "p", "--source", "trackit", "--server", "sql01,1433", "--database",
                 "TRACKIT_DATA", "--user", "reader", "--encrypt", "strict", "--validate-certificate",
                 "--login-timeout", "5", "--query-timeout", "120", "--snapshot"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["--home", home, "status", "p", "--json"]) == 0
    source = json.loads(capsys.readouterr().out)["source"]
    assert source == {"server": "sql01,1433", "database": "TRACKIT_DATA", "user": "reader", "encrypt": "strict",
                      "trust_server_certificate": False, "login_timeout": 5, "query_timeout": 120, "snapshot": True}
    settings = SqlSettings.from_options(source)
    assert (settings.encrypt, settings.trust_server_certificate, settings.login_timeout, settings.query_timeout,
            settings.snapshot) == ("strict", False, 5, 120, True)


@pytest.mark.parametrize(("argv", "said"), [
    (["--sqlite", "x.db", "--encrypt", "no"], "go with a SQL Server source"),
    (["--sqlite", "x.db", "--validate-certificate"], "go with a SQL Server source"),
    (["--server", "s", "--database", "d", "--query-timeout", "0"], "at least 1 second"),
    (["--server", "s", "--database", "d", "--encrypt", "maybe"], "invalid choice"),
])
def test_sql_server_options_are_checked_where_they_come_in(argv, said, tmp_path, capsys):
    try:
        code = main(["--home", str(tmp_path), "init", "p", "--source", "trackit", *argv])
    except SystemExit as exc:  # argparse's own refusal: a bad number, an unknown choice
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and said in err and "Traceback" not in err, err
    assert not (tmp_path / "projects" / "p").exists()


def test_the_legacy_driver_is_used_with_a_warning(drivers):
    drivers[:] = ["SQL Server"]
    settings = SqlSettings.from_options({"server": "sql01", "database": "d", "trusted": True})
    db = open_database(settings, lambda _n: None)
    assert db.driver == "SQL Server"
    note = db.warnings[0]
    assert "legacy ODBC driver 'SQL Server'" in note and "as text" in note and "ODBC Driver 18" in note
    drivers[:] = ["SQL Server", "ODBC Driver 17 for SQL Server"]
    assert open_database(settings, lambda _n: None).warnings == []


def test_the_legacy_driver_warning_reaches_the_operator(drivers, tmp_path, capsys):
    """The audit cannot connect here (no SQL Server), but the operator hears about the driver first."""
    drivers[:] = ["SQL Server"]
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "p", "--source", "trackit", "--server", "127.0.0.1,1", "--database", "d",
                 "--trusted", "--login-timeout", "1"]) == 0
    capsys.readouterr()
    code = main(["--home", home, "audit", "p"])
    err = capsys.readouterr().err
    assert code in (1, 2) and "helpmig: warning: using the legacy ODBC driver 'SQL Server'" in err, err
    assert "Traceback" not in err


class FakeCursor:
    def __init__(self, log: list[str], state: int) -> None:
        self.log = log
        self.state = state

    def execute(self, statement: str) -> FakeCursor:
        self.log.append(statement)
        return self

    def fetchone(self) -> tuple[int, str]:
        return (self.state, "TRACKIT_DATA")

    def close(self) -> None:
        pass


class FakeConnection:
    """What SQL Server answers about SNAPSHOT isolation (sys.databases.snapshot_isolation_state)."""

    def __init__(self, state: int) -> None:
        self.log: list[str] = []
        self.state = state

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.log, self.state)


def test_snapshot_reads_where_the_database_allows_them():
    allowed = FakeConnection(1)
    assert odbc.read_under_snapshot(allowed) is None
    assert allowed.log[-1] == "SET TRANSACTION ISOLATION LEVEL SNAPSHOT"
    refused = FakeConnection(0)
    note = odbc.read_under_snapshot(refused)
    assert "TRACKIT_DATA does not allow SNAPSHOT isolation" in note and "READ COMMITTED" in note
    assert not any(s.startswith("SET") for s in refused.log)


def test_a_sql_login_asks_for_its_password_once_on_a_terminal(monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli_secrets, "read_hidden", lambda prompt: asked.append(prompt) or "s3cret!")
    secrets = cli_secrets.prompting_secrets()
    assert secrets.get("sql_password") == "s3cret!" and secrets.get("sql_password") == "s3cret!"
    assert len(asked) == 1 and "HELPMIG_SQL_PASSWORD" in asked[0]
    assert secrets.get("intercom_token") is None and len(asked) == 1  # tokens are never asked for here
    from helpmig_tui import redact

    assert redact.redact("login failed with s3cret!") == "login failed with ****"


def test_no_prompt_without_a_terminal_or_with_the_variable_set(monkeypatch):
    monkeypatch.setattr(cli_secrets, "read_hidden", lambda prompt: pytest.fail("asked"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert cli_secrets.prompting_secrets().get("sql_password") is None
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    assert Secrets(env={"HELPMIG_SQL_PASSWORD": "from-env"}, prompt=cli_secrets.ask).get("sql_password") == "from-env"
