"""Source options the Connect step records, the connection test, and the ODBC driver list."""

from __future__ import annotations

import importlib.abc
import sys

import pytest

from connectors.samples import generate_smartertrack
from connectors.sql import odbc
from helpmig_tui.project import ProjectError, create_project, normalize_source_options, open_project
from helpmig_tui.settings import Secrets
from helpmig_tui.source_connection import (
    check_source,
    declared_options,
    form_fields,
    record_source_check,
    recorded_source_check,
    sql_server_drivers,
    update_source_options,
)


@pytest.fixture(scope="module")
def smartertrack_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("st")
    generate_smartertrack(folder, tickets=30, large_body=1000, attachment_files=False)
    return folder / "smartertrack.db"


def no_secrets() -> Secrets:
    return Secrets(env={}, use_keyring=False)


def test_a_sqlite_source_passes_and_the_test_is_remembered_for_those_options(paths, smartertrack_db, tmp_path):
    create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "old.db")}).close()
    with open_project(paths, "acme") as store:
        options = update_source_options(store, {"sqlite": str(smartertrack_db), "prefix": "st_"})
        check = check_source("smartertrack", options, no_secrets())
        assert check.ok and "25 tickets" in check.summary and check.options == options
        assert record_source_check(store, check)
        assert recorded_source_check(store)["ok"] is True
        update_source_options(store, options)  # the same options: the test still stands
        assert recorded_source_check(store) is not None
        update_source_options(store, {**options, "prefix": "xx_"})  # another source: test again
        assert recorded_source_check(store) is None
        assert not record_source_check(store, check)  # a test of other options is not recorded


def test_a_missing_file_fails_with_a_hint(tmp_path):
    check = check_source("smartertrack", {"sqlite": str(tmp_path / "nope.db")}, no_secrets())
    assert not check.ok and "SQLite file not found" in check.summary and check.hint


def test_bad_options_are_an_outcome_not_an_exception():
    check = check_source("trackit", {"server": r"sql01\TRACKIT"}, no_secrets())
    assert not check.ok and check.summary == "--server needs --database"


def test_sql_login_without_a_password_says_where_to_give_it():
    options = {"server": "sql01", "database": "TRACKIT_DATA", "user": "reader"}
    check = check_source("trackit", options, no_secrets())
    assert not check.ok and "no password for the SQL login reader" in check.summary
    assert "HELPMIG_SQL_PASSWORD" in check.hint


@pytest.mark.odbc
def test_an_unreachable_sql_server_is_explained_and_the_password_masked(monkeypatch):
    """The ODBC layer answers as Driver 18 does for a closed port; the password never shows."""
    pyodbc = odbc.import_pyodbc()
    seen = {}

    def refuse(conn_str, **kwargs):
        seen["conn_str"] = conn_str
        raise pyodbc.OperationalError(
            "08001",
            "[Microsoft][ODBC Driver 18 for SQL Server]TCP Provider: No connection could be made because the target "
            "machine actively refused it. (10061) (SQLDriverConnect)",
        )

    monkeypatch.setattr(pyodbc, "drivers", lambda: ["SQLite3", "ODBC Driver 17 for SQL Server", "ODBC Driver 18 for SQL Server"])
    monkeypatch.setattr(pyodbc, "connect", refuse)
    secrets = no_secrets()
    secrets.set_session("sql_password", "s3cret-Passw0rd")
    options = {"server": "127.0.0.1,1", "database": "SmarterTrack", "user": "reader", "encrypt": True}
    check = check_source("smartertrack", options, secrets)
    assert not check.ok and "SQL Server could not be reached" in check.summary
    assert "firewall" in check.hint and "s3cret-Passw0rd" not in check.line()
    conn_str = seen["conn_str"]
    assert "DRIVER={ODBC Driver 18 for SQL Server}" in conn_str and "ApplicationIntent=ReadOnly" in conn_str
    assert "TrustServerCertificate=yes" in conn_str and "Encrypt=yes" in conn_str
    assert "UID=reader;PWD=s3cret-Passw0rd" in conn_str  # the typed-in password reached the driver, and only it


def test_validating_the_certificate_is_recorded_as_a_choice():
    opts = normalize_source_options(
        "trackit", {"server": "sql01", "database": "TRACKIT_DATA", "trusted": True, "trust_server_certificate": False}
    )
    assert opts["trust_server_certificate"] is False  # False is kept for switches that default to on


def test_rest_options_use_the_connectors_names():
    opts = normalize_source_options("itsm365", {"url": "https://acme.itsm365.com/sd", "timezone": "Europe/Berlin"})
    assert opts == {"base_url": "https://acme.itsm365.com/sd", "time_zone": "Europe/Berlin"}
    with pytest.raises(ProjectError, match="unknown option"):
        normalize_source_options("itsm365", {"base_url": "https://acme.itsm365.com/sd", "username": "bob"})
    with pytest.raises(ProjectError, match="is a secret"):
        normalize_source_options("infraon", {"base_url": "https://acme.infraon.app", "infraon_api_key": "k"})


def test_a_generated_form_records_only_what_was_chosen():
    names = [f.name for f in form_fields("infraon")]
    assert "infraon_api_key" in names and "auth" in names
    values = {"base_url": " https://acme.infraon.app ", "auth": "token", "username": "svc", "time_zone": "UTC",
              "items_per_page": "100", "max_pages": "50", "verify_tls": True, "endpoints": ""}
    assert declared_options("infraon", values) == {
        "base_url": "https://acme.infraon.app", "auth": "token", "username": "svc", "max_pages": 50,
    }
    with pytest.raises(ProjectError, match="not valid JSON"):
        declared_options("infraon", {"endpoints": "{nope"})


def test_an_export_folder_passes_and_a_missing_one_fails(tmp_path):
    from connectors.samples.smart_export_sample import write_smart_export

    write_smart_export(tmp_path / "export", size=20, seed=2)
    check = check_source("smart-export", {"folder": str(tmp_path / "export"), "time_zone": "UTC"}, no_secrets())
    assert check.ok and any(line.startswith("tickets:") for line in check.details)
    check = check_source("smart-export", {"folder": str(tmp_path / "gone")}, no_secrets())
    assert not check.ok and "does not exist" in check.summary and "export files" in check.hint


def test_a_rest_source_without_its_secret_says_which_one():
    check = check_source("infraon", {"base_url": "http://127.0.0.1:1"}, no_secrets())
    assert not check.ok and "needs an API key" in check.summary and "infraon_api_key" in check.hint


@pytest.mark.odbc
def test_driver_list_prefers_18_then_17(monkeypatch):
    pyodbc = odbc.import_pyodbc()
    monkeypatch.setattr(pyodbc, "drivers", lambda: ["SQL Server", "ODBC Driver 17 for SQL Server", "SQLite3",
                                                    "ODBC Driver 18 for SQL Server"])
    choice = sql_server_drivers()
    assert choice.drivers == ("ODBC Driver 18 for SQL Server", "ODBC Driver 17 for SQL Server", "SQL Server")
    assert choice.preferred == "ODBC Driver 18 for SQL Server" and not choice.problem


@pytest.mark.odbc
def test_no_sql_server_driver_says_what_to_install(monkeypatch):
    monkeypatch.setattr(odbc.import_pyodbc(), "drivers", lambda: ["SQLite3"])
    choice = sql_server_drivers()
    assert choice.drivers == () and choice.problem == "no ODBC driver for SQL Server is installed"
    assert "ODBC Driver 18" in choice.hint


def test_without_pyodbc_the_driver_list_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    choice = sql_server_drivers()
    assert choice.drivers == () and "pyodbc is not installed" in choice.problem and choice.hint == "pip install pyodbc"


class _NoDriverManager(importlib.abc.MetaPathFinder):
    """Imports pyodbc as a machine without unixODBC does: libodbc.so.2 is missing."""

    def find_spec(self, name, path, target=None):
        if name == "pyodbc":
            raise ImportError("libodbc.so.2: cannot open shared object file: No such file or directory")
        return None


def test_without_the_odbc_manager_the_driver_list_says_what_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "pyodbc", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoDriverManager(), *sys.meta_path])
    choice = sql_server_drivers()
    assert choice.problem == "the ODBC driver manager is not installed (libodbc.so.2 not found)"
    assert "apt-get install unixodbc" in choice.hint
