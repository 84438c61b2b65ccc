"""The ground truth a generated sample source comes with.

Tests compare a connector's counts with `counts` exactly, and the audit's findings with
`messy` exactly: every messy case lists the keys it planted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Manifest:
    platform: str
    seed: int
    size: int  # tickets asked for
    database: str  # the SQLite file
    attachments: str  # the attachments root folder
    options: dict[str, Any]  # source options that open it (connectors' from_options)
    counts: dict[str, int] = field(default_factory=dict)  # records per object, default filters applied
    skipped: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # object -> reason -> keys
    # case -> object -> keys; attachment cases use "<record key>/<file name>"
    messy: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    attachment_counts: dict[str, int] = field(default_factory=dict)  # object -> attachments of its records

    def plant(self, case: str, object: str, key: Any) -> None:
        self.messy.setdefault(case, {}).setdefault(object, []).append(str(key))

    def skip(self, object: str, reason: str, key: Any) -> None:
        self.skipped.setdefault(object, {}).setdefault(reason, []).append(str(key))

    def keys(self, case: str, object: str) -> list[str]:
        return self.messy.get(case, {}).get(object, [])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        return target

    def sort(self) -> None:
        """Keys in numeric order where they are numbers, so manifests compare stably."""

        def order(key: str) -> tuple[int, Any]:
            return (0, int(key)) if key.isdigit() else (1, key)

        for cases in (self.messy, self.skipped):
            for by_object in cases.values():
                for name, keys in by_object.items():
                    by_object[name] = sorted(set(keys), key=order)
