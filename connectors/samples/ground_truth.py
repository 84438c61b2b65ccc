"""What a generated sample source holds, so tests and the demo can check a connector exactly.

Every fake API and sample export folder returns one `GroundTruth`: the records per
object a correct connector yields, the rows it must reject, the child counts per
parent and the keys of the deliberately messy cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GroundTruth:
    platform: str
    counts: dict[str, int] = field(default_factory=dict)  # object -> records a connector yields
    rejected: dict[str, int] = field(default_factory=dict)  # object -> rows rejected with a reason
    skipped: dict[str, int] = field(default_factory=dict)  # object -> rows that are no record (footers, blank rows)
    children: dict[str, dict[str, int]] = field(default_factory=dict)  # part object -> parent key -> parts
    attachments: dict[str, int] = field(default_factory=dict)  # object -> files referenced (found or not)
    missing_attachments: int = 0  # files referenced that do not exist
    messy: dict[str, list[str]] = field(default_factory=dict)  # case -> keys (e.g. "contact_without_email")

    def add_messy(self, case: str, key: str) -> None:
        self.messy.setdefault(case, []).append(key)
