"""IN lists in chunks: SQL Server takes at most 2100 parameters per statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

IN_CHUNK = 1000  # values per IN list, leaving room for the query's other parameters


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
