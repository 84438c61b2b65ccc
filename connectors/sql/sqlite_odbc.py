"""A SQLAlchemy dialect `sqlite+pyodbc`: SQLite reached through pyodbc and an ODBC driver.

Why: SQL Server cannot run here, and `mssql+pyodbc` cannot talk to the SQLite ODBC driver
(its first connect calls SCHEMA_NAME()). With this dialect the connectors' Core queries
run through pyodbc, its parameter binding, its type conversions and helpmig's connection
helper, against a SQLite file (platform-notes.md). An operator may also use it for a
SmarterTrack SQLite file behind an ODBC DSN.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.base import DATE, DATETIME, SQLiteDialect
from sqlalchemy.engine.url import URL

from connectors.sql.odbc import import_pyodbc


class _NativeDateTime(DATETIME):
    """The ODBC driver already returns datetime objects; binds stay SQLite text."""

    def result_processor(self, dialect: Any, coltype: object) -> None:
        return None


class _NativeDate(DATE):
    def result_processor(self, dialect: Any, coltype: object) -> None:
        return None


class SQLiteDialect_pyodbc(SQLiteDialect):
    driver = "pyodbc"
    supports_statement_cache = True
    default_paramstyle = "qmark"
    # the SQLite ODBC driver returns no rows for INSERT ... RETURNING
    insert_returning = update_returning = delete_returning = False
    update_returning_multifrom = False
    use_insertmanyvalues = False
    colspecs = {**SQLiteDialect.colspecs, sqltypes.DateTime: _NativeDateTime, sqltypes.Date: _NativeDate}

    def __init__(self, **kwargs: Any) -> None:
        # SQLiteDialect reads sqlite_version_info from the DBAPI module, which pyodbc lacks.
        dbapi = kwargs.pop("dbapi", None)
        kwargs.setdefault("native_datetime", True)
        super().__init__(**kwargs)
        self.dbapi = dbapi

    @classmethod
    def import_dbapi(cls) -> Any:
        return import_pyodbc()

    def on_connect(self) -> None:
        # pysqlite's hook registers Python functions (create_function), which ODBC cannot.
        return None

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        driver = url.query.get("driver", "SQLite3")
        return [f"DRIVER={{{driver}}};Database={url.database};NoCreat=1"], {}

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        version = connection.exec_driver_sql("select sqlite_version()").scalar()
        return tuple(int(part) for part in str(version).split(".") if part.isdigit())

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        return False


class SQLiteExecutionContext_pyodbc(SQLiteDialect.execution_ctx_cls):
    """pyodbc's cursor has no lastrowid; SQLite answers last_insert_rowid() per connection."""

    def get_lastrowid(self) -> int:
        cursor = self.root_connection.connection.dbapi_connection.cursor()
        try:
            return cursor.execute("select last_insert_rowid()").fetchone()[0]
        finally:
            cursor.close()


SQLiteDialect_pyodbc.execution_ctx_cls = SQLiteExecutionContext_pyodbc
dialect = SQLiteDialect_pyodbc

registry.register("sqlite.pyodbc", __name__, "SQLiteDialect_pyodbc")
