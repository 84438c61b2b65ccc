"""Loading plain records: companies, contacts (with their company and tags), articles,
custom object instances, and the supplementary CSVs for what has no home in Intercom.

`for_each_record` is the concurrent loop every phase uses: it reads the source in
batches in its own thread, keeps at most `concurrency` records in flight (bounded
memory), and counts every record exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from connectors.base import Record
from connectors.intercom.models import (
    ArticleCreate,
    CompanyUpsert,
    ContactCreate,
    ContactUpdate,
    CustomObjectUpsert,
)
from helpmig_tui.mapping.apply import MappedRecord, apply_map, left_out
from helpmig_tui.mapping.transforms import Flag
from helpmig_tui.pipeline.context import LOOKUP, LoadContext, Lookup, ObjectProgress, Written
from helpmig_tui.pipeline.journal import Entry, Outcome, Settled, payload_hash
from helpmig_tui.pipeline.reader import BATCH
from helpmig_tui.pipeline.requesters import clean_email, email_problem
from helpmig_tui.pipeline.resolver import Resolver, jkey
from helpmig_tui.pipeline.resume import Batch, ResumePoint, final
from helpmig_tui.pipeline.watch import doing
from helpmig_tui.reports import CsvReport
from helpmig_tui.state.models import FINISHED

Handler = Callable[[Record], Awaitable[Written]]


def finished_records(ctx: LoadContext, keys: list[str]) -> dict[str, Outcome]:
    """The records (journal keys) an earlier run finished: a resume counts them and moves
    on. None in a delta, which looks at every record again."""
    if ctx.options.delta:
        return {}
    return {k: o for k, o in ctx.journal.outcomes(FINISHED, keys).items() if o.status == "done"}


def earlier(outcome: Outcome) -> Written:
    """What an earlier run's final row counts as in this run."""
    if outcome.status == "done":
        return Written("already", outcome.intercom_id, outcome.outcome)
    return Written(outcome.status)


async def for_each_record(ctx: LoadContext, obj: str, handler: Handler, total: int | None,
                          *, batch_size: int = BATCH, resumable: bool = False) -> ObjectProgress:
    """`resumable`: the handler marks a record finished (`Journal.finished`) once all its
    writes are final, and a resume skips the finished ones on one lookup per batch."""
    tracker = ctx.tracker(obj, total if ctx.options.sample is None else min(total or 0, ctx.options.sample))
    slots = asyncio.Semaphore(ctx.options.concurrency)
    point = ResumePoint(ctx, obj) if resumable else None
    after = point.start({obj: tracker}) if point is not None else None

    async def one(record: Record, batch: Batch | None) -> None:
        tally: Counter[tuple[str, str]] = Counter({(obj, "read"): 1})
        written = Written("failed")
        try:
            written = left_out_by_map(ctx, obj, record) or await ctx.watched(obj, record, handler(record))
            ctx.count(tracker, written, tally=tally)
        finally:
            slots.release()
            if point is not None:
                finished = ctx.journal.was_finished(jkey(obj, record.key))
                point.settled(batch, tally, final(written.status, written.code, finished))
            ctx.tick()

    async with asyncio.TaskGroup() as group:
        async for batch in ctx.reader.batches(obj, since=ctx.options.since, batch_size=batch_size,
                                              limit=ctx.options.sample, after=after):
            finished = finished_records(ctx, [jkey(obj, r.key) for r in batch]) if resumable else {}
            ordered = point.batch([r.key for r in batch]) if point is not None else None
            for record in batch:
                tracker.read += 1
                marker = finished.get(jkey(obj, record.key))
                if marker is not None:
                    tally = Counter({(obj, "read"): 1})
                    ctx.count(tracker, earlier(marker), tally=tally)
                    if point is not None:
                        point.settled(ordered, tally, True)
                    ctx.tick()
                    continue
                await slots.acquire()
                group.create_task(one(record, ordered))
    await count_skipped(ctx, obj, tracker)
    ctx.tick(force=True)
    return tracker


SKIP_REASONS = {
    "deleted": "deleted in the source",
    "spam": "marked as spam in the source",
    "draft": "a draft, never sent",
    "private": "private (agents only) in the source",
    "of_skipped_parent": "its ticket is skipped",
    "of_skipped_ticket": "its ticket is skipped",
}


async def count_skipped(ctx: LoadContext, obj: str, tracker: ObjectProgress) -> None:
    """The records the source holds but the scope leaves out (deleted, spam, drafts, ...):
    journaled as skipped with their reason and counted in, so what the source holds adds
    up. Only in a full load (a sample or a delta reads part of the source)."""
    if ctx.options.sample is not None or ctx.options.delta:
        return
    async for reason, batch in ctx.reader.skipped(obj):
        code = f"source.skipped_{reason}"
        why = SKIP_REASONS.get(reason, reason.replace("_", " "))
        ctx.journal.settle_many([Settled("skip", jkey(obj, item.key), "skipped", why, code, item.number, object=obj)
                                 for item in batch], ctx.phase)
        tracker.read += len(batch)
        tracker.skipped += len(batch)
        if tracker.total is not None:
            tracker.total += len(batch)
        ctx.tick()


def left_out_by_map(ctx: LoadContext, obj: str, record: Record, kind: str = "skip") -> Written | None:
    """A record a scope rule of the map leaves out (a private article): journaled as
    skipped with the rule's code and reason, never sent."""
    rule = left_out(ctx.mmap, obj, record)
    if rule is None:
        return None
    ctx.journal.settle_many([Settled(kind, jkey(obj, record.key), "skipped", rule.reason, rule.code,
                                     ctx.label(obj, record), object=obj)], ctx.phase)
    return Written("skipped", reason=rule.reason, code=rule.code)


def mapped(ctx: LoadContext, obj: str, record: Record) -> MappedRecord:
    """The record as the loader sends it; what mapping changed on it is counted for the
    phase report, so call this once per record and run (`remapped` for a second look)."""
    doing(f"mapping {obj} {record.key}")
    m = remapped(ctx, obj, record)
    if m.ok:
        ctx.note_flags(obj, record, m.flags)
    return m


def remapped(ctx: LoadContext, obj: str, record: Record) -> MappedRecord:
    return apply_map(ctx.mmap, obj, record, lookups=ctx.lookups)


def semantic_hash(m: MappedRecord) -> str:
    """What the record becomes in Intercom: a changed hash means a delta update."""
    full = {name: hashlib.sha256(value.encode("utf-8", "replace")).hexdigest() for name, value in m.full.items()}
    return payload_hash([m.standard, m.attributes, sorted(m.tags), m.notes, m.references, *([full] if full else [])])


def reject(ctx: LoadContext, kind: str, obj: str, record: Record, reason: str, code: str | None,
           label: str | None = None, **extra: Any) -> Written:
    """A record that cannot be loaded, journaled with its reason, the reason's code and
    what people call it (the record's number, or `label`: a message's ticket)."""
    code = code or "map.rejected"
    ctx.journal.settle(kind, jkey(obj, record.key), "rejected", reason, ctx.phase, object=obj, code=code,
                       label=label or ctx.label(obj, record), **extra)
    return Written("rejected", reason=reason, code=code)


@dataclass
class Prepared:
    """A record mapped for a keyed write: what the journal holds for it, and whether a
    delta must send it again because it changed."""

    m: MappedRecord
    key: str
    entry: Entry | None
    digest: str
    redo: bool


def prepare(ctx: LoadContext, kind: str, obj: str, record: Record) -> Prepared | Written:
    """The mapped record, or its rejection (journaled) when the map cannot load it."""
    m = mapped(ctx, obj, record)
    key = jkey(obj, record.key)
    if not m.ok:
        ctx.journal.reopen(key)  # a delta of a record that no longer maps
        return reject(ctx, kind, obj, record, m.rejected or "", m.rejected_code)
    entry = ctx.journal.get(kind, key)
    digest = semantic_hash(m)
    redo = ctx.options.delta and entry is not None and entry.status == "done" and entry.payload_hash != digest
    return Prepared(m, key, entry, digest, redo)


def _finished(ctx: LoadContext, key: str, obj: str, written: Written, complete: bool) -> None:
    """Mark the record finished for a resume to skip, or reopen it (a delta's new write failed)."""
    if complete:
        ctx.journal.finished(key, ctx.phase, object=obj, intercom_id=written.intercom_id, outcome=written.outcome)
    else:
        ctx.journal.reopen(key)


# -- companies -----------------------------------------------------------------------


async def write_company(ctx: LoadContext, obj: str, record: Record) -> Written:
    prepared = prepare(ctx, "company", obj, record)
    if isinstance(prepared, Written):
        return prepared
    m, key, entry, digest, redo = prepared.m, prepared.key, prepared.entry, prepared.digest, prepared.redo
    s = m.standard
    body = CompanyUpsert(
        company_id=m.source_id, name=s.get("name"), website=s.get("website"), industry=s.get("industry"),
        plan=s.get("plan"), size=s.get("size"), monthly_spend=s.get("monthly_spend"),
        remote_created_at=s.get("remote_created_at"),
        custom_attributes=await ctx.attribute_values("company", m.attributes),
    )
    fresh = entry is None

    async def send() -> tuple[str, str]:
        existed = fresh and await ctx.client.companies.find_by_company_id(m.source_id) is not None
        company = await ctx.client.companies.upsert(body)
        return company.id, "updated" if redo else "adopted" if existed else "created"

    async def find() -> str | None:
        found = await ctx.client.companies.find_by_company_id(m.source_id)
        return found.id if found else None

    written = await ctx.write(kind="company", key=key, obj=obj, send=send, find=find, payload_hash=digest,
                              label=ctx.label(obj, record),
                              entry=entry, redo=redo)
    if written.ok and s.get("name"):
        ctx.journal.settle("company_name", str(s["name"]).strip().casefold(), "done", "", ctx.phase,
                           object=obj, intercom_id=written.intercom_id, outcome="matched")
    _finished(ctx, key, obj, written, written.ok)
    return written


# -- contacts ------------------------------------------------------------------------


async def _contact_body(ctx: LoadContext, resolver: Resolver, record: Record, m: MappedRecord) -> ContactCreate:
    s = dict(m.standard)
    email = clean_email(s.get("email"))
    if s.get("email") and email is None:  # a contact object whose map names no email: the rest still loads
        ctx.note_flags(m.object, record, [Flag("email", "email.invalid", f"invalid email {s['email']!r} left out")])
    return ContactCreate(
        role=s.get("role") or "user", external_id=m.source_id, email=email,
        name=s.get("name"), phone=s.get("phone"), avatar=s.get("avatar"), signed_up_at=s.get("signed_up_at"),
        last_seen_at=s.get("last_seen_at"), unsubscribed_from_emails=s.get("unsubscribed_from_emails"),
        owner_id=resolver.admin(m, "owner"), custom_attributes=await ctx.attribute_values("contact", m.attributes),
    )


async def write_contact(ctx: LoadContext, resolver: Resolver, obj: str, record: Record) -> Written:
    """A contact, unless its email is missing or invalid (where the map names one); one whose
    email differs from another's only in case is merged into that one."""
    prepared = prepare(ctx, "contact", obj, record)
    if isinstance(prepared, Written):
        return prepared
    problem = email_problem(ctx.mmap, prepared.m)
    if problem is not None:
        ctx.journal.reopen(prepared.key)
        return reject(ctx, "contact", obj, record, problem[1], problem[0])
    email = clean_email(prepared.m.standard.get("email"))
    if email is None:
        return await _write_contact(ctx, resolver, obj, record, prepared)
    async with resolver.lock(f"email:{email}"):  # one person per email: a twin waits for the first
        twin = ctx.journal.intercom_id("contact_email", email)
        mine = prepared.entry is not None and prepared.entry.status == "done" and prepared.entry.intercom_id == twin
        earlier = prepared.entry
        if twin and earlier is not None and earlier.status == "done" and earlier.outcome == "matched" \
                and earlier.intercom_id == twin:
            return Written("already", twin, "matched")  # merged by an earlier run
        if twin and not mine:
            reason = f"merged into the contact with the same email ({email})"
            ctx.journal.settle("contact", prepared.key, "done", reason, ctx.phase, object=obj, intercom_id=twin,
                               outcome="matched", code="contact.email_duplicate", label=ctx.label(obj, record))
            _finished(ctx, prepared.key, obj, Written("done", twin, "matched"), True)
            return Written("done", twin, "matched", reason=reason, code="contact.email_duplicate")
        return await _write_contact(ctx, resolver, obj, record, prepared)


async def _write_contact(ctx: LoadContext, resolver: Resolver, obj: str, record: Record, prepared: Prepared) -> Written:
    m, key, entry, digest, redo = prepared.m, prepared.key, prepared.entry, prepared.digest, prepared.redo
    redo = redo and entry is not None and entry.outcome != "matched"  # a merged record does not rewrite its twin
    body = await _contact_body(ctx, resolver, record, m)
    was_in_flight = entry is not None and entry.status == "in_flight"

    async def send() -> tuple[str, str]:
        if redo and entry is not None and entry.intercom_id:
            await ctx.client.contacts.update(entry.intercom_id, ContactUpdate(**body.model_dump(exclude={"role"})))
            return entry.intercom_id, "updated"
        created = await ctx.client.contacts.create(body)
        ours = not created.existing or created.earlier_attempt_in_doubt or was_in_flight
        return created.id, "created" if ours else "adopted"

    async def find() -> str | None:
        found = await ctx.client.contacts.find_by_external_id(m.source_id)
        return found.id if found else None

    written = await ctx.write(kind="contact", key=key, obj=obj, send=send, find=find, payload_hash=digest,
                              label=ctx.label(obj, record),
                              entry=entry, redo=redo)
    if not written.ok:
        ctx.journal.reopen(key)
        return written
    contact_id = written.intercom_id or ""
    if body.email:
        alias = body.email
        held = ctx.journal.get("contact_email", alias)
        # the first contact with an email keeps it; one rolled back (a sample's) gives it up
        if held is None or held.status != "done":
            ctx.journal.settle("contact_email", alias, "done", "", ctx.phase, object=obj,
                               intercom_id=contact_id, outcome="matched")
    # a contact with no row before this write has no company link or tag rows either
    entry_of = None if entry is None else LOOKUP
    linked = await _link_company(ctx, resolver, obj, record.key, m, contact_id, entry_of)
    tagged = await _tag_contact(ctx, resolver, obj, record.key, m, contact_id, entry_of)
    _finished(ctx, key, obj, written, linked and tagged)
    return written


async def _link_company(ctx: LoadContext, resolver: Resolver, obj: str, key: str, m: MappedRecord, contact_id: str,
                        entry: Lookup | None) -> bool:
    """False when the link is still to be made (its company was not migrated, or the write failed)."""
    if "company" not in m.references:
        return True
    company_id = await resolver.company(m)
    if company_id is None:
        ctx.event("warning", f"{obj} {key}: company {m.references['company']!r} was not migrated; link left out")
        return False

    async def send() -> tuple[str, str]:
        await ctx.client.contacts.attach_company(contact_id, company_id)
        return company_id, "created"

    return (await ctx.write(kind="contact_company", key=jkey(obj, key), obj=obj, send=send, entry=entry)).ok


async def _tag_contact(ctx: LoadContext, resolver: Resolver, obj: str, key: str, m: MappedRecord, contact_id: str,
                       entry: Lookup | None) -> bool:
    """False when a tag is still to be put on."""
    tagged = True
    for name in m.tags:
        tag_id = await resolver.tag(name)
        if tag_id is None:
            tagged = False
            continue

        async def send(tag_id: str = tag_id) -> tuple[str, str]:
            await ctx.client.tags.tag_contact(contact_id, tag_id)
            return tag_id, "created"

        written = await ctx.write(kind="contact_tag", key=f"{jkey(obj, key)}#{name.casefold()}", obj=obj, send=send,
                                  entry=entry)
        tagged = tagged and written.ok
    return tagged


async def write_walkin_contact(ctx: LoadContext, email: str) -> str | None:
    """A requester known only by an email (a walk-in, a placeholder, the test contact)."""
    cleaned = clean_email(email)
    if cleaned is None:
        return None
    email = cleaned
    external_id = f"{ctx.mmap.platform}:email:{email}"

    async def send() -> tuple[str, str]:
        created = await ctx.client.contacts.create(ContactCreate(role="user", external_id=external_id, email=email))
        return created.id, "adopted" if created.existing and not created.earlier_attempt_in_doubt else "created"

    async def find() -> str | None:
        found = await ctx.client.contacts.find_by_external_id(external_id)
        return found.id if found else None

    written = await ctx.write(kind="walkin_contact", key=email.casefold(), obj="(email)", send=send, find=find)
    if written.ok and written.intercom_id:
        ctx.journal.settle("contact_email", email.casefold(), "done", "", ctx.phase, object="(email)",
                           intercom_id=written.intercom_id, outcome="matched")
    return written.intercom_id if written.ok else None


# -- articles and custom objects -------------------------------------------------------


async def write_article(ctx: LoadContext, resolver: Resolver, obj: str, record: Record) -> Written:
    m = mapped(ctx, obj, record)
    key = jkey(obj, record.key)
    if not m.ok:
        return reject(ctx, "article", obj, record, m.rejected or "", m.rejected_code)
    s = m.standard
    author = resolver.admin(m, "author") or ctx.acting_admin
    collection = await resolver.collection(m)
    if m.references.get("collection") and collection is None:
        ctx.event("warning", f"{obj} {record.key}: its category was not migrated; placed at the top level")
    body = ArticleCreate(
        title=str(s["title"]), author_id=int(author), body=s.get("body"), description=s.get("description"),
        state=s.get("state") or "draft", parent_id=int(collection) if collection else None,
        parent_type="collection" if collection else None,
    )

    async def send() -> tuple[str, str]:
        article = await ctx.client.articles.create(body)
        return article.id, "created"

    async def find() -> str | None:
        async for article in ctx.client.articles.list():
            if article.title == body.title and (article.parent_id or None) == body.parent_id:
                return article.id
        return None

    return await ctx.write(kind="article", key=key, obj=obj, send=send, find=find, payload_hash=semantic_hash(m),
                           label=ctx.label(obj, record))


async def write_custom_object(ctx: LoadContext, obj: str, record: Record, object_type: str) -> Written:
    m = mapped(ctx, obj, record)
    key = jkey(obj, record.key)
    if not m.ok:
        return reject(ctx, "custom_object", obj, record, m.rejected or "", m.rejected_code)
    body = CustomObjectUpsert(
        external_id=m.source_id, external_created_at=m.standard.get("external_created_at"),
        external_updated_at=m.standard.get("external_updated_at"),
        custom_attributes=await ctx.attribute_values(f"custom_object:{object_type}", m.attributes),
    )

    async def send() -> tuple[str, str]:
        instance = await ctx.client.custom_objects.upsert(object_type, body)
        return instance.id, "created"

    async def find() -> str | None:
        found = await ctx.client.custom_objects.find_by_external_id(object_type, m.source_id)
        return found.id if found else None

    return await ctx.write(kind="custom_object", key=key, obj=obj, send=send, find=find, payload_hash=semantic_hash(m),
                           label=ctx.label(obj, record))


# -- supplementary CSVs ---------------------------------------------------------------


class CsvSink:
    """One CSV per object with no home in Intercom (and the rebuild inventory's rows),
    written as every report is (`CsvReport`: masked row by row, in place of an earlier
    one only once complete). Its columns are the first row's."""

    def __init__(self, ctx: LoadContext, obj: str) -> None:
        self.path = ctx.reports_dir / "supplementary" / f"{obj}.csv"
        self._report: CsvReport | None = None
        self._fields: list[str] = []

    def write(self, m: MappedRecord, record: Record) -> None:
        row = {"source_key": record.key, **(m.columns or {k: v for k, v in record.data.items()})}
        if self._report is None:
            self._fields = list(row)
            self._report = CsvReport(self.path, self._fields)
        self._report.row([row.get(name) for name in self._fields])

    def close(self, complete: bool = True) -> None:
        """`complete`: every record was written (an earlier run's file is replaced);
        otherwise what was written is dropped and the earlier file stays."""
        if self._report is None:
            if complete:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_bytes(b"")  # no rows: an empty file, not an earlier run's
        elif complete:
            self._report.done()
        else:
            self._report.discard()


def write_csv_row(ctx: LoadContext, sink: CsvSink, obj: str, record: Record) -> Written:
    m = mapped(ctx, obj, record)
    sink.write(m, record)
    ctx.journal.settle("csv_row", jkey(obj, record.key), "done", "", ctx.phase, object=obj,
                       intercom_id=None, outcome="created")
    return Written("done", None, "created")
