"""Open a SQL source read-only: a SQLite file, SQL Server through ODBC, or any SQLAlchemy URL.

The options are what a project records (never a password); the password comes from the
secret lookup at connect time and lives only in the engine's connection factory.
Every statement passes a guard that refuses anything but reads: the tool never writes
to a source, even by mistake; and a watch (queries.py) that gives it a time limit and lets
a stop cancel it.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import QueuePool

from connectors.base import SourceError
from connectors.compiled_sql import sqlite_engine
from connectors.file_paths import absolute, drive_kind, native, sqlite_uri
from connectors.sql import odbc
from connectors.sql.queries import DEFAULT_QUERY_TIMEOUT_S, QueryWatch
from connectors.sql.values import lenient_text

log = logging.getLogger("connectors.sql")

SecretLookup = Callable[[str], "str | None"]

READ_STATEMENTS = ("select", "with", "pragma", "use")  # USE: reflection across databases
_LEADING_COMMENTS = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*", re.S)


def option_flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def _int(options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SourceError(
            f"option {key} must be a number of seconds, not {value!r}", code="source.bad_option"
        ) from None


@dataclass(frozen=True)
class SqlSettings:
    """Where a SQL source is, from a project's options (never a secret)."""

    sqlite: str | None = None
    odbc: str | None = None
    server: str | None = None
    database: str | None = None
    trusted: bool = True
    user: str | None = None
    driver: str | None = None
    encrypt: str = "yes"  # yes | no | strict (ODBC Driver 18: TDS 8, the certificate always checked)
    trust_server_certificate: bool = True
    url: str | None = None
    schema: str | None = None
    login_timeout: int = 15
    query_timeout: int = DEFAULT_QUERY_TIMEOUT_S
    snapshot: bool = False  # read under SNAPSHOT isolation where the database allows it

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SqlSettings:
        url = options.get("db_url") or options.get("url") or None
        given = [
            key
            for key, value in (
                ("sqlite", options.get("sqlite")),
                ("odbc", options.get("odbc")),
                ("server", options.get("server")),
                ("url", url),
            )
            if value
        ]
        if len(given) != 1:
            raise SourceError(
                "say where the database is: one of sqlite, odbc, server or url"
                + (f" (got {', '.join(given)})" if given else ""),
                hint='--sqlite FILE | --odbc "CONNECTION STRING" | --server HOST --database DB | --db-url URL',
                code="source.bad_option",
            )
        if options.get("odbc") and odbc.has_password(str(options["odbc"])):
            raise SourceError(
                "the ODBC connection string holds a password (PWD=), which would be saved in the project",
                hint="remove PWD from the string and set HELPMIG_SQL_PASSWORD (or type it in)",
                code="source.secret_in_options",
            )
        if url:
            try:
                parsed = make_url(str(url))
            except ArgumentError as exc:
                raise SourceError(
                    f"not a database URL: {url!r}",
                    hint="e.g. mssql+pyodbc://... or sqlite:///file.db",
                    code="source.bad_option",
                ) from exc
            if parsed.password:
                raise SourceError(
                    "the database URL holds a password, which would be saved in the project",
                    hint="remove it from the URL and set HELPMIG_SQL_PASSWORD (or type it in)",
                    code="source.secret_in_options",
                )
        user = options.get("user") or None
        return cls(
            sqlite=options.get("sqlite") or None,
            odbc=options.get("odbc") or None,
            server=options.get("server") or None,
            database=options.get("database") or None,
            trusted=option_flag(options.get("trusted"), False) or not user,
            user=user,
            driver=options.get("driver") or None,
            encrypt=odbc.encrypt_mode(options.get("encrypt")),
            trust_server_certificate=option_flag(options.get("trust_server_certificate"), True),
            url=str(url) if url else None,
            schema=options.get("schema") or None,
            login_timeout=_int(options, "login_timeout", 15),
            query_timeout=_int(options, "query_timeout", DEFAULT_QUERY_TIMEOUT_S),
            snapshot=option_flag(options.get("snapshot"), False),
        )

    @property
    def location(self) -> str:
        """Where the source is, for messages (never a secret)."""
        if self.sqlite:
            return f"SQLite file {self.sqlite}"
        if self.server:
            auth = "Windows authentication" if self.trusted else f"SQL login {self.user}"
            return f"SQL Server {self.server}, database {self.database or '(default)'} ({auth})"
        if self.odbc:
            return f"ODBC {odbc.redact_connection_string(self.odbc)}"
        return f"database URL {make_url(self.url).render_as_string(hide_password=True)}"

    def needs_password(self) -> bool:
        if self.server:
            return not self.trusted
        if self.odbc:
            return re.search(r"(?i)\bUID\s*=", self.odbc) is not None
        return False

    def target(self) -> odbc.SqlServerTarget:
        return odbc.SqlServerTarget(
            server=self.server or "",
            database=self.database,
            driver=self.driver,
            trusted=self.trusted,
            user=self.user,
            encrypt=self.encrypt,
            trust_server_certificate=self.trust_server_certificate,
            login_timeout=self.login_timeout,
            query_timeout=self.query_timeout,
        )


@dataclass
class Database:
    """An open SQL source: a read-only engine, the schema to read, and where it is."""

    engine: Engine
    schema: str | None
    location: str
    driver: str = ""
    watch: QueryWatch | None = None
    warnings: list[str] = field(default_factory=list)  # for the operator: a legacy ODBC driver, no SNAPSHOT

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def _refuse_writes(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    head = _LEADING_COMMENTS.sub("", statement, count=1).split(None, 1)
    word = head[0].lower() if head else ""
    if word not in READ_STATEMENTS:
        raise SourceError(
            f"refused to send a {word.upper() or 'blank'} statement: helpmig only reads from the source",
            code="source.write_refused",
        )


def _guard(engine: Engine) -> Engine:
    event.listen(engine, "before_cursor_execute", _refuse_writes)
    return engine


def _writable(path: str) -> bool:
    return os.access(path, os.W_OK)


def immutable_is_safe(path: str) -> bool:
    """May SQLite read this file as `immutable` (no locks, no change checks)?

    Only when nothing can be changing it: no journal or WAL beside it, and either we may
    not write it (a read-only copy, a share we only read) or it sits on a network drive in
    WAL mode, where the shared memory a WAL reader needs does not work.
    """
    if any(os.path.exists(path + suffix) for suffix in ("-wal", "-journal")):
        return False
    if not _writable(path):
        return True
    if not drive_kind(path).shared_memory_unsafe:
        return False
    try:
        with open(native(path), "rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2  # file format versions 2 = WAL


def _sqlite_readonly(path: str) -> Callable[[], sqlite3.Connection]:
    file = absolute(path)
    if not os.path.isfile(native(file)):
        said = f"{path} is a folder, not a SQLite file" if os.path.isdir(native(file)) else f"SQLite file not found: {path}"
        raise SourceError(said, hint="check the path given with --sqlite", code="source.not_found")
    params = {"mode": "ro", **({"immutable": "1"} if immutable_is_safe(file) else {})}
    uri = sqlite_uri(native(file), **params)  # no authority: a share's path stays a path

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.text_factory = lenient_text
        conn.execute("PRAGMA query_only = ON")
        return conn

    return connect


def _odbc_creator(conn_str: str, settings: SqlSettings, sqlite_driver: bool,
                  notes: list[str] | None = None) -> Callable[[], Any]:
    def connect() -> Any:
        conn = odbc.connect(conn_str, login_timeout=settings.login_timeout, query_timeout=settings.query_timeout)
        if sqlite_driver:
            conn.execute("PRAGMA query_only = ON")
        elif settings.snapshot:
            note = odbc.read_under_snapshot(conn)
            if note and notes is not None and note not in notes:
                notes.append(note)
                log.warning(note)
        return conn

    return connect


def _schema(settings: SqlSettings, dialect: str) -> str | None:
    if dialect == "sqlite":
        return None if settings.schema in (None, "dbo", "main") else settings.schema
    if dialect == "mssql":
        return settings.schema or "dbo"
    return settings.schema


def open_database(settings: SqlSettings, secret: SecretLookup) -> Database:
    """Build the read-only engine; connects lazily (the first query reaches the server)."""
    password = None
    if settings.needs_password():
        password = secret("sql_password")
        if not password:
            raise SourceError(
                f"no password for the SQL login {settings.user or ''}".rstrip(),
                hint="set HELPMIG_SQL_PASSWORD, or type it in, or use Windows authentication (--trusted)",
                code="source.secret_missing",
            )
    driver = ""
    notes: list[str] = []
    if settings.sqlite:
        engine = sqlite_engine(_sqlite_readonly(settings.sqlite))
    elif settings.server:
        odbc.import_pyodbc()
        target = settings.target()
        driver = odbc.pick_driver(target.driver)
        conn_str = odbc.connection_string(target, password, driver=driver)
        engine = create_engine(
            "mssql+pyodbc://", creator=_odbc_creator(conn_str, settings, False, notes), poolclass=QueuePool,
            pool_pre_ping=True,
        )
    elif settings.odbc:
        odbc.import_pyodbc()
        conn_str = settings.odbc.rstrip().rstrip(";") + ";"
        if password:
            conn_str += f"PWD={odbc.odbc_value(password)};"
        driver = odbc.driver_of(conn_str)
        sqlite_driver = "sqlite" in driver.lower()
        if sqlite_driver:
            import connectors.sql.sqlite_odbc

            if not re.search(r"(?i)\bNoCreat\s*=", conn_str):
                conn_str += "NoCreat=1;"  # a wrong path must fail, not become an empty database
        url = "sqlite+pyodbc://" if sqlite_driver else "mssql+pyodbc://"
        engine = create_engine(url, creator=_odbc_creator(conn_str, settings, sqlite_driver, notes), poolclass=QueuePool)
    else:
        url = make_url(settings.url)
        if url.get_backend_name() == "sqlite" and url.database and url.get_driver_name() == "pysqlite":
            engine = sqlite_engine(_sqlite_readonly(url.database))
        else:
            if url.get_driver_name() == "pyodbc":
                odbc.import_pyodbc()
                if url.get_backend_name() == "sqlite":
                    import connectors.sql.sqlite_odbc  # noqa: F401
            if password:
                url = url.set(password=password)
            try:
                engine = create_engine(url)
            except (NoSuchModuleError, ImportError) as exc:
                raise SourceError(
                    f"cannot use the database URL: {exc}",
                    hint="install the driver package it names",
                    code="source.missing_dependency",
                ) from exc
        driver = url.get_driver_name()
    legacy = odbc.legacy_driver_note(driver) if (settings.server or settings.odbc) else None
    if legacy:
        log.warning(legacy)
        notes.append(legacy)
    watch = QueryWatch(engine, settings.location, settings.query_timeout)
    return Database(
        engine=_guard(engine), schema=_schema(settings, engine.dialect.name), location=settings.location, driver=driver,
        watch=watch, warnings=notes,  # grows when a connection learns more (SNAPSHOT not allowed)
    )
