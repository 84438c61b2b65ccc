"""Everything a run needs, opened in one place: the project, its confirmed map, the
source, Intercom, the journal and the run's bookkeeping. The CLI, the wizard's workers,
the demo and the tests all start runs through `PipelineSession`.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.base import Source, SourceError, number_field_of
from connectors.intercom import IntercomClient
from helpmig_tui.audit_store import findings, open_blockers, source_objects
from helpmig_tui.destination import DestinationError, same_workspace
from helpmig_tui.email_address import checked_email
from helpmig_tui.logs import get_logger
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.schema_plan import ExistingAttribute
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.versions import custom_object_types_by_run, last_confirmed, require_confirmed_version
from helpmig_tui.pipeline.attributes import AttributeBook, existing_attributes_of, schema_of, workspace_schema
from helpmig_tui.pipeline.context import RECORDS_PER_APP, LoadAborted, LoadContext, LoadOptions, NullObserver, Observer
from helpmig_tui.pipeline.control import RunCancelled, RunControl
from helpmig_tui.pipeline.journal import Journal
from helpmig_tui.pipeline.loader import DELTA_PHASES, PHASES, Loader, LoadResult, count_threads_ahead, thread_sizes
from helpmig_tui.pipeline.eta import LiveEta, call_latency_s
from helpmig_tui.pipeline.plan import Plan, build_plan, call_plan
from helpmig_tui.pipeline.prepare import Resolutions, create_collection_named, ensure_tag, match_record, objects_of
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.pipeline.records import write_company, write_contact, write_walkin_contact
from helpmig_tui.pipeline.resolver import Directory, Resolver
from helpmig_tui.pipeline.runlock import RunLock, RunLockBusy
from helpmig_tui.pipeline.runs import RunLog, finished_phases, resumable_run, rolled_back_since_load
from helpmig_tui.pipeline.scope import NOT_MIGRATED, ScopeCheck, ScopeResult, save_scope, scope_is_current
from helpmig_tui.project import LOADED_STAGES, open_project, open_source
from helpmig_tui.settings import Paths, Secrets, Settings
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Project

if TYPE_CHECKING:  # the commands that use these import them when they run (a load's start-up stays short)
    import httpx

    from helpmig_tui.pipeline.rollback import Rollback
    from helpmig_tui.pipeline.validate import ValidationResult

log = get_logger("pipeline")



class LoadRefused(Exception):
    """The load cannot start: says what must be done first (one line, then the details)."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []
        self.hint = "; ".join(self.details[:5])


def email_address(value: str, what: str) -> str:
    """An email the operator gave, refused before any run when it cannot be one."""
    email = checked_email(value)
    if email is None:
        raise LoadRefused(f"{what} takes an email address (got {value!r})")
    return email


@dataclass
class Destination:
    base_url: str
    token: str | list[str]  # one access token, or several of apps of the same workspace
    transport: httpx.AsyncBaseTransport | None = None


def rejection_threshold(store: ProjectStore) -> float:
    """The share of a phase's records that foreseen rejections may reach (project setting)."""
    from helpmig_tui.pipeline.report import DEFAULT_MAX_REJECTED

    return float((store.project().settings or {}).get("max_rejected", DEFAULT_MAX_REJECTED))


def read_back_lag(store: ProjectStore) -> float:
    """How long a read-back by search waits for the destination's index (project setting:
    a demo's sandbox lags as it was told; Intercom up to SEARCH_LAG_S)."""
    from helpmig_tui.pipeline.context import SEARCH_LAG_S

    return float((store.project().settings or {}).get("search_lag", SEARCH_LAG_S))


def remember_threshold(store: ProjectStore, share: float) -> None:
    """The operator's allowance, given to a load, holds for the project: later loads and
    validation measure against it."""
    with store.session() as session:
        project = session.get(Project, 1)
        if project is not None:
            project.settings = {**(project.settings or {}), "max_rejected": share}


def destination(store: ProjectStore, settings: Settings, secrets: Secrets,
                transport: httpx.AsyncBaseTransport | None = None, token: str | None = None) -> Destination:
    """Where the project loads: its recorded Intercom URL (helpmig connect) or the settings'."""
    project = store.project()
    tokens = [token] if token else secrets.intercom_tokens()
    if not tokens:
        raise LoadRefused("no Intercom token", ["`helpmig secret set intercom_token` keeps it in the credential "
                                                "store; HELPMIG_INTERCOM_TOKEN sets it for one session"])
    from helpmig_tui.destination import DestinationError, clean_token

    try:
        tokens = [clean_token(t) for t in tokens]
    except DestinationError as exc:
        raise LoadRefused(str(exc), [exc.hint]) from None
    return Destination(project.intercom_url or settings.intercom_base_url(), tokens if len(tokens) > 1 else tokens[0],
                       transport)


class PipelineSession:
    """Open with `async with PipelineSession(...) as session:`, then `await session.load(...)`."""

    def __init__(self, paths: Paths, project: str, target: Destination, *, observer: Observer | None = None,
                 control: RunControl | None = None, client_options: dict[str, Any] | None = None,
                 source: Source | None = None, close_source: bool = False, secrets: Secrets | None = None,
                 loading: LoadOptions | None = None, rolling_back: bool = False) -> None:
        self.paths = paths
        self.project = project
        self.target = target
        self.observer = observer or NullObserver()
        self.control = control or RunControl()
        self.client_options = client_options or {}
        self._source = source
        self._close_source = close_source or source is None  # a source handed in stays its giver's unless given away
        self._secrets = secrets or Secrets()
        self._loading = loading  # the load this session is opened for: its source work starts at open
        self._rolling_back = rolling_back  # a rollback's: the last confirmed map will do (below)
        self._lock: RunLock | None = None  # the project's run lock, while this session writes
        self._closing = AsyncExitStack()  # what __aenter__ opened, closed last-opened first
        self.store: ProjectStore
        self.client: IntercomClient
        self.mmap: MigrationMap

    async def __aenter__(self) -> PipelineSession:
        self.store = open_project(self.paths, self.project)
        self._closing.callback(self.store.close)
        try:
            await self._open()
        except BaseException:
            await self._closing.aclose()  # what was opened is closed, whatever else fails (a full disk)
            raise
        return self

    async def _open(self) -> None:
        try:
            version = require_confirmed_version(self.store)
        except Exception as exc:
            # a rollback undoes what runs wrote under the maps they were confirmed with: a newer
            # map not confirmed yet (an edit, an import) does not stop it
            found = last_confirmed(self.store) if self._rolling_back else None
            if found is None:
                raise LoadRefused(str(exc), [f"`helpmig map {self.project} --show` shows it, `--propose` and "
                                             "`--confirm` make it ready"]) from exc
            version = found
        self.mmap, self.map_version, self.map_hash = version.map, version.version, version.hash
        self.source = self._source or open_source(self.store, self._secrets)
        if self._close_source:
            self._closing.callback(self.source.close)
        self.reader = SourceReader(self.source)
        self._closing.callback(self.reader.close)
        self.client = IntercomClient(self.target.token, base_url=self.target.base_url,
                                     transport=self.target.transport, **self.client_options)
        self._closing.push_async_callback(self.client.aclose)
        self._closing.callback(self._release)
        try:
            me, admins, teams, existing, self.lookups = await self._startup_reads()
        except DestinationError as exc:
            raise LoadRefused(str(exc), [exc.hint]) from exc
        self.acting_admin = me.id
        self.directory = Directory(admins, teams)
        inventory = source_objects(self.store)
        self.totals = {o.name: o.count for o in inventory}
        self.number_fields = {o.name: name for o in inventory
                              if (name := number_field_of([f["name"] for f in o.fields or []]))}
        self.schema = schema_of(self.store, self.mmap, existing)
        self.attributes = AttributeBook(self.schema, self.client)

    async def _startup_reads(self) -> tuple[Any, list[Any], list[Any], list[ExistingAttribute],
                                           dict[str, dict[str, dict[str, Any]]]]:
        """What every run reads before its first write, all at once rather than one after
        the other (a round trip each to Intercom): the token's admin and workspace, every
        further token's workspace, the teammates, teams and attributes; meanwhile the
        source connects and reads its lookup tables. /me's failure is the one said (a
        rejected token fails them all)."""
        me = asyncio.ensure_future(self.client.me())
        rest = asyncio.gather(self._prepare_source(), self.client.admins.list(),
                              self.client.teams.list(), existing_attributes_of(self.client), self._lookups())
        try:
            found = await me
            await same_workspace(self.client, found)
            _, admins, teams, existing, lookups = await rest
        except BaseException:
            rest.cancel()
            await asyncio.gather(rest, return_exceptions=True)
            raise
        return found, admins, teams, existing, lookups

    async def __aexit__(self, *exc: object) -> None:
        """The run lock released, the client, reader, source and project closed, in that
        order, each whatever became of the one before."""
        await self._closing.aclose()

    async def _prepare_source(self) -> None:
        """The source connects meanwhile; when it cannot, the first read that needs it says
        so (a rollback needs none)."""
        self.reader.ahead("prepare", self.source.prepare)
        if self._loading is not None:  # queued behind it, not waited for: it runs while the run starts
            count_threads_ahead(self.reader, self.mmap, self._loading)
        try:
            await self.reader.collect("prepare", self.source.prepare)
        except SourceError as exc:
            log.info("the source could not be opened ahead of its first read: %s", exc)

    async def _lookups(self) -> dict[str, dict[str, dict[str, Any]]]:
        lookups: dict[str, dict[str, dict[str, Any]]] = {}
        for obj in objects_of(self.mmap, TargetKind.LOOKUP):
            table: dict[str, dict[str, Any]] = {}
            async for batch in self.reader.batches(obj, batch_size=1000):
                table.update({r.key: r.data for r in batch})
            lookups[obj] = table
        return lookups

    def _hold(self, command: str) -> None:
        """Take the project's run lock until the session closes: one writer per project."""
        if self._lock is not None:
            return
        try:
            self._lock = RunLock(self.paths.project_dir(self.project), command).__enter__()
        except RunLockBusy as exc:
            raise LoadRefused(str(exc), ["wait for it to finish, or stop it there (Ctrl+C in its window)"]) from exc

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def _start(self, kind: str, options: LoadOptions, phases: tuple[str, ...]) -> RunLog:
        previous = resumable_run(self.store, kinds=(kind,))
        if previous is not None:
            runlog = RunLog.resume(self.store, previous.id)
            self.observer.event("info", f"resuming {kind} run {previous.id} where it stopped")
            if options.sample and options.test_contact is None:  # its conversations go on to its test contact
                options.test_contact = (previous.options or {}).get("test_contact")
            return runlog
        return RunLog.start(self.store, kind, map_version=self.map_version, map_hash=self.map_hash,
                            options={"sample": options.sample, "test_contact": options.test_contact,
                                     "delta": options.delta,
                                     "since": options.since.isoformat() if options.since else None,
                                     "gone": options.gone},
                            phases=[(p, 0) for p in phases])

    def _context(self, runlog: RunLog, options: LoadOptions) -> tuple[LoadContext, Resolver]:
        if options.max_rejected is not None and options.sample is None:
            remember_threshold(self.store, options.max_rejected)
        if options.search_lag is None:
            options.search_lag = read_back_lag(self.store)
        if options.concurrency is None:  # enough records in flight to keep every app's window busy
            options.concurrency = RECORDS_PER_APP * self.client.apps
        journal = Journal(self.store, runlog.run_id)
        ctx = LoadContext(
            store=self.store, project=self.project, reports_dir=self.paths.reports_dir(self.project),
            mmap=self.mmap, client=self.client, reader=self.reader, journal=journal, runlog=runlog,
            control=self.control, observer=self.observer, options=options, acting_admin=self.acting_admin,
            map_hash=self.map_hash, number_fields=self.number_fields, attributes=self.attributes,
            predicted=frozenset(f.code for f in findings(self.store)),
            max_rejected=options.max_rejected if options.max_rejected is not None else rejection_threshold(self.store), schema_tags=list(self.schema.tags), lookups=self.lookups,
            eta=LiveEta(self.client.session.clock.monotonic,  # a delta's size is not known up front
                        plan={} if options.delta or options.since else
                        call_plan(build_plan(self.store, self.mmap), self.mmap, options.sample),
                        parts=frozenset(o.object for o in self.mmap.active_objects() if o.target is TargetKind.PART),
                        records_in_flight=options.concurrency),
        )
        resolver = Resolver(self.mmap, journal, self.directory)
        resolver.test_contact = options.test_contact
        resolver.fallback_contact = Resolutions.load(self.store).fallback_contact
        contact_objects = set(objects_of(self.mmap, TargetKind.CONTACT))
        company_objects = set(objects_of(self.mmap, TargetKind.COMPANY))

        async def ensure_record(obj: str, key: str) -> str | None:
            """A referenced contact or company that was not loaded yet (sample, delta)."""
            if obj not in contact_objects | company_objects:
                return None
            records = await ctx.reader.get(obj, [key])
            if not records:
                return None
            if obj in contact_objects:
                written = await write_contact(ctx, resolver, obj, records[0])
            else:
                written = await write_company(ctx, obj, records[0])
            return written.intercom_id if written.ok else None

        resolver.ensure_record = ensure_record
        resolver.ensure_email = lambda email: write_walkin_contact(ctx, email)
        resolver.ensure_tag = lambda name: ensure_tag(ctx, name)
        resolver.ensure_collection = lambda name: create_collection_named(ctx, name)
        return ctx, resolver

    async def load(self, options: LoadOptions | None = None, *, kind: str | None = None) -> LoadResult:
        """A sample, full or delta load; resumes an interrupted run of the same kind."""
        options = options or LoadOptions()
        kind = kind or ("sample" if options.sample else "delta" if options.delta else "load")
        if options.test_contact:
            options.test_contact = email_address(options.test_contact, "the test contact")
        fallback = Resolutions.load(self.store).fallback_contact
        if fallback:  # set on Plan (or by an older helpmig that checked less)
            email_address(fallback, "the fallback contact")
        blockers = open_blockers(self.store)
        if blockers:
            raise LoadRefused(
                f"{len(blockers)} audit blockers are open: settle them first (`helpmig findings {self.project}` "
                "lists them with their ids; the wizard's Audit step does the same)",
                [f"{b.code}: {b.message}" for b in blockers],
            )
        every = DELTA_PHASES if kind == "delta" else PHASES
        phases = options.phases or every
        if options.phases:
            self._require_earlier(kind, options, every)
        held = self._lock is not None
        self._hold(kind)
        try:
            return await self._load_locked(kind, options, phases, every)
        finally:
            if not held:
                self._release()

    def _require_earlier(self, kind: str, options: LoadOptions, every: tuple[str, ...]) -> None:
        """Phases run alone need the phases before them loaded (the attributes, companies,
        contacts and teammates their records point to): refused while one never finished
        in a load (for a sample: a sample or a load), or was rolled back since."""
        counted = {"load": ("load",), "sample": ("sample", "load"), "delta": ("load", "delta")}[kind]
        asked = options.phases or ()
        done = finished_phases(self.store, counted) | set(asked)
        missing = [p for p in every[:max(every.index(p) for p in asked)] if p not in done]
        if missing:
            command = {"load": f"helpmig load {self.project}", "delta": f"helpmig delta {self.project}",
                       "sample": f"helpmig load {self.project} --sample {options.sample}"}[kind]
            named = f"the {asked[0]} phase needs" if len(asked) == 1 else f"the phases {', '.join(asked)} need"
            raise LoadRefused(f"{named} {', '.join(missing)} loaded first (never finished in "
                              f"{' or '.join(f'a {k}' for k in counted)} of {self.project}, or rolled back since): "
                              f"`{command}` loads every phase in order")

    async def check_scope(self) -> ScopeResult:
        """Name what the load will not migrate (findings and reports/not-migrated.csv)."""
        check = ScopeCheck(self.reader, self.mmap, self.number_fields, Resolutions.load(self.store).fallback_contact,
                           lambda step: self.observer.event("info", step))
        result = await check.run(self.paths.reports_dir(self.project) / NOT_MIGRATED)
        save_scope(self.store, result, self._scope_stamp())
        return result

    def _scope_stamp(self) -> str:
        """What a scope check depends on: the map and the operator's fallback contact (which
        takes in the tickets that name no valid requester)."""
        return f"{self.map_hash}|{Resolutions.load(self.store).fallback_contact or ''}"

    async def _load_locked(self, kind: str, options: LoadOptions, phases: tuple[str, ...],
                           every: tuple[str, ...]) -> LoadResult:
        if kind == "load" and not scope_is_current(self.store, self._scope_stamp()):
            self.observer.event("info", "naming what the load will not migrate (the scope check)")
            await self.check_scope()
        runlog = self._start(kind, options, every)
        self._set_stage("loading" if kind == "load" else None)
        ctx, resolver = self._context(runlog, options)
        try:
            try:
                async with ctx.heartbeat():
                    result = await Loader(ctx, resolver, self.directory, self.totals).run(phases)
            except BaseExceptionGroup as group:  # raised inside the phases' task groups
                raise _first_cause(group) from group
        except RunCancelled:
            ctx.journal.flush()
            runlog.finish("paused", {"message": "cancelled by the operator; resume continues here"})
            again = {"delta": "delta", "sample": "sample run"}.get(kind, "load")
            return LoadResult("cancelled", message=f"cancelled; run the {again} again to resume")
        except asyncio.CancelledError:  # stopped at once: in-flight rows stay in the journal for the resume
            ctx.journal.flush()
            runlog.finish("paused", {"message": "stopped at once; the resume checks the writes that were in flight"})
            raise
        except BaseException:
            ctx.journal.flush()
            raise
        ctx.journal.flush()
        summary = {"status": result.status, "phases": {r.phase: r.totals() for r in result.reports},
                   "message": result.message}
        if kind == "delta":
            from helpmig_tui.pipeline.delta_report import summarise, write_delta_report

            result.delta = summarise(runlog.run_id, result.reports, self.mmap, self.store)
            write_delta_report(result.delta, self.project, self.paths.reports_dir(self.project))
            summary["delta"] = result.delta.totals()
        if result.status == "done":
            runlog.finish("done", summary)
            if kind == "load":
                self._set_stage("loaded" if result.clean and self._whole_load(options) else "partially_loaded")
            elif kind == "sample" and self.store.project().stage not in LOADED_STAGES:
                self._set_stage("sampled")  # a sample after a full load leaves its stage
        else:
            runlog.finish("paused", summary)  # a gated run resumes once the operator acts
            if kind == "load":
                self._set_stage("partially_loaded")
        return result

    def _whole_load(self, options: LoadOptions) -> bool:
        """Every phase of the load finished clean: a run of some phases says "loaded" only
        when the others did in earlier loads (and no rollback undid them)."""
        return options.phases is None or set(PHASES) <= finished_phases(self.store, ("load",), ("done",))

    async def plan(self) -> Plan:
        """The plan at this workspace's rate limit, with the agents and groups to settle."""
        self.schema = await workspace_schema(self.client, self.store, self.mmap)
        to_create = len(self.schema.to_create())
        not_migrated = await self.check_scope()
        longest = 0
        for conv in objects_of(self.mmap, TargetKind.CONVERSATION):
            parts = [o.object for o in self.mmap.active_objects() if o.target is TargetKind.PART and o.parent == conv]
            sizes = await thread_sizes(self.reader, parts)
            longest = max([longest, *sizes.values()])
        metrics = self.client.metrics()
        plan = build_plan(self.store, self.mmap, metrics.window.limit, to_create, longest_thread=longest,
                          latency_s=call_latency_s(metrics.warm_latency_p50_ms, metrics.latency_p50_ms), apps=self.client.apps, query_s=self.reader.query_s)
        if plan.chain_bound:
            plan.notes.append(f"{', '.join(plan.chain_bound)}: the longest chain of calls that must go one after "
                              f"the other ({max(p.chain for p in plan.phases)} calls at "
                              f"{plan.latency_s * 1000:.0f} ms each) takes longer than the calls at the rate limit")
        resolutions = Resolutions.load(self.store)
        for kind, target in (("admin", TargetKind.ADMIN), ("team", TargetKind.TEAM)):
            for obj in objects_of(self.mmap, target):
                async for batch in self.reader.batches(obj):
                    for record in batch:
                        match = match_record(kind, obj, record, self.mmap, self.directory, resolutions)
                        if match.how == "unmatched":
                            plan.queue.append(match)
        if not_migrated:
            by_status = not_migrated.by_status()
            plan.notes.append(f"not migrated: {by_status.get('skipped', 0)} records the source's scope leaves out, "
                              f"{by_status.get('rejected', 0)} the map or the requester rules reject; every one is "
                              "in reports/not-migrated.csv and the classes are findings (helpmig findings P)")
        return plan

    async def validate(self, sample: int = 50, *, seed: int | None = None, sample_run_only: bool = False,
                       max_rejected: float | None = None) -> ValidationResult:
        """What landed, read back from Intercom; before any full load, what the sample runs wrote."""
        from helpmig_tui.pipeline.rollback import sample_runs
        from helpmig_tui.pipeline.validate import Validator

        self._hold("validate")
        sample_run_only = sample_run_only or load_started_at(self.store) is None
        run_ids = sample_runs(self.store) if sample_run_only else None
        journal = Journal(self.store, None)
        resolver = Resolver(self.mmap, journal, self.directory)
        result = await Validator(self.store, self.mmap, self.reader, self.client, journal, self.lookups,
                                 self.attributes, resolver,
                                 rejection_threshold(self.store) if max_rejected is None else max_rejected,
                                 ).run(sample, seed=seed, run_ids=run_ids)
        if result.passed and not sample_run_only and self.store.project().stage == "loaded":
            self._set_stage("validated")
        return result

    def rollback(self, *, sample_only: bool, include_changed: bool = False) -> Rollback:
        """The rollback of everything, or of the sample runs only; `.planned()` before `.run()`."""
        from helpmig_tui.pipeline.rollback import Rollback, sample_runs

        self._hold("rollback")
        return Rollback(self.store, self.client, Journal(self.store, None), acting_admin=self.acting_admin,
                        run_ids=sample_runs(self.store) if sample_only else None,
                        object_types={o.object: o.options.custom_object_type or "" for o in self.mmap.objects},
                        types_by_run=custom_object_types_by_run(self.store),
                        include_changed=include_changed,
                        observer=self.observer, control=self.control, reports_dir=self.paths.reports_dir(self.project))

    async def delta(self, options: LoadOptions | None = None) -> LoadResult:
        """What changed in the source since the first full load began: created or updated,
        new messages appended; by updated-at where the source has it, else by content hash."""
        from connectors.base import Capability

        options = options or LoadOptions()
        options.delta = True
        started = load_started_at(self.store)
        if started is None:
            raise LoadRefused("no full load yet: the delta follows a load")
        if rolled_back_since_load(self.store):
            raise LoadRefused(f"{self.project} was rolled back out of Intercom: a delta only carries over what "
                              f"changed since a load; `helpmig load {self.project}` loads it again")
        if Capability.DELTA_UPDATED_AT in self.source.capabilities:
            options.since = started
        return await self.load(options, kind="delta")

    def _set_stage(self, stage: str | None) -> None:
        if stage is None:
            return
        with self.store.session() as session:
            project = session.get(Project, 1)
            if project is not None:
                project.stage = stage


def _first_cause(group: BaseExceptionGroup) -> BaseException:
    """The exception that stopped the run: an abort (token rejected) before a cancel,
    before anything else; a plain failure is raised as the group itself."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for kind in (LoadAborted, RunCancelled):
        found = next((e for e in leaves if isinstance(e, kind)), None)
        if found is not None:
            return found
    return leaves[0] if len(leaves) == 1 else group


def load_started_at(store: ProjectStore) -> datetime | None:
    """When the first full load began: the delta's reference time."""
    from sqlalchemy import select

    from helpmig_tui.state.models import Run

    with store.reader() as session:
        return session.scalar(select(Run.started_at).where(Run.kind == "load").order_by(Run.id).limit(1))

