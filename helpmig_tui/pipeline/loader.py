"""The load: phases in dependency order, each closed by a reconciliation report and a gate.

match → schema → companies → contacts → conversations → articles → custom objects →
supplementary CSVs. A phase with failures, writes in doubt, agents waiting for a match or
records not accounted for stops the run until the operator accepts it (or fixes and
resumes); rejected and skipped records are explained by their reasons and do not stop it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from connectors.base import Capability, Record
from connectors.intercom import prioritized
from connectors.intercom.errors import NotFound
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.context import LoadContext, LoadOptions, ObjectProgress, Written
from helpmig_tui.pipeline.conversations import CHAIN_EXTRA, GONE, ConversationJob
from helpmig_tui.pipeline.journal import Entry, Outcome, Settled
from helpmig_tui.pipeline.prepare import Resolutions, match_phase, objects_of, schema_phase
from helpmig_tui.pipeline.records import (
    CsvSink,
    count_skipped,
    reject,
    earlier,
    finished_records,
    for_each_record,
    left_out_by_map,
    write_article,
    write_company,
    write_contact,
    write_csv_row,
    write_custom_object,
)
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.pipeline.report import PhaseReport, build_report, from_kept, kept, write_report
from helpmig_tui.pipeline.resolver import Directory, Resolver, jkey, orphan_reason
from helpmig_tui.pipeline.resume import Batch, ResumePoint, final

if TYPE_CHECKING:
    from helpmig_tui.mapping.model import MigrationMap
    from helpmig_tui.pipeline.delta_report import DeltaSummary

LONG_THREAD = 50  # parts of one kind: a thread this long is started before the others

PHASES = ("match", "schema", "companies", "contacts", "conversations", "articles", "custom_objects", "supplementary")
DELTA_PHASES = (*PHASES, "deletions")  # a delta also handles what left the source during the window
PHASE_LABELS = {
    "match": "match admins and teams",
    "schema": "attributes, tags, collections",
    "companies": "companies",
    "contacts": "contacts",
    "conversations": "conversations",
    "articles": "articles",
    "custom_objects": "custom objects",
    "supplementary": "supplementary CSVs",
    "deletions": "records gone from the source",
}
# the journal kinds each phase writes (the reports and the rollback read them)
PHASE_KINDS: dict[str, tuple[str, ...]] = {
    "match": ("admin", "team"),
    "schema": ("data_attribute", "conversation_attribute", "tag", "collection"),
    "companies": ("company", "company_name"),
    "contacts": ("contact", "contact_email", "contact_company", "contact_tag", "walkin_contact"),
    "conversations": ("conversation", "conversation_segment", "part", "part_segment", "attachment",
                      "conversation_tag", "conversation_update", "conversation_team", "conversation_assignee",
                      "conversation_state", GONE),
    "articles": ("article",),
    "custom_objects": ("custom_object",),
    "supplementary": ("csv_row",),
    "deletions": ("source_gone",),
}


@dataclass
class LoadResult:
    status: str  # done | gated | cancelled | failed
    reports: list[PhaseReport] = field(default_factory=list)
    message: str = ""
    delta: DeltaSummary | None = None  # a delta's: what this run found and did

    @property
    def clean(self) -> bool:
        """Every phase ran and came out clean: nothing failed, in doubt, queued, unaccounted
        for, or rejected beyond what the audit foresaw (a phase accepted with --yes is not)."""
        return self.status == "done" and all(r.clean for r in self.reports)

    def problems(self) -> list[str]:
        """What keeps the run from being clean, phase by phase."""
        out = [f"{r.phase}: {p}" for r in self.reports for p in r.problems]
        if self.status != "done" and self.message:
            out.insert(0, self.message)
        return out


async def thread_sizes(reader: SourceReader, parts: list[str], over: int = LONG_THREAD) -> Counter[str]:
    """Conversation key -> its parts, for threads with more than `over` parts of one kind.
    Only where the source counts in SQL (elsewhere counting means reading every part once
    more): empty otherwise."""
    sizes: Counter[str] = Counter()
    if Capability.PUSHDOWN_PROFILE not in reader.source.capabilities:
        return sizes
    for part in parts:
        sizes.update(await reader.collect(("child_counts", part, over), lambda part=part: reader.source.child_counts(
            part, over=over)))
    return sizes


def count_threads_ahead(reader: SourceReader, mmap: MigrationMap, options: LoadOptions) -> None:
    """Queue the long-thread counts of the conversations phase (`thread_sizes`) in the
    source's thread at a load's start: a GROUP BY over every message, which the source's
    database works through while the match, schema, companies and contacts phases run."""
    if options.sample is not None or options.since is not None \
            or Capability.PUSHDOWN_PROFILE not in reader.source.capabilities:
        return
    for conv in objects_of(mmap, TargetKind.CONVERSATION):
        for part in (o.object for o in mmap.active_objects() if o.target is TargetKind.PART and o.parent == conv):
            reader.ahead(("child_counts", part, LONG_THREAD), lambda part=part: reader.source.child_counts(
                part, over=LONG_THREAD))


@dataclass
class _Conversations:
    """One conversation object in the conversations phase: its counters, its resume point,
    its long threads and its conversations in flight."""

    conv: str
    parts: list[str]
    tracker: ObjectProgress
    trackers: dict[str, ObjectProgress]
    point: ResumePoint
    after: str | None  # the resume point's key: the source is read after it
    long: list[Record] = field(default_factory=list)
    running: set[asyncio.Task[None]] = field(default_factory=set)


class Loader:
    def __init__(self, ctx: LoadContext, resolver: Resolver, directory: Directory,
                 totals: dict[str, int | None]) -> None:
        self.ctx = ctx
        self.resolver = resolver
        self.directory = directory
        self.totals = totals
        self.long_keys: set[str] = set()  # conversations (journal keys) started first, their calls first at the pacer
        self.sizes: dict[str, Counter[str]] = {}  # conversation object -> its long threads' parts
        self.phases: dict[str, Callable[[], Awaitable[None]]] = {
            "match": lambda: match_phase(ctx, directory, totals),
            "schema": lambda: schema_phase(ctx, resolver, totals),
            "companies": lambda: self._records(TargetKind.COMPANY, lambda obj, r: write_company(ctx, obj, r),
                                               resumable=True),
            "contacts": lambda: self._records(TargetKind.CONTACT, lambda obj, r: write_contact(ctx, resolver, obj, r),
                                              resumable=True),
            "conversations": self._conversations,
            "articles": lambda: self._records(TargetKind.ARTICLE, lambda obj, r: write_article(ctx, resolver, obj, r)),
            "custom_objects": self._custom_objects,
            "supplementary": self._supplementary,
            "deletions": self._deletions,
        }

    async def run(self, phases: tuple[str, ...] = PHASES) -> LoadResult:
        result = LoadResult("done")
        inputs = self._inputs()
        finished = self._finished_before(phases, inputs)
        for name in phases:
            if name in finished:
                report = finished[name]
                result.reports.append(report)
                self.ctx.event("info", f"phase {name}: finished before the run was interrupted: {report.summary()}")
                self.ctx.observer.phase_finished(report)
                continue
            self.ctx.phase = name
            self.ctx.eta.phase_started(self.ctx.client.metrics().requests, name)
            self.ctx.runlog.update_phase(name, status="running")
            self.ctx.event("info", f"phase {name} ({PHASE_LABELS[name]}) started")
            await self.phases[name]()
            self.ctx.eta.phase_settled()  # what follows is the phase's bookkeeping (the live ETA measures it)
            self.ctx.journal.flush()
            report = build_report(self.ctx, name)
            path = write_report(self.ctx, report)
            result.reports.append(report)
            accepted = not report.clean and self.ctx.options.accept_gates
            status = "done" if report.clean else "accepted" if accepted else "failed"
            self.ctx.runlog.update_phase(name, status=status, counts=report.totals(), report_path=str(path),
                                         accepted_note="accepted with --yes" if accepted else "",
                                         report=kept(report, inputs) if report.clean else None)
            self.ctx.event("info" if report.clean else "warning", f"phase {name}: {report.summary()}")
            self.ctx.eta.phase_finished()
            self.ctx.observer.phase_finished(report)
            if not report.clean and not accepted:
                result.status = "gated"
                result.message = f"phase {name} has unexplained differences: {report.summary()} (see {path})"
                break
        return result

    def _inputs(self) -> str:
        """What a phase's outcome depends on besides the journal and the source: the map, the
        operator's decisions (agents and groups matched, the fallbacks) and the workspace's
        teammates and teams (an agent the fallback admin stood in for is matched once
        invited; the API makes neither, so a load never changes them), and a sample run's
        size and test contact."""
        decisions = asdict(Resolutions.load(self.ctx.store))
        directory = [sorted((a.id, a.email or "", a.name or "") for a in self.directory.admins),
                     sorted((t.id, t.name or "") for t in self.directory.teams)]
        run = [self.ctx.options.sample, self.ctx.options.test_contact]  # a sample resumed at another size
        return hashlib.sha256(json.dumps([self.ctx.map_hash, decisions, directory, run], sort_keys=True,
                                         default=str).encode()).hexdigest()

    def _finished_before(self, phases: tuple[str, ...], inputs: str) -> dict[str, PhaseReport]:
        """The phases this run finished clean before it was interrupted, from the first on,
        with the reports they kept: a resume goes on after them rather than walking them
        again. Not when the operator names the phases, when the map, a decision or the
        teammates changed since (`inputs`), after a rollback (what they wrote may be gone),
        nor the schema phase while the workspace lacks an attribute it made (archived or
        gone since: the later phases would send values to it)."""
        runlog = self.ctx.runlog
        if self.ctx.options.phases is not None or runlog.rolled_back_since():
            return {}
        states = {p.name: p for p in runlog.phases()}
        out: dict[str, PhaseReport] = {}
        for name in phases:
            state = states.get(name)
            if state is None or state.status != "done" or not state.report or state.report.get("inputs") != inputs:
                break
            if name == "schema" and self.ctx.book.writes_left():
                break
            try:
                report = from_kept(self.ctx, name, state.report)
            except (KeyError, TypeError, ValueError):  # kept by a helpmig whose reports differ: walked again
                break
            if not report.clean:  # not by this run's rules (a stricter threshold, a new audit): walked again
                break
            out[name] = report
        return out

    # -- phases ----------------------------------------------------------------------

    async def _records(self, target: TargetKind, write: Callable[[str, Record], Awaitable[Written]],
                       resumable: bool = False) -> None:
        for obj in objects_of(self.ctx.mmap, target):
            await for_each_record(self.ctx, obj, lambda r, obj=obj: write(obj, r), self.totals.get(obj),
                                  resumable=resumable)

    async def _conversations(self) -> None:
        """Every conversation object in one pass: the long threads of all of them start with
        the phase (longest first), then each object's conversations in the source's order,
        at most `concurrency` in flight across the objects. An object's orphan messages and
        skipped records are counted once its own conversations are settled, while the next
        object loads, from its first conversations started (a resume's first calls do not
        wait behind the source's reads for the count)."""
        ctx = self.ctx
        queued = len(ctx.journal.reasons(("admin",), ("pending",), limit=1_000_000))  # on the status index
        if queued:
            ctx.event("warning", f"{queued} agents have no Intercom admin: their replies are written by the "
                                 "acting admin until they are matched")
        convs = objects_of(ctx.mmap, TargetKind.CONVERSATION)
        parts_of = {conv: [o.object for o in ctx.mmap.active_objects() if o.target is TargetKind.PART
                           and o.parent == conv] for conv in convs}
        await self._expect_chains(convs, parts_of)
        loads = [self._conversation_object(conv, parts_of[conv]) for conv in convs]
        slots = asyncio.Semaphore(ctx.options.concurrency)
        async with asyncio.TaskGroup() as group:
            for load in await self._long_threads(loads):
                for start in range(0, len(load.long), 100):
                    await self._start(load, load.long[start:start + 100], None, slots, group)
            closing: list[_Conversations] = []  # read out, closed once the next object's first jobs started
            for load in loads:
                async for batch, last_key in self._threads(load):
                    if await self._start(load, batch, last_key, slots, group) and closing:
                        group.create_task(self._close(closing.pop()))
                if closing:
                    group.create_task(self._close(closing.pop()))
                closing.append(load)
            for load in closing:
                group.create_task(self._close(load))

    def _conversation_object(self, conv: str, parts: list[str]) -> _Conversations:
        ctx = self.ctx
        tracker = ctx.tracker(conv, self._limited(conv))
        trackers = {p: ctx.tracker(p, None if ctx.options.sample else self.totals.get(p)) for p in parts}
        point = ResumePoint(ctx, conv)
        return _Conversations(conv, parts, tracker, trackers, point, point.start({conv: tracker, **trackers}))

    async def _start(self, load: _Conversations, batch: list[Record], last_key: str | None,
                     slots: asyncio.Semaphore, group: asyncio.TaskGroup) -> int:
        """Start the batch's conversations (a slot each); those an earlier run finished are
        counted from the journal. Returns how many were started."""
        ctx, conv, parts = self.ctx, load.conv, load.parts
        finished = finished_records(ctx, [jkey(conv, r.key) for r in batch])
        todo = [r for r in batch if jkey(conv, r.key) not in finished]
        ordered = load.point.batch([r.key for r in batch], last_key) if last_key is not None else None
        if finished:
            tally = self._count_finished(load.tracker, load.trackers, finished)
            load.point.settled(ordered, tally, True, len(finished))
        if not todo:
            return 0
        keys = [r.key for r in todo]
        children = {p: await ctx.reader.children(p, keys) for p in parts}
        entries = ctx.journal.entries("conversation", [jkey(conv, k) for k in keys])
        for record in todo:
            load.tracker.read += 1
            mine = {p: children[p].get(record.key, []) for p in parts}
            for p, found in mine.items():
                load.trackers[p].read += len(found)
            await slots.acquire()
            task = group.create_task(self._one(load, record, mine, entries.get(jkey(conv, record.key)), ordered,
                                               slots))
            load.running.add(task)
            task.add_done_callback(load.running.discard)
            await asyncio.sleep(0)  # its first step (mapping, its files asked for) before the next job is made:
            # the first jobs then go on as their files come, rather than behind every started job's first step
        return len(todo)

    async def _one(self, load: _Conversations, record: Record, children: dict[str, list[Record]],
                   entry: Entry | None, ordered: Batch | None, slots: asyncio.Semaphore) -> None:
        ctx, conv, tracker = self.ctx, load.conv, load.tracker
        written = Written("failed")
        job = ConversationJob(ctx, self.resolver, conv, record, children, load.trackers, entry)
        job.tally.update({(conv, "read"): 1, **{(p, "read"): len(found) for p, found in children.items()}})
        try:
            skipped = left_out_by_map(ctx, conv, record)
            if skipped is not None:
                written = skipped
                self._skip_parts(conv, record, children, load.trackers, skipped, job.tally)
                ctx.count(tracker, skipped, tally=job.tally)
                return
            size = sum(len(found) for found in children.values())
            what = f"{conv} {'#' + job.label if job.label else record.key} with {size:,} messages"
            with prioritized(jkey(conv, record.key) in self.long_keys), \
                    ctx.long_thread(job.key, what) if size > LONG_THREAD else nullcontext():
                written = await ctx.watched(conv, record, job.run())
            ctx.count(tracker, written, tally=job.tally)
            if job.state_changes:
                tracker.state_changes += len(job.state_changes)
                ctx.changed_state(conv, record, job.state_changes)
        finally:
            slots.release()
            ctx.eta.chain_done(jkey(conv, record.key))  # expected, and ended whatever became of it
            finished = ctx.journal.was_finished(jkey(conv, record.key))
            load.point.settled(ordered, job.tally, final(written.status, written.code, finished))
            ctx.tick()

    async def _close(self, load: _Conversations) -> None:
        """Once the object's conversations are settled: its orphan messages, and the records
        the source's scope leaves out."""
        ctx = self.ctx
        while load.running:
            await asyncio.wait(set(load.running))
        if ctx.options.sample is None and ctx.options.since is None:
            for part in load.parts:
                await self._orphans(part, load.trackers[part])
        for obj, counted in ((load.conv, load.tracker), *load.trackers.items()):
            await count_skipped(ctx, obj, counted)
        ctx.tick(force=True)

    def _skip_parts(self, conv: str, record: Record, children: dict[str, list[Record]],
                    trackers: dict[str, ObjectProgress], skipped: Written,
                    tally: Counter[tuple[str, str]]) -> None:
        """The messages of a ticket the map leaves out go with it, under its code."""
        label = self.ctx.label(conv, record)
        for obj, found in children.items():
            self.ctx.journal.settle_many([Settled("part", jkey(obj, r.key), "skipped", f"its ticket is left out: "
                                                  f"{skipped.reason}", skipped.code, label, jkey(conv, record.key),
                                                  object=obj) for r in found], self.ctx.phase)
            self.ctx.count(trackers[obj], skipped, len(found), tally=tally)

    async def _threads(self, load: _Conversations) -> AsyncIterator[tuple[list[Record], str | None]]:
        """The object's conversations in batches in the source's order, but for its long
        threads (started with the phase), each with the last key of the source's batch it
        came in. From the object's resume point, when it has one."""
        ctx, conv = self.ctx, load.conv
        first = {r.key for r in load.long}
        seen: set[str] = set()
        async for batch in ctx.reader.batches(conv, since=ctx.options.since, batch_size=100,
                                              limit=ctx.options.sample, after=load.after):
            rest = [r for r in batch if r.key not in first]
            if ctx.options.since is not None:
                seen.update(r.key for r in rest)
            yield rest, batch[-1].key  # an empty one too: the resume point moves past it
        if ctx.options.since is not None:  # a new message on a ticket the source did not mark changed
            keys = sorted(await self._with_new_parts(load.parts) - seen)
            for start in range(0, len(keys), 100):
                found = await ctx.reader.get(conv, keys[start:start + 100])
                if found:
                    yield found, None

    async def _with_new_parts(self, parts: list[str]) -> set[str]:
        """The conversations that have a part written or changed since the delta's reference
        time: a source need not touch a ticket's updated-at when a message is added to it
        (parts with no date are all read, so every conversation with parts is looked at)."""
        keys: set[str] = set()
        for part in parts:
            async for batch in self.ctx.reader.batches(part, since=self.ctx.options.since, batch_size=1000):
                keys.update(r.parent_key for r in batch if r.parent_key)
        return keys

    async def _expect_chains(self, convs: list[str], parts_of: dict[str, list[str]]) -> None:
        """Count the long threads of every conversation object before the first starts, and
        tell the live ETA: they all start with the phase."""
        ctx = self.ctx
        if ctx.options.sample is not None or ctx.options.since is not None:
            return
        for conv in convs:
            self.sizes[conv] = sizes = await thread_sizes(ctx.reader, parts_of[conv])
            finished = finished_records(ctx, [jkey(conv, key) for key in sizes])
            for key, size in sizes.items():
                if jkey(conv, key) not in finished:
                    ctx.eta.chain_expected(jkey(conv, key), size + CHAIN_EXTRA)

    async def _long_threads(self, loads: list[_Conversations]) -> list[_Conversations]:
        """Each object's conversations with more than LONG_THREAD parts of one kind, longest
        first (`load.long`); returns the objects that have any, the one with the longest
        thread first. A thread is a chain of calls that cannot overlap (its parts must land
        in order): a 500-message ticket is a minute at Intercom's latency, and left to its
        place in the source order, or to its object's turn, it can trail the whole phase at
        a fraction of the allowed rate. Only where the source counts in SQL (elsewhere
        counting means reading every part once more), and not in a sample or a delta, which
        keep the source order."""
        ctx = self.ctx
        longest: dict[str, int] = {}
        for load in loads:
            sizes = self.sizes.get(load.conv)  # counted by _expect_chains
            if not sizes:
                continue
            order = [key for key, _ in sizes.most_common()]
            found = {r.key: r for r in await ctx.reader.get(load.conv, order)}
            load.long = [found[key] for key in order if key in found]
            self.long_keys.update(jkey(load.conv, r.key) for r in load.long)
            if load.long:
                longest[load.conv] = sizes[load.long[0].key]
        return sorted((load for load in loads if load.conv in longest), key=lambda load: -longest[load.conv])

    def _count_finished(self, tracker: ObjectProgress, trackers: dict[str, ObjectProgress],
                        finished: dict[str, Outcome]) -> Counter[tuple[str, str]]:
        """Count conversations an earlier run finished, and their parts, as the journal
        has them: neither is read from the source again (a message added to the source
        since is the delta's to load). Returns what was counted."""
        tally: Counter[tuple[str, str]] = Counter()
        for obj, outcome, n in self.ctx.journal.tally("part", finished):
            if obj in trackers:
                trackers[obj].read += n
                tally[(obj, "read")] += n
                self.ctx.count(trackers[obj], earlier(outcome), n, tally=tally)
        for marker in finished.values():
            tracker.read += 1
            tally[(tracker.object, "read")] += 1
            self.ctx.count(tracker, earlier(marker), tally=tally)
        self.ctx.tick()
        return tally

    async def _orphans(self, part: str, tracker: ObjectProgress) -> None:
        """Parts whose conversation is not in the source: rejected with that reason, so the
        part counts add up to what the source holds. The pass reads every part once; when
        an earlier run of this load finished it, a resume counts its rejections from the
        journal instead, and one stopped half-way goes on after its own resume point (the
        part object's: the parts of a million tickets are not read again)."""
        ctx = self.ctx
        done = f"{part}#orphans"  # not a record's key: those all have a colon
        if finished_records(ctx, [done]):
            for outcome, n in ctx.journal.orphans(part):
                tracker.read += n
                ctx.count(tracker, earlier(outcome), n)
            return
        conversation = ctx.mmap.object_map(part).parent  # type: ignore[union-attr]
        point = ResumePoint(ctx, part)
        async for batch in ctx.reader.batches(part, batch_size=500, after=point.start({part: tracker})):
            ordered = point.batch([r.key for r in batch])
            known = ctx.journal.entries("part", [jkey(part, r.key) for r in batch])
            unknown = [r for r in batch if jkey(part, r.key) not in known]
            parents = {r.parent_key for r in unknown if r.parent_key}
            present = {r.key for r in await ctx.reader.get(conversation, sorted(parents))} if parents and conversation \
                else set()
            tally: Counter[tuple[str, str]] = Counter()
            waits = False
            for record in batch:
                entry = known.get(jkey(part, record.key))
                if entry is not None and entry.parent_key is not None:
                    continue  # counted with its conversation
                tracker.read += 1
                tally[(part, "read")] += 1
                if entry is not None:
                    written = earlier(Outcome(entry.status, entry.intercom_id, entry.outcome))
                elif record.parent_key in present:  # its ticket is there but was not loaded: it waits, never rejected
                    written = Written("failed", reason=f"waiting for its conversation ({record.parent_key}), which "
                                                       "this run did not load", code="conversation.waiting")
                else:
                    written = Written("rejected", reason=orphan_reason(record.parent_key),
                                      code="part.conversation_missing")
                if entry is None:
                    ctx.journal.settle("part", jkey(part, record.key), written.status, written.reason or "",
                                       ctx.phase, object=part, code=written.code)
                ctx.count(tracker, written, tally=tally)
                waits = waits or not final(written.status, written.code, False)
            point.settled(ordered, tally, not waits, len(batch))
        ctx.journal.finished(done, ctx.phase, object=part)

    def _limited(self, obj: str) -> int | None:
        total = self.totals.get(obj)
        return min(total or 0, self.ctx.options.sample) if self.ctx.options.sample else total

    async def _deletions(self) -> None:
        from helpmig_tui.pipeline.source_gone import gone_phase  # a delta's only: not on a load's start-up

        await gone_phase(self.ctx)

    async def _custom_objects(self) -> None:
        for obj in objects_of(self.ctx.mmap, TargetKind.CUSTOM_OBJECT):
            object_type = self.ctx.mmap.object_map(obj).options.custom_object_type  # type: ignore[union-attr]
            missing = await self._type_missing(object_type)
            if missing:
                reason, code = missing

                async def refuse(record: Record, obj: str = obj, reason: str = reason, code: str = code) -> Written:
                    return reject(self.ctx, "custom_object", obj, record, reason, code)

                await for_each_record(self.ctx, obj, refuse, self.totals.get(obj))
                continue
            await for_each_record(self.ctx, obj, lambda r, obj=obj, t=object_type: write_custom_object(self.ctx, obj, r, t),
                                  self.totals.get(obj))

    async def _type_missing(self, object_type: str | None) -> tuple[str, str] | None:
        """Why no instance of this type can be written (none chosen; not defined in the
        workspace: types cannot be created by API), asked once, before any write."""
        if not object_type:
            return "no custom object type chosen for it in the map", "map.custom_object_type_missing"
        try:
            await self.ctx.client.custom_objects.probe(object_type)
        except NotFound:
            return (f"the custom object type {object_type!r} is not defined in the workspace: define it in Intercom "
                    "(types cannot be created by API), then resume", "custom_object.type_missing")
        return None

    async def _supplementary(self) -> None:
        for obj in objects_of(self.ctx.mmap, TargetKind.CSV, TargetKind.INVENTORY):
            sink = CsvSink(self.ctx, obj)

            async def write(record: Record, obj: str = obj, sink: CsvSink = sink) -> Written:
                return write_csv_row(self.ctx, sink, obj, record)

            try:
                await for_each_record(self.ctx, obj, write, self.totals.get(obj))
            except BaseException:
                sink.close(complete=False)
                raise
            sink.close()
