"""Opening, creating and upgrading a project's SQLite file.

Rules this module keeps:
- A file is inspected read-only before anything writes to it. A corrupt file, a foreign
  SQLite database or a file from a newer helpmig gets a clear StoreError and is never
  modified (not even switched to WAL).
- WAL with synchronous=NORMAL: the UI reads while the loader commits, and an application
  crash loses nothing that was committed. On a network share or a removable drive, where
  WAL's shared memory does not work, a rollback journal with synchronous=FULL instead
  (logged once per folder).
- The file is opened by the path as typed (a mapped drive stays a drive letter, a share a
  `\\\\server\\share` path) and inspected through a URI without authority.
- The file and its directory are private to the user (0600 / 0700) where the OS has modes.
- Upgrades run in one IMMEDIATE transaction after a backup copy, so two processes cannot
  upgrade at once and a failed upgrade leaves the original intact.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from connectors.file_paths import DriveKind, drive_kind, drive_note, native, sqlite_uri
from connectors.compiled_sql import sqlite_engine
from helpmig_tui.logs import get_logger
from helpmig_tui.state import migrations
from helpmig_tui.state.models import Base, Meta, Project

APPLICATION_ID = 0x484D4947  # "HMIG" in the SQLite header: marks our files
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class StoreError(Exception):
    """A project file cannot be used. `hint` says what the operator can do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ProjectNotFound(StoreError):
    pass


class ProjectExists(StoreError):
    pass


class NotAProjectFile(StoreError):
    pass


class CorruptProjectFile(StoreError):
    pass


class NewerSchema(StoreError):
    pass


class OlderSchema(StoreError):
    """Raised only when the caller asked not to upgrade (listing never writes)."""


def _has_modes() -> bool:
    return os.name != "nt"


def private_dir(path: Path) -> None:
    Path(native(path)).mkdir(parents=True, exist_ok=True)
    if _has_modes():
        os.chmod(path, PRIVATE_DIR)


_told: set[DriveKind] = set()  # drive kinds already told in this process
_untold: list[str] = []  # notes the operator has not seen yet (take_drive_notes)


def drive_of(folder: Path) -> DriveKind:
    """The kind of drive a project folder is on; the first network or removable one is
    logged and kept for the operator (said once per process)."""
    kind = drive_kind(folder)
    if kind.shared_memory_unsafe and kind not in _told:
        _told.add(kind)
        note = drive_note(folder, kind)
        get_logger("store").warning(note)
        _untold.append(note)
    return kind


def take_drive_notes() -> list[str]:
    """What the store has to tell the operator about drives, once."""
    notes = list(_untold)
    _untold.clear()
    return notes


def journal_mode(path: Path) -> str:
    """WAL on a local disk; a rollback journal (DELETE) where WAL's shared memory does not work."""
    return "DELETE" if drive_of(path.parent).shared_memory_unsafe else "WAL"


def _pragmas(mode: str):
    def apply(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA journal_mode={mode}")
        cursor.execute(f"PRAGMA synchronous={'NORMAL' if mode == 'WAL' else 'FULL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    return apply


def _engine(path: Path) -> Engine:
    """An engine on the file by its plain path (never a URL that could re-read it)."""
    file = native(path)

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(file, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)

    engine = sqlite_engine(connect)
    event.listen(engine, "connect", _pragmas(journal_mode(path)))
    return engine


def inspect_file(path: Path) -> int:
    """The schema version of a helpmig project file, read without writing to it.

    Raises ProjectNotFound, NotAProjectFile, CorruptProjectFile or NewerSchema.
    """
    if not path.exists():
        raise ProjectNotFound(f"no project file at {path}")
    if path.is_dir():  # opening it was an IsADirectoryError (PermissionError on Windows)
        raise NotAProjectFile(f"the project file {path} is a folder",
                              hint="helpmig did not change it; move the folder away and restore the file from a "
                                   "backup, or start a new project")
    with open(native(path), "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        raise NotAProjectFile(
            f"{path} is not a SQLite database",
            hint="it may have been overwritten or truncated; restore it from a backup. helpmig did not change it.",
        )
    app_id = int.from_bytes(header[68:72], "big")
    try:
        conn = sqlite3.connect(sqlite_uri(native(path), mode="ro"), uri=True)
    except sqlite3.Error as exc:  # permissions, a locked network share
        raise CorruptProjectFile(f"cannot open {path}: {exc}") from exc
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        owner = conn.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise NotAProjectFile(
                f"{path} is a SQLite database, but not a helpmig project",
                hint="helpmig did not change it. Choose another project name or move the file away.",
            ) from exc
        raise CorruptProjectFile(f"{path} cannot be read: {exc}", hint="restore it from a backup") from exc
    except sqlite3.DatabaseError as exc:
        raise CorruptProjectFile(
            f"{path} is damaged: {exc}",
            hint="helpmig did not change it. Restore it from a backup, or start a new project.",
        ) from exc
    finally:
        conn.close()
    if (owner is None or owner[0] != "helpmig") and app_id != APPLICATION_ID:
        raise NotAProjectFile(f"{path} is a SQLite database, but not a helpmig project", hint="helpmig did not change it.")
    try:
        version = int(row[0]) if row else 0
    except ValueError:
        version = 0
    if version < 1:
        raise CorruptProjectFile(f"{path} has no valid schema version", hint="restore it from a backup")
    if version > migrations.LATEST:
        raise NewerSchema(
            f"{path} was written by a newer helpmig (schema {version}; this one knows up to {migrations.LATEST})",
            hint="upgrade helpmig (pip install -U helpmig) to open it",
        )
    return version


class ProjectStore:
    """An open project file. Use `session()` for ORM work and `engine` for Core."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"ProjectStore({str(self.path)!r})"

    @classmethod
    def create(cls, path: Path, *, name: str, platform: str, source_options: dict[str, Any]) -> ProjectStore:
        """A new project file; refuses to touch one that exists."""
        private_dir(path.parent)
        try:
            fd = os.open(native(path), os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
        except FileExistsError as exc:
            raise ProjectExists(f"a file already exists at {path}", hint="choose another project name") from exc
        os.close(fd)
        engine = _engine(path)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"PRAGMA application_id={APPLICATION_ID}"))
                Base.metadata.create_all(conn)
            with Session(engine) as session, session.begin():
                session.add_all(
                    [
                        Meta(key="app", value="helpmig"),
                        Meta(key="schema_version", value=str(migrations.LATEST)),
                        Project(id=1, name=name, platform=platform, source_options=dict(source_options)),
                    ]
                )
        except Exception:
            engine.dispose()
            path.unlink(missing_ok=True)
            raise
        return cls(path, engine)

    @classmethod
    def open(cls, path: Path, *, upgrade: bool = True) -> ProjectStore:
        """Open an existing project file, upgrading an older schema first."""
        version = inspect_file(path)
        if version < migrations.LATEST:
            if not upgrade:
                raise OlderSchema(f"schema {version}: upgraded when opened", hint="open the project to upgrade it")
            cls._upgrade(path, version)
        if _has_modes() and (path.stat().st_mode & 0o777) != PRIVATE_FILE:
            os.chmod(path, PRIVATE_FILE)
        return cls(path, _engine(path))

    @staticmethod
    def _upgrade(path: Path, version: int) -> None:
        backup = path.with_name(f"{path.name}.v{version}.bak")
        if not backup.exists():
            # closed here, not left to the collector: on Windows an open file stays locked
            with closing(sqlite3.connect(native(path))) as src, closing(sqlite3.connect(native(backup))) as dst:
                src.backup(dst)
            if _has_modes():
                os.chmod(backup, PRIVATE_FILE)
        engine = _engine(path)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                current = int(conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar_one())
                migrations.upgrade(conn, current)
                conn.execute(
                    text("UPDATE meta SET value=:v WHERE key='schema_version'"), {"v": str(migrations.LATEST)}
                )
                conn.execute(text(f"PRAGMA application_id={APPLICATION_ID}"))
                conn.commit()
        finally:
            engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session that holds the write lock from its first read (BEGIN IMMEDIATE), for a
        read-modify-write such as a JSON setting: two workers changing the project's
        settings at once each keep their change (a plain session reads outside its lock)."""
        with self._sessions() as session, session.begin():
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def reader(self) -> Session:
        """A plain session for reading (the caller closes it)."""
        return self._sessions()

    @property
    def schema_version(self) -> int:
        with self.reader() as session:
            return int(session.scalar(select(Meta.value).where(Meta.key == "schema_version")) or 0)

    def project(self) -> Project:
        with self.reader() as session:
            project = session.get(Project, 1)
            if project is None:
                raise CorruptProjectFile(f"{self.path} has no project row", hint="restore it from a backup")
            return project

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
