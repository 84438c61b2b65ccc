"""Loading one ticket as one Intercom conversation, with full fidelity and at most once.

The order of writes for a conversation: create it from the requester with the original
`created_at`; add each message and note in time order as an admin comment, a contact
reply or an admin note with its own `created_at` and up to 10 attachments (more files,
and text over the body limit, continue in further notes, never dropped); then tags,
attributes (title, custom attributes, company), assignment and the final state.

Every write is journaled. Conversations and parts have no idempotency key in Intercom,
so an in-flight one is found again by reading back (the contact's conversations at that
second; the conversation's parts at that time with that text) before anything is sent
twice. Threads over 500 parts are split into linked conversations or have their oldest
parts summarised in notes, as the map says.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import PurePath
from typing import Any

from connectors.base import AttachmentRef, Record
from connectors.intercom.models import (
    AdminReply,
    AttachmentFile,
    ContactReply,
    Conversation,
    ConversationAnswer,
    ConversationCreate,
    ConversationUpdate,
)
from connectors.intercom.errors import NotFound, SentRequest, WriteInDoubt
from helpmig_tui.audit import MAX_ATTACHMENTS, MAX_PARTS, RESTRICTED_EXTENSIONS, is_junk_file
from helpmig_tui.mapping.apply import MappedRecord
from helpmig_tui.mapping.html_text import html_to_text
from helpmig_tui.mapping.standard import PRIORITY_LEVELS
from helpmig_tui.mapping.transforms import Flag
from helpmig_tui.pipeline import text as texts
from helpmig_tui.pipeline.context import LOOKUP, LoadContext, Lookup, ObjectProgress, Written
from helpmig_tui.pipeline.journal import Entry, payload_hash
from helpmig_tui.pipeline.records import mapped, reject, semantic_hash
from helpmig_tui.pipeline.requesters import take_fallback
from helpmig_tui.pipeline.resolver import Resolver, jkey
from helpmig_tui.pipeline.watch import doing

LONG_CHAIN = 50  # replies: a thread this long is followed by the live ETA (its calls go one by one)
CHAIN_EXTRA = 4  # a followed thread's calls besides its replies: the update, team, admin, close
MAX_FILE_BYTES = texts.MAX_FILE_BYTES
OPENING = "part.opening"  # the code of the part row whose message opened its conversation
PRIORITY_TAG = "Priority: "  # the tag that carries a conversation's priority (API 2.16 cannot write it)
_TAGS = re.compile(r"<[^>]+>")
_CID = re.compile(r'<img src="cid:([^"]+)">')  # as the sanitizer leaves an inline image
# the journal kinds a conversation writes under its own key (parent_key)
CHILD_KINDS = ("part", "part_segment", "conversation_tag", "conversation_update", "conversation_team",
               "conversation_assignee", "conversation_state")


def conversation_tags(m: MappedRecord) -> list[str]:
    """The tags a conversation carries: the map's, and its priority as a tag where the map
    targets Intercom's priority, which API 2.16 returns but offers no way to write."""
    tags = list(m.tags)
    priority = str(m.standard.get("priority") or "").strip().casefold()
    if priority in PRIORITY_LEVELS and priority != "none":
        tags.append(f"{PRIORITY_TAG}{priority}")
    return tags


def wanted_state(m: MappedRecord) -> str:
    """Open or closed, as the source says (a snooze needs a time the source does not give)."""
    return "closed" if m.standard.get("state") == "closed" else "open"


def opens_at(created_at: int, message_times: list[int]) -> int:
    """When a conversation opens: its ticket's time, or its first message's when that is
    earlier (validation holds Intercom to the same rule)."""
    dated = [t for t in message_times if t]
    return min([created_at, *dated])


def _key_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


def _plain(body: str | None) -> str:
    """A body as compared on read-back: tags and spacing ignored."""
    return " ".join(_TAGS.sub(" ", body or "").split())


@dataclass
class Part:
    obj: str
    record: Record
    m: MappedRecord

    @property
    def key(self) -> str:
        return jkey(self.obj, self.record.key)

    @property
    def created_at(self) -> int:
        return int(self.m.standard.get("created_at") or 0)


@dataclass
class Reply:
    """One reply to send: a part's first piece, or a continuation note."""

    kind: str  # part | part_segment
    key: str
    part: Part | None
    message: AdminReply | ContactReply
    target: int  # which conversation of a split thread it goes to (0 = the first)
    seq: int = 0
    # inline images (cid: -> file name) and the key of the note that carries their files
    inline: dict[str, str] = field(default_factory=dict)
    inline_note: str | None = None


@dataclass
class Thread:
    """The conversation's writes in order, decided before anything is sent."""

    body: str
    source_part: Part | None  # the part used as the conversation's opening message
    replies: list[Reply] = field(default_factory=list)
    summarised: list[Part] = field(default_factory=list)  # parts folded into summary notes


GONE = "intercom_gone"  # the journal's kind for a ticket whose conversation was deleted in Intercom


class ConversationGone(Exception):
    """A conversation an earlier run made is no longer in Intercom (deleted there since)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(conversation_id)
        self.conversation_id = conversation_id


class ConversationJob:
    """One conversation, start to finish. `entry` is the journal's row for it when the
    loader has read it with its batch (None: there is none)."""

    def __init__(self, ctx: LoadContext, resolver: Resolver, obj: str, record: Record,
                 parts: dict[str, list[Record]], trackers: dict[str, ObjectProgress],
                 entry: Entry | None | Lookup = LOOKUP) -> None:
        self.ctx = ctx
        self.resolver = resolver
        self.obj = obj
        self.record = record
        self.parts = parts
        self.trackers = trackers
        self.key = jkey(obj, record.key)
        self.label = ctx.label(obj, record)  # the ticket's number, for its rows and its messages' rows
        self.options = ctx.mmap.object_map(obj).options  # type: ignore[union-attr]
        self.ids: list[str] = []  # the conversation ids: [main, continuation 2, ...]
        self._claimed: set[str] = set()  # part ids the journal already gives to a row
        self._read: dict[str, Conversation] = {}  # conversations read whole in this job
        # Intercom's latest word on a conversation's state and assignees: read, or answered to a
        # write (a customer's reply reopens a closed conversation)
        self._word: dict[str, Conversation | ConversationAnswer] = {}
        self._entry = entry
        self._known: dict[tuple[str, str], Entry] = {}  # the journal's rows under this conversation
        self._complete = True  # every write final so far: a resume has nothing to do here
        self._floor: dict[str, int] = {}  # conversation id -> the time of its last part (replies never go before)
        self._synced: set[str] = set()  # conversations whose every part this job knows (made in this run, or read)
        self._clamped = 0  # replies dated before the part before them, placed at its time
        self._content_ids: dict[int, str] = {}  # id() of a file read for this job -> its Content-ID
        self._refs: dict[int, list[AttachmentRef]] = {}  # id() of a record -> its files, looked up together
        self.tally: Counter[tuple[str, str]] = Counter()  # what the job counted: (object, counter) -> n
        self._existed = False  # the conversation was in Intercom before this job
        self._wrote = False  # this job made a write (a delta's conversation then counts as updated)
        self._opening_id: str | None = None  # the id of the message that opened the conversation
        self._written: dict[str, str] = {}  # reply key -> the part id it got
        self._parts: list[Part] = []  # the thread's parts, each counted once whatever becomes of the job
        self._counted: set[str] = set()  # keys of the parts counted so far
        self.state_changes: list[str] = []  # what a delta changed on a conversation it found in Intercom

    # -- helpers ---------------------------------------------------------------------

    async def _write(self, **write: Any) -> Written:
        written = await self.ctx.write(**write)
        if not written.ok:
            self._complete = False
        elif written.status == "done" or written.this_run:
            self._wrote = True
        return written

    def _known_entry(self, kind: str, key: str) -> Entry | None:
        return self._known.get((kind, key))

    def _count_part(self, part: Part, written: Written) -> None:
        self._counted.add(part.key)
        self.ctx.count(self.trackers[part.obj], written, tally=self.tally)

    def _settle_parts(self, parts: list[Part], status: str, reason: str, code: str | None) -> None:
        for part in parts:
            self.ctx.journal.settle("part", part.key, status, reason, self.ctx.phase, object=part.obj,
                                    parent_key=self.key, code=code, label=self.label)
            self._count_part(part, Written(status, reason=reason, code=code))

    async def _read_back(self, conversation_id: str, fresh: bool = False) -> Conversation:
        """The conversation as Intercom has it: read once per job, or again when `fresh`."""
        if fresh or conversation_id not in self._read:
            try:
                found = await self.ctx.client.conversations.get(conversation_id)
            except NotFound:
                raise ConversationGone(conversation_id) from None
            self._read[conversation_id] = self._word[conversation_id] = found
        return self._read[conversation_id]

    # -- the run ---------------------------------------------------------------------

    async def run(self) -> Written:
        """The conversation's outcome; it is marked finished when every write came out
        final, so that a resume skips it (and reopened when not, in case it was)."""
        try:
            written = await self._run()
        except ConversationGone as gone:
            written = self._gone(gone.conversation_id)
        if written.ok and self._existed and self.ctx.options.delta:
            # a delta's verdict on a conversation it found in Intercom: updated when it wrote
            # to it (in this run, resumed or not), unchanged when not
            written = Written("done", written.intercom_id, "updated") if self._wrote else \
                Written("already", written.intercom_id, "updated")
        if written.ok and self._complete:
            self.ctx.journal.finished(self.key, self.ctx.phase, object=self.obj, intercom_id=written.intercom_id,
                                      outcome=written.outcome)
        else:
            self.ctx.journal.reopen(self.key)
        return written

    def _gone(self, conversation_id: str) -> Written:
        """The ticket fails, named, and so do its messages not counted yet: nothing is
        written into a conversation someone deleted, and the run goes on."""
        reason = (f"its conversation {conversation_id} is no longer in Intercom (deleted there after an earlier "
                  "run made it); roll this record back, or delete it from the journal, to load it again")
        self.ctx.event("warning", f"{self.obj} {self.label or self.record.key}: {reason}")
        self.ctx.journal.settle(GONE, self.key, "failed", reason, self.ctx.phase, object=self.obj,
                                code="intercom.gone", label=self.label)  # named in the report; its writes kept
        for part in self._parts:
            if part.key not in self._counted:
                self._count_part(part, Written("failed", reason=f"its ticket failed: {reason}", code="intercom.gone"))
        return Written("failed", reason=reason, code="intercom.gone")

    async def _run(self) -> Written:
        ctx = self.ctx
        m = self._m = mapped(ctx, self.obj, self.record)
        if take_fallback(m, self.resolver.fallback_contact) and m.ok:
            ctx.note_flags(self.obj, self.record, m.flags)  # not counted while it was rejected
        parts, rejected = self._mapped_parts()
        parts, rejected = await self._keep_attachment_only(parts, rejected)
        self._parts = [*parts, *rejected]
        if m.missing == ["created_at"]:
            self._date_from_thread(m, parts)
        elif m.ok:
            self._open_no_later_than_its_messages(m, parts)
        for part in rejected:
            written = reject(ctx, "part", part.obj, part.record, part.m.rejected or "", part.m.rejected_code,
                             label=self.label, parent_key=self.key)
            self._count_part(part, written)
        if not m.ok:
            self._settle_parts(parts, "rejected", f"its conversation was rejected: {m.rejected}", m.rejected_code)
            return reject(ctx, "conversation", self.obj, self.record, m.rejected or "", m.rejected_code)
        contact_id = await self.resolver.contact(m)
        if contact_id is None:
            who = m.references.get("contact") or m.references.get("placeholder_contact") or "none"
            why, code = self.resolver.contact_failure(m)
            reason = f"the requester ({who}) is not in Intercom: {why}"
            self._settle_parts(parts, "rejected", f"its conversation was rejected: {reason}", code)
            return reject(ctx, "conversation", self.obj, self.record, reason, code)
        if isinstance(self._entry, Lookup):
            self._entry = ctx.journal.get("conversation", self.key)
        first_time = self._entry is None  # then nothing under it was begun either
        self._existed = (self._entry is not None and self._entry.status == "done"
                         and self._entry.run_id != ctx.runlog.run_id)  # made before this run
        if not first_time:
            self._known = ctx.journal.children(self.key, CHILD_KINDS)
        exists = self._entry is not None and self._entry.status in ("done", "in_flight")
        thread = await self._plan(m, parts, exists)
        if thread.source_part is not None and not exists:
            # said before the create: a crash after it must not send this message again as a reply
            ctx.journal.settle("part", thread.source_part.key, "pending", "opens its conversation (being created)",
                               ctx.phase, object=thread.source_part.obj, parent_key=self.key, code=OPENING,
                               label=self.label)
        created = await self._create(m, contact_id, thread.body)
        if not created.ok:
            reason = f"waiting for its conversation ({created.status}: {created.reason})"
            waiting = parts if thread.source_part is None else [thread.source_part, *parts]
            status = "rejected" if created.status == "rejected" else "failed"
            self._settle_parts(waiting, status, reason, created.code if status == "rejected" else "conversation.waiting")
            return created
        self.ids = [created.intercom_id or ""]
        if first_time:
            self._floor[self.ids[0]] = int(m.standard["created_at"])
            self._synced.add(self.ids[0])
        self._claimed = {e.intercom_id for (kind, _), e in self._known.items()
                         if kind in ("part", "part_segment") and e.status == "done" and e.intercom_id}
        if thread.source_part is not None:
            written = await self._source_part_done(thread.source_part)
            self._count_part(thread.source_part, written)
        chain = len(thread.replies) >= LONG_CHAIN
        if chain:  # the phase's live ETA follows it
            ctx.eta.chain_started(self.key, len(thread.replies) + CHAIN_EXTRA)
        try:
            await self._replies(thread, contact_id, chain)
            for part in thread.summarised:  # after the replies: their summary note is written by then
                self._count_part(part, self._summarised_done(part, self._known_entry("part", part.key)))
            if self._clamped:
                ctx.event("info", f"{self.obj} {self.record.key}: {self._clamped} messages dated before the message "
                                  "or ticket before them were placed at its time (Intercom keeps parts in time order)")
            await self._finish(m)
        finally:
            ctx.eta.chain_done(self.key)
        return created

    async def _replies(self, thread: Thread, contact_id: str, chain: bool) -> None:
        for index, reply in enumerate(thread.replies):
            conversation_id = await self._conversation_for(reply.target, contact_id, reply)
            if conversation_id is None:
                self._hold_back(thread.replies[index:])
                return
            if reply.inline:
                reply.message = await self._point_at_uploads(conversation_id, reply)
            written = await self._reply(conversation_id, reply, self._known_entry(reply.kind, reply.key))
            if written.ok and written.intercom_id:
                self._written[reply.key] = written.intercom_id
            if reply.part is not None and reply.kind == "part":
                self._count_part(reply.part, written)
            if chain:
                self.ctx.eta.chain_step(self.key)

    def _hold_back(self, replies: list[Reply]) -> None:
        """A split thread whose next conversation could not be made: its replies from there
        on wait, journaled with the reason (a later part must not overtake them, and a
        resume writes them in order once the continuation exists)."""
        reason = "waiting for the continuation of its split thread, which Intercom did not create in this run"
        for reply in replies:
            entry = self._known_entry(reply.kind, reply.key)
            if entry is not None and entry.status == "done":
                written = Written("already", entry.intercom_id, entry.outcome)
            else:
                self.ctx.journal.settle(reply.kind, reply.key, "failed", reason, self.ctx.phase,
                                        object=reply.part.obj if reply.part else self.obj, parent_key=self.key,
                                        seq=reply.seq, code="conversation.waiting", label=self.label)
                written = Written("failed", reason=reason, code="conversation.waiting")
            if reply.part is not None and reply.kind == "part":
                self._count_part(reply.part, written)
        self._complete = False

    def _mapped_parts(self) -> tuple[list[Part], list[Part]]:
        """The thread in time order; a part with no date of its own takes the date of the
        part before it in the source (flagged), instead of being lost."""
        good, bad = [], []
        order = {name: i for i, name in enumerate(self.parts)}
        undated: list[Part] = []
        for obj, records in self.parts.items():
            for record in records:
                part = Part(obj, record, mapped(self.ctx, obj, record))
                if part.m.missing == ["created_at"]:
                    undated.append(part)
                else:
                    (good if part.m.ok else bad).append(part)
        good.sort(key=lambda p: (p.created_at, order[p.obj], p.record.key))
        for part in undated:
            before = [p for p in good if p.obj == part.obj and _key_order(p.record.key) < _key_order(part.record.key)]
            part.m.standard["created_at"] = before[-1].created_at if before else (good[0].created_at if good else 0)
            self._accept_filled(part.m, part.record, "created_at",
                                "no date in the source: placed after the message before it")
            good.append(part)
        good.sort(key=lambda p: (p.created_at, order[p.obj], p.record.key))
        return good, bad

    async def _keep_attachment_only(self, parts: list[Part], rejected: list[Part]) -> tuple[list[Part], list[Part]]:
        """A message with no text but with files is its files, not a rejection: it keeps its
        place in the thread (the files are the message)."""
        kept = []
        for part in rejected:
            files = [r for r in await self.ctx.reader.attachments(part.obj, part.record) if not is_junk_file(r.name)]
            if part.m.missing == ["body"] and files:
                part.m.rejected, part.m.rejected_code, part.m.missing = None, None, []
                part.m.flags.append(Flag("body", "body.attachment_only", "no text: the message is its files"))
                self.ctx.note_flags(part.obj, part.record, part.m.flags)  # not counted while it was rejected
                kept.append(part)
        if not kept:
            return parts, rejected
        still = [p for p in rejected if p not in kept]
        return sorted(parts + kept, key=lambda p: (p.created_at, list(self.parts).index(p.obj), p.record.key)), still

    def _date_from_thread(self, m: MappedRecord, parts: list[Part]) -> None:
        """A ticket with no creation date opens when its first message was written."""
        dated = [p.created_at for p in parts if p.created_at]
        if dated:
            m.standard["created_at"] = min(dated)
            self._accept_filled(m, self.record, "created_at",
                                "no creation date in the source: the first message's date is used")

    def _open_no_later_than_its_messages(self, m: MappedRecord, parts: list[Part]) -> None:
        """A ticket dated after its first message (a wrong or an import date) opens when that
        message was written: Intercom keeps parts in time order, and the other way round every
        message would be moved to the ticket's date."""
        opened = opens_at(int(m.standard["created_at"]), [p.created_at for p in parts])
        if opened != m.standard["created_at"]:
            m.standard["created_at"] = opened
            m.flags.append(Flag("created_at", "date.after_first_message", "opened at its first message"))
            self.ctx.note_flags(m.object, self.record, m.flags[-1:])
            self.ctx.event("info", f"{m.object} {self.label or m.key}: dated after its first message; the "
                                   "conversation opens when that message was written")

    def _accept_filled(self, m: MappedRecord, record: Record, name: str, message: str) -> None:
        m.rejected, m.missing = None, []
        m.flags.append(Flag(name, "date.filled", message))
        self.ctx.note_flags(m.object, record, m.flags)  # not counted while it was rejected
        self.ctx.event("info", f"{m.object} {m.key}: {message}")

    # -- planning the thread ------------------------------------------------------------

    def _opening(self, m: MappedRecord, parts: list[Part], exists: bool) -> Part | None:
        """The part whose message opens the conversation. Before it exists: the first part
        when the ticket has no text of its own. Once it exists, only the part that did open
        it (its row says so): any other part, even the first one the source now holds (a
        ticket loaded with no message, or with its only message rejected), is a reply."""
        if not exists:
            return parts[0] if parts and not m.standard.get("body") else None
        for part in parts:
            row = self._known_entry("part", part.key)
            if row is not None and (row.code == OPENING or (  # rows written before the code existed
                    row.status == "done" and self._entry is not None and row.intercom_id == self._entry.intercom_id)):
                return part
        return None

    async def _plan(self, m: MappedRecord, parts: list[Part], exists: bool) -> Thread:
        records = [self.record, *(p.record for p in parts)]  # their files in one turn of the source's thread
        objects = [self.obj, *(p.obj for p in parts)]
        found = await self.ctx.reader.attachments_of(list(zip(objects, records)))
        self._refs = {id(record): refs for record, refs in zip(records, found)}
        body = m.standard.get("body")
        source_part = self._opening(m, parts, exists)
        if source_part is not None:
            parts.remove(source_part)
            body = html_to_text(str(source_part.m.standard.get("body") or ""))  # a part's body is HTML; this is text
        body = body or m.standard.get("title") or "(no message text in the source)"
        text, repairs = texts.repair(str(body))
        full = (source_part.m if source_part is not None else m).full.get("body")
        opening, replies = self._body_pieces(self.key, source_part, text, full, int(m.standard["created_at"]),
                                             html=False)
        thread = Thread(body=opening, source_part=source_part)
        if source_part is not None:
            replies += await self._file_notes(source_part, source_part.key, source_part.created_at, first_group=0)
        replies += await self._file_notes(None, self.key, int(m.standard["created_at"]), first_group=1)
        for part in parts:
            replies += await self._part_replies(part)
        if repairs:
            self.ctx.event("info", f"{self.obj} {self.record.key}: {', '.join(repairs)}")
        # the opening message is part one; assignment and close add parts after the replies
        budget = MAX_PARTS - 1 - self._state_parts(m)
        if len(replies) > budget:
            if (self.options.parts_over_500 or "split") == "summarise":
                replies, thread.summarised = self._summarise(replies, budget, int(m.standard["created_at"]))
            else:
                for i, reply in enumerate(replies):  # continuations hold MAX_PARTS - 1 replies each
                    reply.target = 0 if i < budget else 1 + (i - budget) // (MAX_PARTS - 1)
        thread.replies = replies
        return thread

    def _state_parts(self, m: MappedRecord) -> int:
        """The parts `_finish` adds to the first conversation: team, assignee, close."""
        return (bool(self.resolver.team(m)) + bool(self.resolver.admin(m, "assignee"))
                + (m.standard.get("state") == "closed"))

    def _note(self, key: str, part: Part | None, body: str, created_at: int,
              files: list[AttachmentFile] | None = None) -> Reply:
        return Reply("part_segment", key, part,
                     AdminReply(admin_id=self.ctx.acting_admin, message_type="note", body=body,
                                created_at=created_at, attachment_files=files or None), 0)

    async def _part_replies(self, part: Part) -> list[Reply]:
        pm = part.m
        text, repairs = texts.repair(str(pm.standard.get("body") or ""))
        first, continued = self._body_pieces(part.key, part, text, pm.full.get("body"), part.created_at, html=True)
        files = await self._files(part.obj, part.record)
        inline, files = self._inline_images(part, first, files)
        groups = [files[i: i + MAX_ATTACHMENTS] for i in range(0, len(files), MAX_ATTACHMENTS)] or [[]]
        message = await self._message(part, first or ("(attachment)" if files else "(empty message)"), groups[0])
        replies = []
        if inline:  # the images go first, so the message can show them from where Intercom keeps them
            images = list({id(f): f for f in inline.values()}.values())
            replies.append(self._note(f"{part.key}#inline", part, "Images shown in the next message",
                                      part.created_at, images[:MAX_ATTACHMENTS]))
        replies.append(Reply("part", part.key, part, message, 0, inline={cid: f.name for cid, f in inline.items()},
                             inline_note=f"{part.key}#inline" if inline else None))
        replies += continued
        for n, group in enumerate(groups[1:], start=1):
            replies.append(self._note(f"{part.key}#files{n}", part, "Attachments (continued)", part.created_at, group))
        if repairs:
            self.ctx.event("info", f"{part.obj} {part.record.key}: {', '.join(repairs)}")
        return replies

    def _body_pieces(self, key: str, part: Part | None, text: str, full: str | None, created_at: int, *,
                     html: bool) -> tuple[str, list[Reply]]:
        """A body as its message's text and the notes after it: split over parts where it fits
        in a few; else its beginning, and the full text (`full`: the source's whole value when
        it was too long to map whole) attached as files on notes, one file each."""
        if full is None and not texts.too_long(text):
            first, *rest = texts.chunks(text) if text else [""]
            return first, [self._note(f"{key}#text{n}", part, piece, created_at) for n, piece in enumerate(rest, 1)]
        obj, record = (part.obj, part.record) if part is not None else (self.obj, self.record)
        whole = full if full is not None else text
        doing(f"preparing {obj} {record.key}'s body of {len(whole):,} characters as a file")
        files = texts.full_text_files(f"{obj}-{record.key}", whole)
        names = [name for name, _, _ in files]
        notes = [self._note(f"{key}#fulltext{n}", part, "Full text of the message" + (
            f" ({n} of {len(files)})" if len(files) > 1 else ""), created_at,
            [AttachmentFile.from_bytes(name, content_type, data)]) for n, (name, content_type, data) in
            enumerate(files, 1)]
        said = f"{len(whole):,} characters: its beginning in the message, the full text attached as {', '.join(names)}"
        self.ctx.note_flags(obj, record, [Flag("body", "body.attached_as_file", said)])
        self.ctx.event("info", f"{obj} {record.key} (of {self.obj} {self.label or self.record.key}): {said}")
        return texts.opening(text, names, len(whole), html=html), notes

    async def _file_notes(self, part: Part | None, key: str, created_at: int, first_group: int) -> list[Reply]:
        record = part.record if part else self.record
        obj = part.obj if part else self.obj
        files = await self._files(obj, record)
        groups = [files[i: i + MAX_ATTACHMENTS] for i in range(0, len(files), MAX_ATTACHMENTS)]
        return [self._note(f"{key}#files{n}", part, "Attachments", created_at, group)
                for n, group in enumerate(groups, start=first_group)]

    def _inline_images(self, part: Part, body: str, files: list[AttachmentFile]
                       ) -> tuple[dict[str, AttachmentFile], list[AttachmentFile]]:
        """The message's inline images (`cid:` references, by the file's Content-ID where the
        source keeps it, else its name before the @), and its other files. A reference no
        file answers is said and counted."""
        inline: dict[str, AttachmentFile] = {}
        by_name = {f.name.casefold(): f for f in files}
        by_cid = {self._content_ids[id(f)]: f for f in files if id(f) in self._content_ids}
        for cid in dict.fromkeys(_CID.findall(body)):
            folded = cid.casefold()
            found = by_cid.get(folded) or by_name.get(folded.split("@", 1)[0]) or by_name.get(folded)
            if found is not None and len(inline) < MAX_ATTACHMENTS:
                inline[cid] = found
            else:
                self.ctx.note_flags(part.obj, part.record, [Flag("body", "body.inline_image_missing",
                                                                 f"inline image {cid} has no file in the source")])
        taken = {id(f) for f in inline.values()}
        return inline, [f for f in files if id(f) not in taken]

    async def _point_at_uploads(self, conversation_id: str, reply: Reply) -> AdminReply | ContactReply:
        """The message with each `cid:` reference pointing at its file as Intercom keeps
        it (the note before it carries the files); one Intercom does not show is named."""
        note_id = self._written.get(reply.inline_note or "")
        urls: dict[str, str] = {}
        if note_id:
            for fresh in (False, True):
                conversation = await self._read_back(conversation_id, fresh=fresh)
                parts = conversation.conversation_parts.conversation_parts if conversation.conversation_parts else []
                note = next((p for p in parts if p.id == note_id), None)
                if note is not None:
                    urls = {a.name: a.url for a in note.attachments if a.name and a.url}
                    break
        body = reply.message.body
        for cid, name in reply.inline.items():
            url = urls.get(name)
            if url:
                body = body.replace(f"cid:{cid}", escape(url, quote=True))
            else:
                body = re.sub(rf'<img src="cid:{re.escape(cid)}">', f"[image: {escape(name)}]", body)
        body = re.sub(r'<img src="cid:[^"]*">', "", body)  # references no file answered
        return reply.message.model_copy(update={"body": body})

    async def _message(self, part: Part, body: str, files: list[AttachmentFile]) -> AdminReply | ContactReply:
        pm = part.m
        direction = pm.standard.get("direction")
        author = await self.resolver.author(pm)
        if direction is None:
            default = self.ctx.mmap.object_map(part.obj).options.part_type  # type: ignore[union-attr]
            direction = "note" if default == "note" else ("agent" if author and author[0] == "admin" else "customer")
        admin_id = author[1] if author and author[0] == "admin" else self.ctx.acting_admin
        if direction == "note":
            return AdminReply(admin_id=admin_id, message_type="note", body=body, created_at=part.created_at,
                              attachment_files=files or None)
        if direction == "agent":
            return AdminReply(admin_id=admin_id, message_type="comment", body=body, created_at=part.created_at,
                              attachment_files=files or None, skip_notifications=True)
        contact_id = author[1] if author and author[0] == "contact" else await self.resolver.contact(
            self._m)
        return ContactReply(intercom_user_id=contact_id, body=body, created_at=part.created_at,
                            attachment_files=files or None)


    async def _files(self, obj: str, record: Record) -> list[AttachmentFile]:
        """The record's attachments that Intercom can take; the others are reported (with the
        audit's codes for their class)."""
        out = []
        refs = self._refs.pop(id(record), None)
        for ref in refs if refs is not None else await self.ctx.reader.attachments(obj, record):
            problem, code = self._file_problem(ref)
            if problem is None:
                try:
                    data = await self.ctx.reader.read(ref, MAX_FILE_BYTES)
                except Exception as exc:  # a share gone, a 404 from a REST source: this file only
                    data, problem, code = b"", f"could not be read: {exc}", "attachment.unreadable"
                if problem is not None:
                    pass
                elif data is None:
                    problem, code = f"over {MAX_FILE_BYTES // 2**20} MB", "attachment.too_large"
                elif not data:
                    problem, code = "empty", "attachment.empty"
                else:
                    file = AttachmentFile.from_bytes(ref.name, ref.content_type or "application/octet-stream", data)
                    if ref.content_id:
                        self._content_ids[id(file)] = ref.content_id.strip("<> ").casefold()
                    out.append(file)
                    continue
            self.ctx.journal.settle("attachment", f"{jkey(obj, record.key)}/{ref.name}", "skipped",
                                    f"{ref.name}: {problem}", self.ctx.phase, object=obj, parent_key=self.key,
                                    code=code, label=self.label)
        return out

    @staticmethod
    def _file_problem(ref: AttachmentRef) -> tuple[str | None, str | None]:
        if is_junk_file(ref.name):
            return "a system file (Thumbs.db, desktop.ini, .DS_Store, ...), not an attachment", "attachment.junk"
        if PurePath(ref.name.lower()).suffix in RESTRICTED_EXTENSIONS:
            return "a file type Intercom refuses", "attachment.restricted_type"
        if not ref.exists:
            return f"missing at {ref.location or 'the attachments folder'}", "attachment.missing"
        if ref.size == 0:
            return "empty", "attachment.empty"
        return None, None

    def _summarise(self, replies: list[Reply], budget: int, created_at: int) -> tuple[list[Reply], list[Part]]:
        """Fold the oldest replies into summary notes so the thread fits in 500 parts."""
        lines = []
        keep = budget - 1
        folded, kept = replies[: len(replies) - keep], replies[len(replies) - keep:]
        parts = []
        for reply in folded:
            when = reply.message.created_at or created_at
            lines.append(f"[{when}] {reply.message.body}")
            if reply.part is not None and reply.kind == "part":
                parts.append(reply.part)
        summary = texts.chunks("Earlier messages (summarised to fit Intercom's 500 parts):\n" + "\n".join(lines))
        notes = [self._note(f"{self.key}#summary{n}", None, piece, created_at) for n, piece in enumerate(summary)]
        return notes + kept, parts

    # -- writing -----------------------------------------------------------------------

    async def _create(self, m: MappedRecord, contact_id: str, body: str) -> Written:
        created_at = int(m.standard["created_at"])
        request = ConversationCreate.model_validate(
            {"from": {"type": "user", "id": contact_id}, "body": body, "created_at": created_at}
        )

        async def send() -> tuple[str, str]:
            created = await self.ctx.client.conversations.create(request)
            self._opening_id = created.id  # the message: the conversation's source
            return created.conversation_id, "created"

        async def find() -> str | None:
            found = await self.ctx.client.conversations.find_by_contact_and_created_at(contact_id, created_at)
            opening = _plain(body)[:80]
            for conversation in found:
                if _plain(conversation.source.body if conversation.source else "").startswith(opening):
                    self._opening_id = conversation.source.id if conversation.source else None
                    return conversation.id
            return None

        return await self._write(kind="conversation", key=self.key, obj=self.obj, send=send, find=find,
                                 payload_hash=semantic_hash(m), entry=self._entry, lag=self.ctx.options.search_lag,
                                 label=self.label)

    async def _source_part_done(self, part: Part) -> Written:
        """The opening message is the conversation's source: its row gets the source's own
        id (read back once when an earlier run created the conversation)."""
        entry = self._known_entry("part", part.key)
        if entry is not None and entry.status == "done":
            return self.ctx.already(entry)
        if self._opening_id is None:
            found = await self._read_back(self.ids[0])
            self._opening_id = found.source.id if found.source else None
        if not self._opening_id:
            self._complete = False  # no id to give it yet: it stays pending, said so
            return Written("in_doubt", reason="the conversation's opening message was not found in Intercom",
                           code="intercom.in_doubt")
        self.ctx.journal.settle("part", part.key, "done", "", self.ctx.phase, object=part.obj, parent_key=self.key,
                                intercom_id=self._opening_id, outcome="created", code=OPENING, label=self.label)
        return Written("done", self._opening_id, "created")

    def _summarised_done(self, part: Part, entry: Entry | None) -> Written:
        """A part folded into the summary notes points at the first of them (pending until it
        is written)."""
        if entry is not None and entry.status == "done":
            return self.ctx.already(entry)
        note = self._written.get(f"{self.key}#summary0")
        if note is None:
            self.ctx.journal.settle("part", part.key, "pending", "folded into a summary note not written yet",
                                    self.ctx.phase, object=part.obj, parent_key=self.key, label=self.label)
            return Written("failed", reason="its summary note was not written", code="conversation.waiting")
        self.ctx.journal.settle("part", part.key, "done", "folded into a summary note", self.ctx.phase,
                                object=part.obj, parent_key=self.key, intercom_id=note, outcome="created",
                                label=self.label)
        return Written("done", note, "created")

    async def _conversation_for(self, target: int, contact_id: str, reply: Reply) -> str | None:
        """The conversation a reply goes to; continuations of a split thread start here."""
        while len(self.ids) <= target:
            n = len(self.ids) + 1
            body = f"(continued from the conversation {self.ids[0]}, source {self.obj} {self.record.key}: part {n})"
            created_at = reply.message.created_at or 0
            request = ConversationCreate.model_validate(
                {"from": {"type": "user", "id": contact_id}, "body": body, "created_at": created_at}
            )

            async def send(request: ConversationCreate = request) -> tuple[str, str]:
                created = await self.ctx.client.conversations.create(request)
                return created.conversation_id, "created"

            async def find(created_at: int = created_at, body: str = body) -> str | None:
                for c in await self.ctx.client.conversations.find_by_contact_and_created_at(contact_id, created_at):
                    if _plain(c.source.body if c.source else "").startswith(_plain(body)[:60]):
                        return c.id
                return None

            written = await self._write(kind="conversation_segment", key=f"{self.key}#{n}", obj=self.obj,
                                        send=send, find=find, lag=self.ctx.options.search_lag)
            if not written.ok:
                return None
            self.ids.append(written.intercom_id or "")
            if written.status == "done":
                self._floor[self.ids[-1]] = created_at
                self._synced.add(self.ids[-1])
        return self.ids[target]

    async def _floor_of(self, conversation_id: str) -> int:
        """The time of the conversation's last part: read back once when an earlier run wrote
        to it (its state parts carry the time they were written)."""
        floor = self._floor.get(conversation_id, 0)
        if conversation_id not in self._synced:
            found = await self._read_back(conversation_id, fresh=True)
            floor = max([floor, found.created_at or 0, *(p.created_at or 0 for p in found.parts)])
            self._synced.add(conversation_id)
        return floor

    async def _in_order(self, conversation_id: str, reply: Reply, entry: Entry | None) -> None:
        """Date the reply no earlier than the part before it (Intercom refuses a reply dated
        before the conversation's last part)."""
        message = reply.message
        done = entry is not None and entry.status == "done"
        floor = self._floor.get(conversation_id, 0) if done else await self._floor_of(conversation_id)
        if message.created_at is not None and message.created_at < floor:
            message.created_at = floor
            self._clamped += reply.kind == "part"
        self._floor[conversation_id] = max(floor, message.created_at or floor)

    async def _reply(self, conversation_id: str, reply: Reply, entry: Entry | None) -> Written:
        message = reply.message
        await self._in_order(conversation_id, reply, entry)
        wanted = _plain(message.body)[:80]

        async def send() -> tuple[str, str]:
            conversation = await self.ctx.client.conversations.reply(conversation_id, message)
            self._word[conversation_id] = conversation
            found = self._match_part(conversation, message.created_at, wanted) or self._newest_unclaimed(conversation)
            if found is None:
                raise WriteInDoubt(SentRequest("conversations.reply", "POST", f"/conversations/{conversation_id}/reply"),
                                  "the new part is not in the answer")
            return found, "created"

        async def find() -> str | None:
            conversation = await self._read_back(conversation_id, fresh=True)
            return self._match_part(conversation, message.created_at, wanted)

        written = await self._write(kind=reply.kind, key=reply.key, obj=reply.part.obj if reply.part else self.obj,
                                    send=send, find=find, parent_key=self.key, seq=reply.seq, entry=entry,
                                    label=self.label)
        if written.intercom_id:
            self._claimed.add(written.intercom_id)
        return written

    def _newest_unclaimed(self, conversation: ConversationAnswer) -> str | None:
        """The answer's newest written part no journal row owns (Intercom appends the reply)."""
        for part in reversed(conversation.parts):
            if part.id not in self._claimed and part.part_type in ("comment", "note"):
                return part.id
        return None

    def _match_part(self, conversation: Conversation | ConversationAnswer, created_at: int | None,
                    body: str) -> str | None:
        """The newest part with this time and text that no other journal row owns (long
        bodies continue in notes that may read alike)."""
        for part in reversed(conversation.parts):
            if part.id not in self._claimed and part.created_at == created_at and _plain(part.body).startswith(body):
                return part.id
        return None

    async def _finish(self, m: MappedRecord) -> None:
        """Tags, attributes, company, then team, assignee and state, each kept in step with
        the source: a delta reopens, closes, re-assigns, adds and takes off tags, and closes
        again a conversation Intercom reopened when a customer's reply was appended."""
        ctx, conversation_id = self.ctx, self.ids[0]
        await self._keep_tags(m, conversation_id)
        company_id = await self.resolver.company(m) if "company" in m.references else None
        title = m.standard.get("title")
        values = await ctx.attribute_values("conversation", m.attributes)
        if title or values or company_id:
            update = ConversationUpdate(title=str(title) if title else None, custom_attributes=values,
                                        company_id=company_id)

            async def put() -> tuple[str, str]:
                self._word[conversation_id] = await ctx.client.conversations.update(conversation_id, update)
                return conversation_id, "updated"

            digest = semantic_hash(m)
            entry = self._known_entry("conversation_update", self.key)
            changed = ctx.options.delta and entry is not None and entry.payload_hash != digest
            await self._write(kind="conversation_update", key=self.key, obj=self.obj, send=put, payload_hash=digest,
                              entry=entry, redo=changed, parent_key=self.key)
        team_id = self.resolver.team(m)
        if team_id or "team" not in m.references:
            await self._keep("conversation_team", str(team_id) if team_id else None,
                             lambda to: ctx.client.conversations.assign(conversation_id, ctx.acting_admin, to or "0",
                                                                        to_team=True),
                             lambda c, to: str(c.team_assignee_id or "") == (to or ""))
        assignee = self.resolver.admin(m, "assignee")
        if assignee or "assignee" not in m.references:
            await self._keep("conversation_assignee", str(assignee) if assignee else None,
                             lambda to: ctx.client.conversations.assign(conversation_id, ctx.acting_admin, to or "0"),
                             lambda c, to: str(c.admin_assignee_id or "") == (to or ""))
        else:
            ctx.event("warning", f"{self.obj} {self.record.key}: agent {m.references['assignee']!r} has no Intercom "
                                 "admin; left unassigned")
            self._complete = False  # a resume assigns it once the agent is matched
        await self._keep("conversation_state", wanted_state(m),
                         lambda to: ctx.client.conversations.close(conversation_id, ctx.acting_admin) if to == "closed"
                         else ctx.client.conversations.open(conversation_id, ctx.acting_admin),
                         lambda c, to: (c.state == "closed") == (to == "closed"))

    async def _keep(self, kind: str, wanted: str | None, action: Any, applied: Any) -> Written | None:
        """Team, assignee or state as the source wants it (`wanted`; None: unassigned). Its
        row remembers the value last applied; it is applied again when the source changed
        it, or when Intercom's own answer in this job shows otherwise (a customer's reply
        reopens a closed conversation). A new conversation is open and unassigned already."""
        conversation_id = self.ids[0]
        entry = self._known_entry(kind, self.key)
        stamp = payload_hash([kind, wanted])
        seen = self._word.get(conversation_id)  # Intercom's own word, read or answered in this job
        drifted = seen is not None and not applied(seen, wanted)
        if entry is None:
            default = wanted in (None, "open")
            if default and not (self._existed and drifted):
                return None
        elif entry.status == "done":
            same = entry.payload_hash == stamp or (entry.payload_hash is None and wanted not in (None, "open"))
            if same and not drifted:
                return self.ctx.already(entry)

        async def send() -> tuple[str, str]:
            self._word[conversation_id] = await action(wanted)
            return conversation_id, "created"

        async def find() -> str | None:
            return conversation_id if applied(await self._read_back(conversation_id, fresh=True), wanted) else None

        written = await self._write(kind=kind, key=self.key, obj=self.obj, send=send, find=find, parent_key=self.key,
                                    payload_hash=stamp, entry=entry, redo=entry is not None and entry.status == "done")
        if written.status == "done" and self._existed:
            self.state_changes.append(_CHANGE_WORDS[kind](wanted))
        return written

    async def _keep_tags(self, m: MappedRecord, conversation_id: str) -> None:
        """The tags the source gives it are on it; those this project put on and the source
        no longer gives (a priority changed, a tag removed) are taken off. Tags others put
        on are never touched."""
        ctx = self.ctx
        wanted = {name.casefold(): name for name in conversation_tags(m)}
        for folded, name in wanted.items():
            tag_id = await self.resolver.tag(name)
            if tag_id is None:
                ctx.event("warning", f"{self.obj} {self.record.key}: tag {name!r} could not be created")
                self._complete = False
                continue

            async def tag(tag_id: str = tag_id) -> tuple[str, str]:
                await ctx.client.tags.tag_conversation(conversation_id, tag_id, ctx.acting_admin)
                return tag_id, "created"

            tag_key = f"{self.key}#{folded}"
            written = await self._write(kind="conversation_tag", key=tag_key, obj=self.obj, send=tag,
                                        parent_key=self.key, entry=self._known_entry("conversation_tag", tag_key))
            if written.status == "done" and self._existed:
                self.state_changes.append("tagged")
        for (kind, key), entry in self._known.items():
            if kind != "conversation_tag" or entry.status != "done" or not entry.intercom_id:
                continue
            if key[len(self.key) + 1:] in wanted:
                continue
            try:
                await ctx.client.tags.untag_conversation(conversation_id, entry.intercom_id, ctx.acting_admin)
            except NotFound:
                pass  # the tag or its use is gone already
            ctx.journal.mark_rolled_back(kind, key)
            self._wrote = True
            self.state_changes.append("untagged")


_CHANGE_WORDS = {
    "conversation_state": lambda to: "closed" if to == "closed" else "reopened",
    "conversation_assignee": lambda to: "re-assigned" if to else "unassigned",
    "conversation_team": lambda to: "moved to another team" if to else "taken off its team",
}
