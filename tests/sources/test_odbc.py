"""The SQL Server connection helper: drivers, connection strings, errors, options."""

from __future__ import annotations

import builtins
import struct
import sys
from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import SourceError
from connectors.sql import odbc
from connectors.sql.database import SqlSettings, open_database

ALL = [
    "SQL Server",
    "ODBC Driver 17 for SQL Server",
    "SQLite3",
    "ODBC Driver 18 for SQL Server",
    "SQL Server Native Client 11.0",
    "ODBC Driver 13 for SQL Server",
    "FreeTDS",
]


@pytest.fixture
def drivers(monkeypatch):
    """pyodbc.drivers() answers what the test says is installed."""
    import pyodbc

    installed: list[str] = []
    monkeypatch.setattr(pyodbc, "drivers", lambda: list(installed))
    return installed


@pytest.mark.odbc
def test_the_newest_sql_server_driver_is_preferred(drivers):
    drivers[:] = ALL
    assert odbc.sql_server_drivers() == [
        "ODBC Driver 18 for SQL Server",
        "ODBC Driver 17 for SQL Server",
        "ODBC Driver 13 for SQL Server",
        "SQL Server Native Client 11.0",
        "SQL Server",
    ]
    assert odbc.pick_driver() == "ODBC Driver 18 for SQL Server"
    drivers[:] = ["SQL Server", "ODBC Driver 17 for SQL Server"]
    assert odbc.pick_driver() == "ODBC Driver 17 for SQL Server"
    drivers[:] = ["SQL Server", "SQL Server Native Client 11.0"]
    assert odbc.pick_driver() == "SQL Server Native Client 11.0"
    drivers[:] = ["SQL Server"]
    assert odbc.pick_driver() == "SQL Server"
    drivers[:] = ["ODBC Driver 19 for SQL Server", "ODBC Driver 17 for SQL Server"]
    assert odbc.pick_driver() == "ODBC Driver 17 for SQL Server"  # known ones first; unknown newer ones after


@pytest.mark.odbc
def test_a_requested_driver_must_be_installed(drivers):
    drivers[:] = ["ODBC Driver 17 for SQL Server"]
    assert odbc.pick_driver("{odbc driver 17 for sql server}") == "ODBC Driver 17 for SQL Server"
    with pytest.raises(SourceError) as info:
        odbc.pick_driver("ODBC Driver 18 for SQL Server")
    assert info.value.code == "source.odbc_driver_missing" and "ODBC Driver 17" in info.value.hint
    drivers[:] = ["SQLite3"]
    with pytest.raises(SourceError, match="no ODBC driver for SQL Server") as info:
        odbc.pick_driver()
    assert "ODBC Driver 18" in info.value.hint


@pytest.mark.odbc
def test_connection_string_defaults_are_on_prem_friendly(drivers):
    drivers[:] = ALL
    text = odbc.connection_string(odbc.SqlServerTarget(server="sql01\\HELPDESK", database="SmarterTrack"))
    assert text == (
        "DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql01\\HELPDESK;DATABASE=SmarterTrack;"
        "Trusted_Connection=yes;Encrypt=yes;TrustServerCertificate=yes;ApplicationIntent=ReadOnly;APP=helpmig;"
    )


@pytest.mark.odbc
def test_sql_login_validation_and_odd_values(drivers):
    drivers[:] = ["ODBC Driver 17 for SQL Server"]
    target = odbc.SqlServerTarget(
        server="sql01:1433", database="TRACKIT9_DATA", trusted=False, user="reader", trust_server_certificate=False
    )
    shown = odbc.connection_string(target)
    assert "SERVER=sql01,1433;" in shown and "UID=reader;" in shown and "PWD" not in shown
    assert "TrustServerCertificate=no;" in shown and "Encrypt=yes;" in shown
    secret = odbc.connection_string(target, "p;w}d")
    assert "PWD={p;w}}d};" in secret
    assert odbc.redact_connection_string(secret) == shown.replace("UID=reader;", "UID=reader;PWD=***;")
    assert odbc.redact_connection_string("UID=x;pwd=plain;") == "UID=x;pwd=***;"
    with pytest.raises(SourceError, match="needs a user name"):
        odbc.connection_string(odbc.SqlServerTarget(server="s", trusted=False))
    with pytest.raises(SourceError, match="bad port"):
        odbc.normalize_server("sql01,99999")
    assert odbc.normalize_server(" tcp:db.corp:1500 ") == "tcp:db.corp,1500"
    assert odbc.driver_of("Driver={ODBC Driver 18 for SQL Server};Server=x") == "ODBC Driver 18 for SQL Server"


def test_datetimeoffset_converter():
    raw = struct.pack("<6hI2h", 2024, 3, 31, 1, 30, 15, 123456000, 2, 0)
    value = odbc.datetimeoffset_to_datetime(raw)
    assert value == datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert value.utcoffset() == timedelta(hours=2)
    assert odbc.datetimeoffset_to_datetime(
        struct.pack("<6hI2h", 2020, 1, 1, 0, 0, 0, 0, -5, -30)
    ).utcoffset() == -timedelta(hours=5, minutes=30)


def test_a_missing_odbc_manager_is_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pyodbc":
            raise ImportError("libodbc.so.2: cannot open shared object file: No such file or directory")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "pyodbc", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(SourceError) as info:
        odbc.installed_drivers()
    assert info.value.code == "source.odbc_manager_missing" and "unixodbc" in info.value.hint
    settings = SqlSettings.from_options({"server": "sql01", "database": "db", "trusted": True})
    with pytest.raises(SourceError) as info:
        open_database(settings, lambda name: None)
    assert info.value.code == "source.odbc_manager_missing"


@pytest.mark.odbc
def test_odbc_errors_are_explained_without_the_password():
    import pyodbc

    login = pyodbc.Error("28000", "[28000] Login failed for user 'reader'. PWD=hunter2")
    error = odbc.explain_odbc_error(login, password="hunter2")
    assert "refused the login" in str(error) and "hunter2" not in str(error) and "HELPMIG_SQL_PASSWORD" in error.hint
    cert = pyodbc.Error("08001", "SSL Provider: The certificate chain was issued by an authority that is not trusted.")
    assert "trust server certificate" in odbc.explain_odbc_error(cert).hint
    lost = pyodbc.Error("HYT00", "Login timeout expired")
    assert "firewall" in odbc.explain_odbc_error(lost).hint


def test_connect_failures_become_source_errors():
    with pytest.raises(SourceError) as info:
        odbc.connect("DRIVER={No Such Driver 99};SERVER=nowhere;PWD=secret99;", login_timeout=1)
    assert "not installed" in str(info.value) and "secret99" not in str(info.value)


def test_options_say_where_the_database_is_and_never_hold_a_password():
    with pytest.raises(SourceError, match="one of sqlite, odbc, server or url"):
        SqlSettings.from_options({})
    with pytest.raises(SourceError, match=r"got sqlite, server"):
        SqlSettings.from_options({"sqlite": "a.db", "server": "s"})
    with pytest.raises(SourceError) as info:
        SqlSettings.from_options({"odbc": "DRIVER={ODBC Driver 18 for SQL Server};SERVER=s;UID=u;PWD=x"})
    assert info.value.code == "source.secret_in_options"
    with pytest.raises(SourceError) as info:
        SqlSettings.from_options({"url": "mssql+pyodbc://u:secret@dsn"})
    assert info.value.code == "source.secret_in_options"
    settings = SqlSettings.from_options(
        {
            "server": "s",
            "database": "d",
            "user": "reader",
            "encrypt": "no",
            "trust_server_certificate": False,
            "login_timeout": "5",
        }
    )
    assert (settings.trusted, settings.encrypt, settings.trust_server_certificate, settings.login_timeout) == (
        False,
        "no",
        False,
        5,
    )
    assert settings.location == "SQL Server s, database d (SQL login reader)"
    assert SqlSettings.from_options({"server": "s", "trusted": False}).trusted  # no user: Windows authentication
    assert SqlSettings.from_options({"db_url": "sqlite:///x.db"}).url == "sqlite:///x.db"
    with pytest.raises(SourceError, match="number of seconds"):
        SqlSettings.from_options({"server": "s", "query_timeout": "soon"})


@pytest.mark.odbc
def test_a_sql_login_needs_its_secret(drivers):
    drivers[:] = ["ODBC Driver 18 for SQL Server"]
    settings = SqlSettings.from_options({"server": "sql01", "database": "db", "user": "reader"})
    asked = []
    with pytest.raises(SourceError) as info:
        open_database(settings, lambda name: asked.append(name))
    assert asked == ["sql_password"] and info.value.code == "source.secret_missing"
    db = open_database(settings, lambda name: "s3cret")
    assert db.dialect == "mssql" and db.schema == "dbo" and "s3cret" not in repr(db.engine.url)
    db.close()


@pytest.mark.sqlite_odbc
def test_connect_registers_the_converter_and_the_query_timeout(st_manifest):
    conn = odbc.connect(f"DRIVER={{SQLite3}};Database={st_manifest.database};NoCreat=1", login_timeout=5, query_timeout=7)
    try:
        assert conn.get_output_converter(odbc.SQL_SS_TIMESTAMPOFFSET) is odbc.datetimeoffset_to_datetime
        assert conn.timeout == 7
        assert conn.execute("SELECT COUNT(*) FROM st_Tickets").fetchone()[0] == st_manifest.size
    finally:
        conn.close()
