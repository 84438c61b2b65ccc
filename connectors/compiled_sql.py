"""One cache of compiled SQL for the SQLite engines of a process.

SQLAlchemy keeps the SQL it compiled per engine, keyed by the engine's dialect object.
Each open of a source file or of a project store is a new engine, so the same statements
were compiled again on every open: some 350 for a demo's audit, 70 for a store. Engines
made by `sqlite_engine` differ in nothing that compiling reads (one dialect class, the
same arguments, the process's one sqlite3 module), so they share one bounded cache whose
keys name the dialect by its class and by what its first connection taught it (the
SQLite version, the default schema), not by the object. A statement is found again only
if it names the same table objects (a cache key holds a Table itself): the store's tables
are module-level and the catalog hands out one Table per table layout (catalog.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import LRUCache

CACHE_SIZE = 3000  # statements; a demo's audit and load compile about 450 distinct ones


class SharedCompiledCache:
    """The `compiled_cache` execution option's mapping, shared by alike dialects."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._lru: LRUCache[Any, Any] = LRUCache(size)

    @staticmethod
    def _key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        dialect = key[0]
        return (type(dialect), dialect.server_version_info, dialect.default_schema_name, *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        return self._lru.get(self._key(key), default)

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self._lru[self._key(key)] = value

    def __len__(self) -> int:
        return len(self._lru)

    def clear(self) -> None:
        self._lru.clear()


SHARED = SharedCompiledCache()


def sqlite_engine(creator: Callable[[], Any]) -> Engine:
    """An engine on the sqlite3 connections `creator` makes, compiling into the shared cache."""
    return create_engine("sqlite://", creator=creator, poolclass=QueuePool, execution_options={"compiled_cache": SHARED})
