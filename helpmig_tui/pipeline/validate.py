"""Validation: a random sample of what was loaded, read back from Intercom and compared
field by field with the source record through the confirmed map.

The error rate is the share of sampled records with at least one difference; under 1%
the migration may go on. Every difference is listed: object, key, field, what the source
says, what Intercom holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from connectors.intercom import IntercomClient
from connectors.intercom.errors import IntercomError, NotFound
from helpmig_tui.audit import EMAIL_RE
from helpmig_tui.mapping.apply import MappedRecord, apply_map
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.pipeline.attributes import AttributeBook
from helpmig_tui.pipeline.journal import Journal
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import JournalEntry

THRESHOLD = 0.01
CHECKED_KINDS = ("contact", "company", "conversation", "article", "custom_object")


@dataclass
class Mismatch:
    kind: str
    object: str
    key: str
    field: str
    expected: str
    actual: str


@dataclass
class ValidationResult:
    checked: dict[str, int] = field(default_factory=dict)  # kind -> records compared
    failed_records: dict[str, int] = field(default_factory=dict)  # kind -> records with a difference
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.checked.values())

    @property
    def error_rate(self) -> float:
        return sum(self.failed_records.values()) / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.total > 0 and self.error_rate < THRESHOLD

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED" if self.total else "nothing to check yet"
        return f"{self.total} records compared, {sum(self.failed_records.values())} with differences " \
               f"({self.error_rate:.1%}): {verdict} (threshold {THRESHOLD:.0%})"


def _norm(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()).casefold()


def sample_entries(store: ProjectStore, kind: str, n: int, seed: int | None, run_ids: list[int] | None) -> list[JournalEntry]:
    """N random loaded records of a kind (created by helpmig, still in Intercom)."""
    query = select(JournalEntry).where(JournalEntry.kind == kind, JournalEntry.status == "done",
                                       JournalEntry.intercom_id.is_not(None))
    if run_ids is not None:
        query = query.where(JournalEntry.run_id.in_(run_ids))
    with store.reader() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        if total == 0:
            return []
        picks = sorted(random.Random(seed).sample(range(total), min(n, total)))
        return [session.scalars(query.order_by(JournalEntry.id).offset(i).limit(1)).one() for i in picks]


class Validator:
    def __init__(self, store: ProjectStore, mmap: MigrationMap, reader: SourceReader, client: IntercomClient,
                 journal: Journal, lookups: dict[str, dict[str, dict[str, Any]]], attributes: AttributeBook) -> None:
        self.attributes = attributes
        self.store = store
        self.mmap = mmap
        self.reader = reader
        self.client = client
        self.journal = journal
        self.lookups = lookups

    async def run(self, sample: int = 50, *, seed: int | None = None, run_ids: list[int] | None = None) -> ValidationResult:
        result = ValidationResult()
        for kind in CHECKED_KINDS:
            for entry in sample_entries(self.store, kind, sample, seed, run_ids):
                obj, _, key = entry.source_key.partition(":")
                records = await self.reader.get(obj, [key]) if self.mmap.object_map(obj) else []
                if not records:
                    continue  # a walk-in contact or a record gone from the source: nothing to compare with
                m = apply_map(self.mmap, obj, records[0], lookups=self.lookups)
                try:
                    differences = await self._compare(kind, m, entry)
                except NotFound:
                    differences = [("exists", "in Intercom", "missing")]
                except IntercomError as exc:
                    differences = [("read", "readable", str(exc)[:200])]
                result.checked[kind] = result.checked.get(kind, 0) + 1
                if differences:
                    result.failed_records[kind] = result.failed_records.get(kind, 0) + 1
                    result.mismatches += [Mismatch(kind, obj, key, f, str(e), str(a)) for f, e, a in differences]
        return result

    async def _compare(self, kind: str, m: MappedRecord, entry: JournalEntry) -> list[tuple[str, Any, Any]]:
        ident = entry.intercom_id or ""
        pairs: list[tuple[str, Any, Any]] = []
        if kind == "contact":
            found = await self.client.contacts.get(ident)
            pairs += [("external_id", m.source_id, found.external_id), ("name", m.standard.get("name"), found.name),
                      ("phone", m.standard.get("phone"), found.phone)]
            email = m.standard.get("email")
            if email and EMAIL_RE.match(str(email).strip()):  # invalid emails are left out on load (flagged)
                pairs.append(("email", str(email).strip(), found.email))
            pairs += self._attributes("contact", m, found.custom_attributes)
        elif kind == "company":
            found = await self.client.companies.get(ident)
            pairs += [("company_id", m.source_id, found.company_id), ("name", m.standard.get("name"), found.name)]
            pairs += self._attributes("company", m, found.custom_attributes)
        elif kind == "conversation":
            found = await self.client.conversations.get(ident)
            pairs += [("created_at", m.standard.get("created_at"), found.created_at)]
            if m.standard.get("title"):
                pairs.append(("title", m.standard.get("title"), found.title))
            if m.standard.get("state") == "closed":
                pairs.append(("state", "closed", found.state))
            pairs += self._attributes("conversation", m, found.custom_attributes)
            expected_parts = len([e for e in self.journal.parts_of(entry.source_key) if e.status == "done"
                                  and e.intercom_id != ident])
            expected_parts += len([e for e in self.journal.parts_of(entry.source_key, kind="part_segment")
                                   if e.status == "done"])
            parts = found.conversation_parts.conversation_parts if found.conversation_parts else []
            written = [p for p in parts if p.part_type in ("comment", "note")]
            if not self.journal.get("conversation_segment", f"{entry.source_key}#2"):
                pairs.append(("parts", expected_parts, len(written)))
        elif kind == "article":
            found = await self.client.articles.get(ident)
            pairs += [("title", m.standard.get("title"), found.title)]
            if m.standard.get("state"):
                pairs.append(("state", m.standard.get("state"), found.state))
        elif kind == "custom_object":
            om = self.mmap.object_map(m.object)
            found = await self.client.custom_objects.get(om.options.custom_object_type or "", ident)  # type: ignore[union-attr]
            pairs += [("external_id", m.source_id, found.external_id)]
            pairs += self._attributes(f"custom_object:{om.options.custom_object_type or ''}", m, found.custom_attributes)
        return [(f, e, a) for f, e, a in pairs if e not in (None, "") and _norm(e) != _norm(a)]

    def _attributes(self, model: str, m: MappedRecord, found: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """Each attribute value the load sent, against what Intercom holds under the workspace's name."""
        sent, _ = self.attributes.coerce(model, m.attributes)
        return [(f"custom:{name}", value, found.get(name)) for name, value in sent.items()]
