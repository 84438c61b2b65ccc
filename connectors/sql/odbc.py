"""ODBC plumbing for SQL Server sources: the driver, the connection string, the connect.

pyodbc is imported here, lazily: `import pyodbc` fails on a machine without an ODBC
driver manager (libodbc.so.2), and helpmig must start there and say what is missing only
when a SQL Server source is actually used.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import Any

from connectors.base import SourceError

# Newest first (sources.md section 8). 18 encrypts and validates certificates by default.
PREFERRED_DRIVERS = (
    "ODBC Driver 18 for SQL Server",
    "ODBC Driver 17 for SQL Server",
    "ODBC Driver 13.1 for SQL Server",
    "ODBC Driver 13 for SQL Server",
    "ODBC Driver 11 for SQL Server",
    "SQL Server Native Client 11.0",
    "SQL Server Native Client 10.0",
    "SQL Server",  # legacy SQLSRV32: returns date/datetime2 as strings, old TLS
)
INSTALL_HINT = (
    "install Microsoft's 'ODBC Driver 18 for SQL Server' "
    "(https://learn.microsoft.com/sql/connect/odbc/download-odbc-driver-for-sql-server)"
)
SQL_SS_TIMESTAMPOFFSET = -155  # ODBC type of datetimeoffset, unknown to pyodbc
CURRENT_DRIVERS = ("ODBC Driver 18 for SQL Server", "ODBC Driver 17 for SQL Server")
ENCRYPT_MODES = ("yes", "no", "strict")


def import_pyodbc() -> ModuleType:
    """pyodbc, or a SourceError that says which piece is missing."""
    try:
        import pyodbc
    except ImportError as exc:
        text = str(exc)
        if "libodbc" in text or "cannot open shared object" in text:
            raise SourceError(
                "the ODBC driver manager is not installed (libodbc.so.2 not found)",
                hint="Debian/Ubuntu: apt-get install unixodbc; Red Hat: dnf install unixODBC; "
                "on Windows it is part of the system",
                code="source.odbc_manager_missing",
            ) from exc
        raise SourceError(
            "the Python package pyodbc is not installed",
            hint="pip install pyodbc",
            code="source.missing_dependency",
        ) from exc
    return pyodbc


def installed_drivers() -> list[str]:
    """The ODBC drivers this machine has, as the driver manager names them."""
    return list(import_pyodbc().drivers())


def _driver_rank(name: str) -> tuple[int, float]:
    """Sort key: preferred drivers in order, then other SQL Server drivers newest first."""
    if name in PREFERRED_DRIVERS:
        return (PREFERRED_DRIVERS.index(name), 0.0)
    version = re.search(r"(\d+(?:\.\d+)?)", name)
    return (len(PREFERRED_DRIVERS), -float(version.group(1)) if version else 0.0)


def sql_server_drivers(installed: list[str] | None = None) -> list[str]:
    """Installed SQL Server drivers, best first (for the wizard's driver list)."""
    names = installed_drivers() if installed is None else installed
    return sorted((n for n in names if "sql server" in n.lower()), key=_driver_rank)


def pick_driver(requested: str | None = None, installed: list[str] | None = None) -> str:
    """The driver to use: the one asked for (must be installed), else the best installed."""
    names = installed_drivers() if installed is None else installed
    if requested:
        wanted = requested.strip("{} ")
        for name in names:
            if name.lower() == wanted.lower():
                return name
        raise SourceError(
            f"the ODBC driver {wanted!r} is not installed",
            hint="installed drivers: " + (", ".join(names) or "none") + f"; or {INSTALL_HINT}",
            code="source.odbc_driver_missing",
        )
    candidates = sql_server_drivers(names)
    if not candidates:
        raise SourceError(
            "no ODBC driver for SQL Server is installed",
            hint=INSTALL_HINT,
            code="source.odbc_driver_missing",
        )
    return candidates[0]


def legacy_driver_note(driver: str) -> str | None:
    """A warning when the driver in use is older than ODBC Driver 17 (None for a current or
    an unknown one: a newer driver, FreeTDS)."""
    if driver not in PREFERRED_DRIVERS or PREFERRED_DRIVERS.index(driver) <= PREFERRED_DRIVERS.index(CURRENT_DRIVERS[1]):
        return None
    why = ("it speaks only old TLS versions and returns date and datetime2 columns as text"
           if driver == "SQL Server" else "it is out of support and may not speak TLS 1.2")
    return (f"using the legacy ODBC driver {driver!r}: {why}; ODBC Driver 18 (or 17) for SQL Server is not "
            f"installed: {INSTALL_HINT}")


def encrypt_mode(value: object) -> str:
    """The Encrypt setting from a project's options: yes (the default), no or strict."""
    if value is None or value == "":
        return "yes"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower()
    if text in ("strict",):
        return "strict"
    if text in ("yes", "true", "1", "on", "mandatory", "y"):
        return "yes"
    if text in ("no", "false", "0", "off", "optional", "n"):
        return "no"
    raise SourceError(f"encrypt must be yes, no or strict, not {value!r}", code="source.bad_option")


def read_under_snapshot(conn: Any) -> str | None:
    """Switch a SQL Server connection to SNAPSHOT isolation when its database allows it
    (a consistent view that neither blocks the helpdesk's writes nor waits for them);
    otherwise leave READ COMMITTED and return a note saying why."""
    cursor = conn.cursor()
    try:
        row = cursor.execute("SELECT snapshot_isolation_state, DB_NAME() FROM sys.databases "
                             "WHERE database_id = DB_ID()").fetchone()
        if row is None or int(row[0]) != 1:
            name = row[1] if row is not None else "this database"
            return (f"{name} does not allow SNAPSHOT isolation (ALLOW_SNAPSHOT_ISOLATION is OFF): reading under "
                    "READ COMMITTED; a DBA can turn it on, or read from a restored copy")
        cursor.execute("SET TRANSACTION ISOLATION LEVEL SNAPSHOT")
        return None
    finally:
        cursor.close()


def normalize_server(server: str) -> str:
    r"""`host`, `host\instance`, `host,port`; `host:port` is rewritten (ODBC wants a comma)."""
    value = server.strip()
    if not value:
        raise SourceError(
            "no SQL Server name given", hint=r"use host, host\instance or host,port", code="source.bad_option"
        )
    match = re.fullmatch(r"(tcp:)?([^,:\\]+):(\d+)", value)
    if match:
        value = f"{match.group(1) or ''}{match.group(2)},{match.group(3)}"
    port = value.rsplit(",", 1)[1] if "," in value else None
    if port is not None and not (port.strip().isdigit() and 0 < int(port) < 65536):
        raise SourceError(
            f"bad port in server name {server!r}", hint=r"use host,port (e.g. sql01,1433)", code="source.bad_option"
        )
    return value


def odbc_value(value: str) -> str:
    """Quote an ODBC connection-string value when it needs it ({...} with } doubled)."""
    if value == "" or any(ch in value for ch in ";{}=") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


@dataclass(frozen=True)
class SqlServerTarget:
    """Where and how to reach SQL Server; never holds the password."""

    server: str
    database: str | None = None
    driver: str | None = None  # None: the best installed
    trusted: bool = True  # Windows authentication
    user: str | None = None
    encrypt: str = "yes"  # yes | no | strict
    trust_server_certificate: bool = True  # on-prem servers have self-signed certificates
    read_only: bool = True  # ApplicationIntent=ReadOnly
    login_timeout: int = 15
    query_timeout: int = 600  # seconds per statement (the ODBC query timeout); 0 = no limit
    app_name: str = "helpmig"


def connection_string(target: SqlServerTarget, password: str | None = None, *, driver: str | None = None) -> str:
    """The ODBC connection string; with `password` only when connecting, never to show."""
    name = driver or pick_driver(target.driver)
    parts = [f"DRIVER={{{name}}}", f"SERVER={odbc_value(normalize_server(target.server))}"]
    if target.database:
        parts.append(f"DATABASE={odbc_value(target.database)}")
    if target.trusted:
        parts.append("Trusted_Connection=yes")
    else:
        if not target.user:
            raise SourceError(
                "a SQL login needs a user name",
                hint="give --user, or use Windows authentication (--trusted)",
                code="source.bad_option",
            )
        parts.append(f"UID={odbc_value(target.user)}")
        if password is not None:
            parts.append(f"PWD={odbc_value(password)}")
    encrypt = encrypt_mode(target.encrypt)
    if encrypt == "strict" and name != CURRENT_DRIVERS[0]:
        raise SourceError(
            f"--encrypt strict needs ODBC Driver 18 for SQL Server; this connection uses {name!r}",
            hint=f"use --encrypt yes, or {INSTALL_HINT}", code="source.bad_option",
        )
    parts.append(f"Encrypt={encrypt}")
    # strict always checks the certificate: trusting it blindly is not an option there
    trust = target.trust_server_certificate and encrypt != "strict"
    parts.append(f"TrustServerCertificate={'yes' if trust else 'no'}")
    if target.read_only:
        parts.append("ApplicationIntent=ReadOnly")
    parts.append(f"APP={odbc_value(target.app_name)}")
    return ";".join(parts) + ";"


_PWD = re.compile(r"(?i)(\bPWD\s*=\s*)(\{(?:[^}]|\}\})*\}|[^;]*)")


def redact_connection_string(text: str) -> str:
    """The same string with any PWD value masked, for logs and error messages."""
    return _PWD.sub(lambda m: m.group(1) + "***", text)


def has_password(text: str) -> bool:
    return _PWD.search(text) is not None


def driver_of(text: str) -> str:
    """The DRIVER named in a connection string ('' when none)."""
    match = re.search(r"(?i)\bDRIVER\s*=\s*(\{(?:[^}]|\}\})*\}|[^;]*)", text)
    return match.group(1).strip().strip("{}").replace("}}", "}") if match else ""


def datetimeoffset_to_datetime(raw: bytes) -> datetime | None:
    """pyodbc output converter for SQL Server datetimeoffset (ODBC type -155): aware datetime."""
    if raw is None:
        return None
    year, month, day, hour, minute, second, nanos, off_h, off_m = struct.unpack("<6hI2h", raw)
    offset = timezone(timedelta(hours=off_h, minutes=off_m))
    return datetime(year, month, day, hour, minute, second, nanos // 1000, tzinfo=offset)


def connect(conn_str: str, *, login_timeout: int = 15, query_timeout: int = 0, readonly: bool = True) -> Any:
    """A pyodbc connection with helpmig's converters; errors become SourceError with a hint."""
    pyodbc = import_pyodbc()
    try:
        conn = pyodbc.connect(conn_str, timeout=login_timeout, readonly=readonly)
    except pyodbc.Error as exc:
        raise explain_odbc_error(exc, conn_str) from None
    conn.add_output_converter(SQL_SS_TIMESTAMPOFFSET, datetimeoffset_to_datetime)
    if query_timeout:
        conn.timeout = query_timeout
    return conn


# (SQLSTATE or message fragment, what it means, what to do)
_EXPLANATIONS = (
    (
        "certificate",
        "the server's TLS certificate is not trusted",
        "install a trusted certificate on the server, or keep 'trust server certificate' on",
    ),
    ("IM002", "the ODBC driver named in the connection is not installed", INSTALL_HINT),
    ("Can't open lib", "the ODBC driver named in the connection is not installed", INSTALL_HINT),
    (
        "28000",
        "SQL Server refused the login",
        "check the user and HELPMIG_SQL_PASSWORD, or that this Windows account has access to the database",
    ),
    (
        "HYT00",
        "SQL Server did not answer in time",
        "check the server name, the instance (host\\instance) or port (host,port), and the firewall",
    ),
    (
        "08001",
        "SQL Server could not be reached",
        "check the server name, the instance (host\\instance) or port (host,port), and the firewall",
    ),
    (
        "08S01",
        "the connection to SQL Server failed",
        "check the server name, the port, and that SQL Server accepts TCP connections",
    ),
    ("42000", "SQL Server refused the request", "check the database name and that this login may read it"),
)


def explain_odbc_error(exc: Exception, conn_str: str = "", password: str | None = None) -> SourceError:
    """A SourceError with a human message and a hint; never carries the password."""
    args = getattr(exc, "args", ())
    state = str(args[0]) if len(args) > 1 else ""
    text = str(args[1] if len(args) > 1 else exc)
    text = redact_connection_string(text)
    if password:
        text = text.replace(password, "***")
    for needle, meaning, hint in _EXPLANATIONS:
        if needle == state or needle.lower() in text.lower():
            return SourceError(f"{meaning}: {text}", hint=hint, code="source.connect_failed")
    return SourceError(f"ODBC error {state}: {text}".strip(), code="source.connect_failed")
