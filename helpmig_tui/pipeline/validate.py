"""Validation: what landed in Intercom, read back from Intercom and held against the source.

Two checks, neither of which takes the writer's word for anything:

- **A stratified sample** of every kind the load wrote (per source object, default 50
  each), read back from Intercom and compared with the source record through the confirmed
  map: contacts and companies field by field and attribute by attribute; conversations by
  creation time, title, state, assignee, team, tags, custom attributes, and their thread:
  every message the source holds appears, in order, by the right kind of author, with its
  attachments; articles; custom objects.
- **A count reconciliation** per object: how many records the source holds now, how many
  the journal accounts for (created, updated, skipped, rejected), and how many objects
  carrying this project's source ids Intercom holds.
- **What deltas touched**, on top of the sample: a sample (of the same size) of the records
  a delta run wrote, and every conversation whose state a delta changed (reopened,
  closed, re-assigned), all of them, for a state change is what a live desk most often
  undoes behind the migration's back.

A kind the load wrote but validation could not check is a failure, never a pass. The
error rate is per kind; under the threshold (1%) for every kind, and counts that agree,
and the migration may go on.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import distinct, func, select

from connectors.base import Capability, Record
from connectors.intercom import IntercomClient
from connectors.intercom.errors import IntercomError, NotFound
from connectors.intercom.models import Conversation, where
from helpmig_tui.audit import EMAIL_RE
from helpmig_tui.mapping.apply import SOURCE_ID_ATTRIBUTE, MappedRecord, apply_map
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline import text as texts
from helpmig_tui.pipeline.attributes import AttributeBook
from helpmig_tui.pipeline.conversations import PRIORITY_TAG, conversation_tags, opens_at
from helpmig_tui.pipeline.journal import Journal
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.pipeline.resolver import Resolver
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Event, JournalEntry, Run

THRESHOLD = 0.01
# journal kinds per kind validated, and the map's target of its source objects
KINDS: dict[str, tuple[tuple[str, ...], TargetKind]] = {
    "contact": (("contact",), TargetKind.CONTACT),
    "company": (("company",), TargetKind.COMPANY),
    "conversation": (("conversation",), TargetKind.CONVERSATION),
    "article": (("article",), TargetKind.ARTICLE),
    "custom_object": (("custom_object",), TargetKind.CUSTOM_OBJECT),
}
CHECKED_KINDS = tuple(KINDS)
_TAGS = re.compile(r"<[^>]+>")
PREFIX = 40  # characters of a message's text looked for in Intercom
_PRIORITY_TAG = PRIORITY_TAG.casefold()


@dataclass
class Mismatch:
    kind: str
    object: str
    key: str
    field: str
    expected: str
    actual: str


@dataclass
class Count:
    """One object's count reconciliation: source, journal, Intercom."""

    kind: str
    object: str
    source: int | None  # records the source holds now (None: it cannot count exactly)
    journal: int  # records the journal accounts for (done, skipped, rejected, ...)
    written: int  # Intercom objects the journal says this project wrote
    intercom: int | None  # Intercom objects carrying this project's source ids (None: not countable)
    problems: list[str] = field(default_factory=list)
    not_in_intercom: dict[str, int] = field(default_factory=dict)  # "rejected: code" -> records the load did not land


@dataclass
class ValidationResult:
    checked: dict[str, int] = field(default_factory=dict)  # kind -> records compared
    failed_records: dict[str, int] = field(default_factory=dict)  # kind -> records with a difference
    mismatches: list[Mismatch] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # kinds the load wrote that could not be checked

    @property
    def total(self) -> int:
        return sum(self.checked.values())

    @property
    def error_rate(self) -> float:
        return sum(self.failed_records.values()) / self.total if self.total else 0.0

    def rate(self, kind: str) -> float:
        checked = self.checked.get(kind, 0)
        return self.failed_records.get(kind, 0) / checked if checked else 0.0

    @property
    def count_problems(self) -> list[str]:
        return [p for c in self.counts for p in c.problems]

    @property
    def passed(self) -> bool:
        return (self.total > 0 and not self.unchecked and not self.count_problems
                and all(self.rate(kind) < THRESHOLD for kind in self.checked))

    def summary(self) -> str:
        if not self.total and not self.unchecked:
            return "nothing to check yet: nothing of this project is in Intercom"
        verdict = "passed" if self.passed else "FAILED"
        per_kind = ", ".join(f"{kind} {self.failed_records.get(kind, 0)}/{n}" for kind, n in self.checked.items())
        text = (f"{self.total} records compared ({per_kind} with differences): {verdict} "
                f"(threshold {THRESHOLD:.0%} per kind)")
        if self.unchecked:
            text += f"; written but not checked: {', '.join(self.unchecked)}"
        if self.count_problems:
            text += f"; {len(self.count_problems)} count differences"
        return text


def _norm(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()).casefold()


def _plain(body: Any) -> str:
    """Text as compared: markup, spacing and case ignored, repairs the load makes applied."""
    text, _ = texts.repair(str(body or ""))
    return " ".join(_TAGS.sub(" ", text).split()).casefold()


class Validator:
    def __init__(self, store: ProjectStore, mmap: MigrationMap, reader: SourceReader, client: IntercomClient,
                 journal: Journal, lookups: dict[str, dict[str, dict[str, Any]]], attributes: AttributeBook,
                 resolver: Resolver | None = None, max_missing: float = 0.02) -> None:
        self.max_missing = max_missing  # the share of an object's records allowed to be rejected
        self.attributes = attributes
        self.resolver = resolver
        self.store = store
        self.mmap = mmap
        self.reader = reader
        self.client = client
        self.journal = journal
        self.lookups = lookups
        self._admin_ids: dict[str, str] | None = None

    async def run(self, sample: int = 50, *, seed: int | None = None, run_ids: list[int] | None = None,
                  counts: bool = True) -> ValidationResult:
        result = ValidationResult()
        rng = random.Random(seed)
        for kind, (journal_kinds, target) in KINDS.items():
            for obj in [o.object for o in self.mmap.active_objects() if o.target is target]:
                entries = self._written(journal_kinds, obj, run_ids)
                if not entries:
                    continue
                picks = rng.sample(entries, min(sample, len(entries)))
                if run_ids is None:
                    picks = self._with_delta(picks, journal_kinds, obj, sample, rng)
                checked = 0
                for key, intercom_id in picks:
                    records = await self.reader.get(obj, [key])
                    if not records:
                        continue  # gone from the source since: the count reconciliation says so
                    checked += 1
                    differences = await self._differences(kind, obj, records[0], intercom_id)
                    result.checked[kind] = result.checked.get(kind, 0) + 1
                    if differences:
                        result.failed_records[kind] = result.failed_records.get(kind, 0) + 1
                        result.mismatches += [Mismatch(kind, obj, key, f, str(e)[:200], str(a)[:200])
                                              for f, e, a in differences]
                if not checked:
                    result.unchecked.append(f"{kind} ({obj})")
            if counts and run_ids is None:
                result.counts += await self._counts(kind, journal_kinds, target)
        return result

    # -- the sample ----------------------------------------------------------------------

    def _written(self, kinds: tuple[str, ...], obj: str, run_ids: list[int] | None) -> list[tuple[str, str]]:
        """(source key, Intercom id) of every record of `obj` this project wrote and still has."""
        query = select(JournalEntry.source_key, JournalEntry.intercom_id).where(
            JournalEntry.kind.in_(kinds), JournalEntry.object == obj, JournalEntry.status == "done",
            JournalEntry.intercom_id.is_not(None))
        if run_ids is not None:
            query = query.where(JournalEntry.run_id.in_(run_ids))
        with self.store.reader() as session:
            return [(key.split(":", 1)[1], intercom_id) for key, intercom_id in session.execute(query.order_by(JournalEntry.id))]

    def _with_delta(self, picks: list[tuple[str, str]], kinds: tuple[str, ...], obj: str, sample: int,
                    rng: random.Random) -> list[tuple[str, str]]:
        """The sample, plus a sample of what delta runs wrote and every record whose state a
        delta changed (each once)."""
        with self.store.reader() as session:
            deltas = list(session.scalars(select(Run.id).where(Run.kind == "delta")))
            if not deltas:
                return picks
            changed = {e.data.get("key") for e in session.scalars(
                select(Event).where(Event.kind == "state_change", Event.run_id.in_(deltas)))
                if e.data.get("object") == obj}
        touched = self._written(kinds, obj, deltas)
        extra = rng.sample(touched, min(sample, len(touched)))
        extra += [(key, ident) for key, ident in self._written(kinds, obj, None) if key in changed]
        seen = {key for key, _ in picks}
        for key, ident in extra:
            if key not in seen:
                seen.add(key)
                picks.append((key, ident))
        return picks

    async def _differences(self, kind: str, obj: str, record: Record, intercom_id: str) -> list[tuple[str, Any, Any]]:
        m = apply_map(self.mmap, obj, record, lookups=self.lookups)
        try:
            pairs = await getattr(self, f"_{kind}")(obj, record, m, intercom_id)
        except NotFound:
            return [("exists", "in Intercom", "missing")]
        except IntercomError as exc:
            return [("read", "readable", str(exc)[:200])]
        return [(f, e, a) for f, e, a in pairs if e not in (None, "") and _norm(e) != _norm(a)]

    def _attrs(self, model: str, m: MappedRecord, found: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """Each attribute value the load sent, against what Intercom holds under the workspace's name."""
        sent, _ = self.attributes.coerce(model, m.attributes)
        return [(f"custom:{name}", value, found.get(name)) for name, value in sent.items()]

    async def _contact(self, obj: str, record: Record, m: MappedRecord, ident: str) -> list[tuple[str, Any, Any]]:
        found = await self.client.contacts.get(ident)
        email = str(m.standard.get("email") or "").strip()
        pairs: list[tuple[str, Any, Any]] = []
        if email and EMAIL_RE.match(email):
            pairs.append(("email", email.casefold(), (found.email or "").casefold()))
        if found.external_id != m.source_id and pairs and pairs[0][1] == pairs[0][2]:
            return pairs  # merged into the contact with the same email: that one carries its own fields
        pairs += [("external_id", m.source_id, found.external_id), ("name", m.standard.get("name"), found.name),
                  ("phone", m.standard.get("phone"), found.phone)]
        return pairs + self._attrs("contact", m, found.custom_attributes)

    async def _company(self, obj: str, record: Record, m: MappedRecord, ident: str) -> list[tuple[str, Any, Any]]:
        found = await self.client.companies.get(ident)
        pairs: list[tuple[str, Any, Any]] = [("company_id", m.source_id, found.company_id),
                                             ("name", m.standard.get("name"), found.name)]
        return pairs + self._attrs("company", m, found.custom_attributes)

    async def _article(self, obj: str, record: Record, m: MappedRecord, ident: str) -> list[tuple[str, Any, Any]]:
        found = await self.client.articles.get(ident)
        pairs: list[tuple[str, Any, Any]] = [("title", m.standard.get("title"), found.title)]
        if m.standard.get("state"):
            pairs.append(("state", m.standard.get("state"), found.state))
        if m.standard.get("body"):
            pairs.append(("body", _plain(m.standard["body"])[:PREFIX], _plain(found.body)[:PREFIX]))
        return pairs

    async def _custom_object(self, obj: str, record: Record, m: MappedRecord, ident: str) -> list[tuple[str, Any, Any]]:
        object_type = self.mmap.object_map(obj).options.custom_object_type or ""  # type: ignore[union-attr]
        found = await self.client.custom_objects.get(object_type, ident)
        return [("external_id", m.source_id, found.external_id)] + self._attrs(
            f"custom_object:{object_type}", m, found.custom_attributes)

    async def _conversation(self, obj: str, record: Record, m: MappedRecord, ident: str) -> list[tuple[str, Any, Any]]:
        found = await self.client.conversations.get(ident)
        pairs: list[tuple[str, Any, Any]] = []
        if m.standard.get("title"):
            pairs.append(("title", m.standard.get("title"), found.title))
        state = "closed" if m.standard.get("state") == "closed" else "open"
        pairs.append(("state", state, "closed" if found.state == "closed" else "open"))
        assignee = self._admin("assignee", m)
        if assignee is not None:
            pairs.append(("assignee", assignee, found.admin_assignee_id))
        team = self._admin("team", m)
        if team is not None:
            pairs.append(("team", team, found.team_assignee_id))
        wanted = conversation_tags(m)
        have = {_norm(t.name) for t in (found.tags.tags if found.tags else [])}
        if wanted:
            missing = sorted(t for t in wanted if _norm(t) not in have)
            pairs.append(("tags", "all present", f"missing {missing}" if missing else "all present"))
        # the priority the source gives now, and no other (a delta takes the old one off)
        priorities = sorted(t for t in have if t.startswith(_PRIORITY_TAG))
        expected = sorted(_norm(t) for t in wanted if _norm(t).startswith(_PRIORITY_TAG))
        if priorities != expected and (priorities or expected):
            pairs.append(("priority", ", ".join(expected) or "no priority tag", ", ".join(priorities) or "none"))
        pairs += self._attrs("conversation", m, found.custom_attributes)
        continued = [await self.client.conversations.get(i) for i in self._continuations(obj, record.key)]
        thread, first = await self._thread(obj, record, found, continued)
        if m.standard.get("created_at"):
            pairs.append(("created_at", opens_at(int(m.standard["created_at"]), first), found.created_at))
        return pairs + thread

    def _admin(self, role: str, m: MappedRecord) -> str | None:
        """The admin or team a reference was matched to (the operator's match and the
        workspace's teammates, not the writer's output); None when it has none."""
        if self.resolver is None or m.references.get(role) is None:
            return None
        return self.resolver.team(m) if role == "team" else self.resolver.admin(m, role)

    def _continuations(self, obj: str, key: str) -> list[str]:
        """The conversations a thread over 500 parts continues in, in order."""
        with self.store.reader() as session:
            rows = session.execute(select(JournalEntry.source_key, JournalEntry.intercom_id).where(
                JournalEntry.kind == "conversation_segment", JournalEntry.source_key.startswith(f"{obj}:{key}#"),
                JournalEntry.status == "done")).all()
        return [i for _, i in sorted(rows, key=lambda r: int(r[0].rsplit("#", 1)[1]))]

    async def _thread(self, obj: str, record: Record, found: Conversation,
                      continued: list[Conversation]) -> tuple[list[tuple[str, Any, Any]], list[int]]:
        """Every message of the source, in order, by the right kind of author, with its files;
        and the messages' times (the conversation opens no later than the first)."""
        parts = [o.object for o in self.mmap.active_objects() if o.target is TargetKind.PART and o.parent == obj]
        expected: list[tuple[int, str, str | None, int, str | None]] = []  # (time, text, direction, files, writer)
        for part in parts:
            for child in (await self.reader.children(part, [record.key])).get(record.key, []):
                pm = apply_map(self.mmap, part, child, lookups=self.lookups)
                files = await self._files(part, child)
                # a message with no date is loaded after the one before it; one with files but
                # no text, as its files
                if not pm.ok and pm.missing not in (["created_at"], ["body"]) or pm.missing == ["body"] and not files:
                    continue
                text = _plain(pm.standard.get("body"))[:PREFIX]
                direction = pm.standard.get("direction")
                writer = await self.resolver.author(pm) if self.resolver is not None else None
                # the load writes as the source's writer only where the writer's kind fits the direction
                fits = writer is not None and (writer[0] == "contact") == (direction == "customer")
                expected.append((int(pm.standard.get("created_at") or 0), text, direction, files,
                                 writer[1] if fits and writer else None))
        times_of_messages = [e[0] for e in expected if e[0]]
        undated = [e for e in expected if not e[0]]
        expected = sorted((e for e in expected if e[0]), key=lambda e: e[0])
        if any((c.conversation_parts.total_count or 0) > len(c.parts) for c in (found, *continued)
               if c.conversation_parts):
            return [], times_of_messages  # over 500 parts: Intercom returns the newest 500 only
        written = [p for c in (found, *continued) for p in c.parts if p.part_type in ("comment", "note")]
        bodies = [_plain(found.source.body if found.source else "")] + [_plain(p.body) for p in written]
        times = [found.created_at or 0] + [p.created_at or 0 for p in written]
        pairs: list[tuple[str, Any, Any]] = []
        position, missing, order = 0, 0, 0
        for when, text, direction, _, writer in expected:
            if not text:
                continue
            # the part with this text at this time (or later: a message dated before the one
            # before it is placed at that one's time); text alone when none is
            at = next((i for i in range(position, len(bodies)) if text in bodies[i] and times[i] == when), None)
            if at is None:
                at = next((i for i in range(position, len(bodies)) if text in bodies[i]), None)
            if at is None:
                anywhere = next((i for i, b in enumerate(bodies) if text in b), None)
                missing += anywhere is None
                order += anywhere is not None
                continue
            part = written[at - 1] if at > 0 else None
            if part is not None and direction in ("agent", "customer", "note"):
                seen = "note" if part.part_type == "note" else \
                    "agent" if part.author and part.author.type == "admin" else "customer"
                pairs.append((f"part {at} author", direction, seen))
            if part is not None and writer is not None:  # the teammate or contact the source names
                pairs.append((f"part {at} written by", writer, str(part.author.id) if part.author else None))
            position = at + 1
        missing += sum(1 for _, text, _, _, _ in undated if text and not any(text in b for b in bodies))
        pairs.append(("messages missing", 0, missing))
        pairs.append(("messages out of order", 0, order))
        # every file of the source is in Intercom, or reported with its reason (missing, refused type, ...)
        files = sum(e[3] for e in (*expected, *undated)) + await self._files(obj, record)
        landed = sum(1 for p in written for a in p.attachments if not (a.name or "").startswith(texts.FULL_TEXT_PREFIX)) \
            + (len(found.source.attachments) if found.source else 0)
        pairs.append(("attachments in Intercom or reported", files, landed + self._reported_files(obj, record.key)))
        return pairs, times_of_messages

    def _reported_files(self, obj: str, key: str) -> int:
        with self.store.reader() as session:
            return session.scalar(select(func.count()).where(
                JournalEntry.kind == "attachment", JournalEntry.parent_key == f"{obj}:{key}",
                JournalEntry.status == "skipped")) or 0

    async def _files(self, obj: str, record: Record) -> int:
        return len(await self.reader.attachments(obj, record))

    # -- the counts ------------------------------------------------------------------------

    async def _counts(self, kind: str, journal_kinds: tuple[str, ...], target: TargetKind) -> list[Count]:
        out = []
        objects = [o.object for o in self.mmap.active_objects() if o.target is target]
        exact = Capability.EXACT_COUNTS in self.reader.source.capabilities
        schema = await self.reader.call(self.reader.source.describe) if exact else None
        for obj in objects:
            with self.store.reader() as session:
                accounted = session.scalar(select(func.count()).where(
                    JournalEntry.object == obj, JournalEntry.kind.in_((*journal_kinds, "skip")),
                    JournalEntry.status.in_(("done", "rejected", "skipped"))))
                written = session.scalar(select(func.count(distinct(JournalEntry.intercom_id))).where(
                    JournalEntry.object == obj, JournalEntry.kind.in_(journal_kinds), JournalEntry.status == "done",
                    JournalEntry.intercom_id.is_not(None)))
            source = None
            if schema is not None:
                spec = next((o for o in schema.objects if o.name == obj), None)
                if spec is not None and spec.count is not None:
                    source = spec.count + self._skipped(obj)
            count = Count(kind, obj, source, accounted or 0, written or 0, None)
            if source is not None and source != count.journal:
                gap = source - count.journal
                count.problems.append(f"{obj}: the source holds {source} records, the journal accounts for "
                                      f"{count.journal}" + (f" ({gap} never loaded)" if gap > 0 else ""))
            self._not_landed(count)
            out.append(count)
        intercom = await self._intercom_count(kind, objects)
        if intercom is not None and out:
            written_all = sum(c.written for c in out)
            out[0].intercom = intercom
            if intercom != written_all:
                out[0].problems.append(f"{kind}: Intercom holds {intercom} with this project's source ids, the "
                                       f"journal says {written_all} were written")
        return out

    def _not_landed(self, count: Count) -> None:
        """Records in scope that are not in Intercom: any failed or in doubt, or rejections
        over the operator's share (never all of them), are a failure named with examples."""
        kinds = KINDS[count.kind][0]
        mine = (JournalEntry.object == count.object, JournalEntry.kind.in_(kinds))
        with self.store.reader() as session:
            rows = session.execute(
                select(JournalEntry.status, JournalEntry.code, func.count())
                .where(*mine, JournalEntry.status.in_(("rejected", "failed", "in_flight")))
                .group_by(JournalEntry.status, JournalEntry.code).order_by(func.count().desc())).all()
            landed = session.scalar(select(func.count()).where(*mine, JournalEntry.status == "done")) or 0
            examples = {(st, code): list(session.scalars(
                select(func.coalesce(JournalEntry.label, JournalEntry.source_key))
                .where(*mine, JournalEntry.status == st, JournalEntry.code.is_(None) if code is None
                       else JournalEntry.code == code).limit(3))) for st, code, _ in rows[:3]}
        state = {"in_flight": "in doubt"}
        for status, code, n in rows:
            count.not_in_intercom[f"{state.get(status, status)}: {code or 'no code'}"] = n
        rejected = sum(n for status, _, n in rows if status == "rejected")
        unsettled = sum(n for status, _, n in rows if status != "rejected")
        in_scope = landed + rejected + unsettled
        if rows and (unsettled or rejected > self.max_missing * in_scope or not landed):
            reasons = "; ".join(
                f"{n} {state.get(st, st)} ({code or 'no code'}: e.g. "
                f"{', '.join(k.split(':', 1)[-1] for k in examples[(st, code)])})" for st, code, n in rows[:3])
            count.problems.append(f"{count.object}: {rejected + unsettled} of {in_scope} records are not in Intercom "
                                  f"(the share allowed is {self.max_missing:.0%}): {reasons}")

    def _skipped(self, obj: str) -> int:
        """What the source's default read leaves out (the map's scope rules leave out records it returns)."""
        with self.store.reader() as session:
            return session.scalar(select(func.count()).where(JournalEntry.kind == "skip", JournalEntry.object == obj,
                                                             JournalEntry.status == "skipped",
                                                             JournalEntry.code.like("source.skipped_%"))) or 0

    async def _intercom_count(self, kind: str, objects: list[str]) -> int | None:
        """Objects in Intercom that carry this project's source ids (None where Intercom
        offers no way to count them)."""
        prefixes = tuple(f"{self.mmap.platform}:{obj}:" for obj in objects)
        if kind == "contact":
            total = 0
            for prefix in prefixes:
                total += await self.client.contacts.count(where("external_id", "^", prefix))
            return total
        if kind == "conversation":
            name = self.attributes.name_of("conversation", SOURCE_ID_ATTRIBUTE)
            n = 0
            async for conversation in self.client.conversations.list(per_page=150):
                if str(conversation.custom_attributes.get(name) or "").startswith(prefixes):
                    n += 1
            return n
        return None
