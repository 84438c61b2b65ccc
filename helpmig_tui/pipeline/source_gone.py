"""Records gone from the source during the migration window, and what the operator chose.

A delta looks for every ticket, customer and organization the project put in Intercom
that the source no longer holds: deleted, marked spam, merged (whatever reason the
source gives for leaving a record out of its default read), or no longer there at all.
Each is listed and handled as the operator chose (`LoadOptions.gone`):

- leave: kept in Intercom, listed with its reason;
- close: a conversation is closed; a contact archived (hidden, reversible); a company,
  which Intercom cannot close, is left;
- delete: a conversation or contact is deleted; a company archived (what Intercom's delete
  does). A contact with conversations in Intercom is archived instead: deleting it would
  delete them.

Only what this project created is closed or deleted; a record it found in Intercom (an
adopted contact) is left, said so. Each decision is journaled (kind `source_gone`) and
made once; a record with no decision waits for the operator (counted as queued), so the
delta is not clean until every one has one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select

from connectors.intercom.errors import IntercomError, NotFound
from connectors.intercom.models import where
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.context import LoadContext, Written
from helpmig_tui.pipeline.journal import Entry, entry_of
from helpmig_tui.pipeline.prepare import objects_of
from helpmig_tui.pipeline.records import SKIP_REASONS
from helpmig_tui.pipeline.rollback import dependents_gone
from helpmig_tui.state.models import JournalEntry

KIND = "source_gone"
CHOICES = ("leave", "close", "delete")
# the records a delta checks, by what they became in Intercom
GONE_KINDS: tuple[tuple[TargetKind, str], ...] = (
    (TargetKind.CONVERSATION, "conversation"), (TargetKind.CONTACT, "contact"), (TargetKind.COMPANY, "company"))
BATCH = 500


async def gone_phase(ctx: LoadContext) -> None:
    """The delta's last phase: find, list and handle what left the source."""
    for target, kind in GONE_KINDS:
        for obj in objects_of(ctx.mmap, target):
            tracker = ctx.tracker(obj, None)
            reasons = await _skip_reasons(ctx, obj)
            async for batch in _in_intercom(ctx, kind, obj):
                keys = [entry.source_key.split(":", 1)[1] for entry in batch]
                present = {r.key for r in await ctx.reader.get(obj, keys)}
                for entry, key in zip(batch, keys, strict=True):
                    if key in present and key not in reasons:
                        continue
                    tracker.read += 1
                    why = SKIP_REASONS.get(reasons[key], reasons[key].replace("_", " ")) if key in reasons \
                        else "no longer in the source"
                    code = f"source.gone_{reasons.get(key, 'missing')}"
                    ctx.count(tracker, await _handle(ctx, kind, obj, entry, why, code))
                    ctx.tick()
            ctx.tick(force=True)


async def _skip_reasons(ctx: LoadContext, obj: str) -> dict[str, str]:
    """key -> why the source's default read leaves it out now (deleted, spam, merged, ...)."""
    out: dict[str, str] = {}
    async for reason, batch in ctx.reader.skipped(obj):
        out.update((item.key, reason) for item in batch)
    return out


async def _in_intercom(ctx: LoadContext, kind: str, obj: str) -> AsyncIterator[list[Entry]]:
    """The rows of `obj` whose record is in Intercom through this project (merged records,
    which are another record's contact, excepted), in batches."""
    last = ""
    while True:
        query = (select(JournalEntry).where(JournalEntry.kind == kind, JournalEntry.object == obj,
                                            JournalEntry.status == "done", JournalEntry.intercom_id.is_not(None),
                                            JournalEntry.source_key > last)
                 .order_by(JournalEntry.source_key).limit(BATCH))
        with ctx.store.engine.connect() as conn:
            rows = [entry_of(row) for row in conn.execute(query)]
        if not rows:
            return
        last = rows[-1].source_key
        batch = [r for r in rows if r.outcome != "matched"]
        if batch:
            yield batch


async def _handle(ctx: LoadContext, kind: str, obj: str, entry: Entry, why: str, code: str) -> Written:
    journal = ctx.journal
    decided = journal.get(KIND, entry.source_key)
    if decided is not None and decided.status in ("done", "skipped"):
        return ctx.already(decided)  # decided by an earlier delta (or an interrupted try of this one)
    choice = ctx.options.gone
    label = entry.label
    if choice is None:
        reason = (f"{why}; still in Intercom: waiting for the operator's choice (helpmig delta P --deleted "
                  "leave|close|delete)")
        journal.settle(KIND, entry.source_key, "pending", reason, ctx.phase, object=obj, code=code, label=label,
                       intercom_id=entry.intercom_id)
        return Written("queued", reason=reason, code=code)
    ours = entry.created_id is not None
    action = _action(kind, choice) if ours else None
    if action is None:
        whose = "" if ours else " (it was in Intercom before the migration: never closed or deleted by helpmig)"
        reason = f"{why}; left in Intercom as the operator chose{whose}" if ours or choice == "leave" else \
            f"{why}; left in Intercom{whose}"
        journal.settle(KIND, entry.source_key, "skipped", reason, ctx.phase, object=obj, code=code, label=label,
                       intercom_id=entry.intercom_id, outcome="left")
        return Written("skipped", entry.intercom_id, reason=reason, code=code)
    try:
        outcome, what = await action(ctx, entry)
    except IntercomError as exc:
        reason = f"{why}; could not be handled ({choice}): {exc}"
        journal.settle(KIND, entry.source_key, "failed", reason, ctx.phase, object=obj, code="intercom.failed",
                       label=label, intercom_id=entry.intercom_id)
        return Written("failed", reason=reason, code="intercom.failed")
    if outcome in ("deleted", "archived") and kind != "contact" or outcome == "deleted":
        # gone as a rollback would have it gone (an archived contact stays the rollback's to delete)
        journal.mark_rolled_back(entry.kind, entry.source_key)
        journal.flush()
        dependents_gone(ctx.store, entry)
    journal.settle(KIND, entry.source_key, "done", f"{why}; {what}", ctx.phase, object=obj, code=code, label=label,
                   intercom_id=entry.intercom_id, outcome=outcome)
    ctx.event("info", f"{obj} {label or entry.source_key}: {why}; {what}")
    return Written("done", entry.intercom_id, "updated")


def _action(kind: str, choice: str):  # type: ignore[no-untyped-def]
    """What the choice does to this kind (None: it is left)."""
    if choice == "leave":
        return None
    return {
        ("conversation", "close"): _close_conversation,
        ("conversation", "delete"): _delete_conversation,
        ("contact", "close"): _archive_contact,
        ("contact", "delete"): _delete_contact,
        ("company", "delete"): _archive_company,
    }.get((kind, choice))


async def _close_conversation(ctx: LoadContext, entry: Entry) -> tuple[str, str]:
    found = await ctx.client.conversations.get(entry.intercom_id or "")
    if found.state != "closed":
        await ctx.client.conversations.close(found.id, ctx.acting_admin)
    return "closed", "closed in Intercom as the operator chose"


async def _delete_conversation(ctx: LoadContext, entry: Entry) -> tuple[str, str]:
    for segment in _segments(ctx, entry):  # a split thread goes whole
        try:
            await ctx.client.conversations.delete(segment.intercom_id or "")
        except NotFound:
            pass
        ctx.journal.mark_rolled_back(segment.kind, segment.source_key)
    try:
        await ctx.client.conversations.delete(entry.intercom_id or "")
    except NotFound:
        pass
    return "deleted", "deleted from Intercom as the operator chose"


def _segments(ctx: LoadContext, entry: Entry) -> list[Entry]:
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(select(JournalEntry).where(
            JournalEntry.kind == "conversation_segment", JournalEntry.source_key.startswith(entry.source_key + "#"),
            JournalEntry.status == "done"))
        return [entry_of(row) for row in rows]


async def _archive_contact(ctx: LoadContext, entry: Entry) -> tuple[str, str]:
    await ctx.client.contacts.archive(entry.intercom_id or "")
    return "archived", "archived in Intercom (hidden, reversible) as the operator chose"


async def _delete_contact(ctx: LoadContext, entry: Entry) -> tuple[str, str]:
    contact_id = entry.intercom_id or ""
    async for _ in ctx.client.conversations.search(where("contact_ids", "=", contact_id), per_page=1):
        await ctx.client.contacts.archive(contact_id)
        return "archived", "archived, not deleted: it has conversations in Intercom, which deleting it would delete"
    try:
        await ctx.client.contacts.delete(contact_id)
    except NotFound:
        pass
    return "deleted", "deleted from Intercom as the operator chose"


async def _archive_company(ctx: LoadContext, entry: Entry) -> tuple[str, str]:
    try:
        await ctx.client.companies.delete(entry.intercom_id or "")
    except NotFound:
        pass
    return "archived", "archived in Intercom (Intercom's delete of a company) as the operator chose"
