"""The demo: a generated helpdesk, the in-process Intercom sandbox, and the whole flow.

`prepare_demo` builds a project a newcomer can walk with no credentials: a sample source
of any of the five platforms (real table layouts or fake APIs, with messy records), its
audit, a proposed map, and a sandbox whose teammates and teams match most of the sample's
agents (one is left unmatched, to show the reconciliation queue). `run_headless` then runs
sample → validation → rollback of the sample → full load → validation, as an operator
would, and returns what happened.

The demo behaves like the real thing across restarts: its sandbox keeps the workspace in
the project's folder (`intercom-sandbox.sqlite`, one per demo project, strict as every
sandbox) and `demo.json` beside it says how to open the sample source again, so a demo
quit in the middle of a load is resumed by `reopen_demo` with nothing lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import Source
from connectors.intercom.sandbox import DEFAULT_TOKEN, SANDBOX_URL, Sandbox
from helpmig_tui.audit import run_audit
from helpmig_tui.audit_store import decide, findings, save_audit
from helpmig_tui.mapping.apply import apply_map
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.versions import confirm
from helpmig_tui.mapping.workflow import propose_for_project
from helpmig_tui.pipeline.context import LoadOptions, NullObserver, Observer
from helpmig_tui.pipeline.loader import LoadResult
from helpmig_tui.pipeline.prepare import Resolutions, objects_of
from helpmig_tui.pipeline.rollback import RollbackReport
from helpmig_tui.pipeline.session import Destination, PipelineSession
from helpmig_tui.pipeline.validate import ValidationResult
from helpmig_tui.project import create_project, open_project
from helpmig_tui.reports import write_audit_reports
from helpmig_tui.settings import Paths
from helpmig_tui.state.models import Project

PLATFORMS = ("smartertrack", "trackit", "itsm365", "infraon", "smart-export")
DEMO_MAX_REJECTED = 0.25
# the demo's Intercom is its sandbox, whose search lags exactly `search_lag` (whole seconds):
# a read-back of a write left in doubt waits that and this margin, not Intercom's minutes
DEMO_READ_BACK_MARGIN_S = 2.0
CUSTOM_OBJECT_TYPES = ("Call", "ChangeRequest", "Problem", "ProblemRecord", "Change", "Release", "ConfigurationItem",
                       "Asset", "Order")
SANDBOX_FILE = "intercom-sandbox.sqlite"  # in the project's folder: the demo's Intercom workspace
REASONS = {"deleted": "deleted", "spam": "spam", "draft": "drafts", "of_skipped_ticket": "of tickets left out",
           "rejected": "rejected by the reader", "not_records": "not records (blank rows, footers)"}


@dataclass
class Demo:
    paths: Paths
    project: str
    platform: str
    sandbox: Sandbox
    source_factory: Callable[[], Source]
    truth: dict[str, int] = field(default_factory=dict)  # records per object the default read returns
    skipped: dict[str, int] = field(default_factory=dict)  # records per object the default read leaves out
    tickets: int = 0  # the size asked for
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)  # object -> why -> records left out
    conversations: tuple[str, ...] = ()  # the objects that become conversations (tickets, chats, ...)

    def scope(self) -> list[str]:
        """What was generated and what is in scope, object by object, with why the rest is not."""
        lines = []
        for obj, reasons in self.left_out.items():
            out = sum(reasons.values())
            if not out:
                continue
            why = ", ".join(f"{n:,} {REASONS.get(reason, reason.replace('_', ' '))}" for reason, n in reasons.items())
            kept = self.truth.get(obj, 0)
            lines.append(f"{obj}: {kept + out:,} generated, {kept:,} in scope ({why})")
        return lines

    def headline(self) -> list[str]:
        """The scope in a line or two: the tickets (the object generated at the size asked
        for), and how many other objects have records left out."""
        lines = self.scope()
        main = [line for line in lines if line.split(":", 1)[0] in self.conversations] or lines[:1]
        others = len(lines) - len(main)
        if others:
            main.append(f"{others} other objects have records left out too (deleted, drafts, ...): "
                        "reports/scope.md lists them")
        return main

    def close(self) -> None:
        self.sandbox.close()

    def target(self) -> Destination:
        return Destination(SANDBOX_URL, DEFAULT_TOKEN, self.sandbox.transport())

    def session(self, observer: Observer | None = None, **options: Any) -> PipelineSession:
        return PipelineSession(self.paths, self.project, self.target(), observer=observer,
                               source=self.source_factory(), close_source=True, **options)


# options, a way to open it, its counts, and what its default read leaves out (object -> why -> records)
Sample = tuple[dict[str, Any], Callable[[], Source], dict[str, int], dict[str, dict[str, int]]]


def _generate(platform: str, folder: Path, tickets: int) -> Sample:
    """The sample source: options to record in the project, a way to open it, its counts, and
    what its default read leaves out, and why."""
    if platform in ("smartertrack", "trackit"):
        from connectors.samples import generate_smartertrack, generate_trackit

        manifest = (generate_smartertrack if platform == "smartertrack" else generate_trackit)(folder, tickets=tickets)
        left_out = {obj: {why: len(keys) for why, keys in reasons.items()} for obj, reasons in manifest.skipped.items()}
        return manifest.options, _opener(platform, manifest.options, tickets), dict(manifest.counts), left_out
    if platform == "smart-export":
        from connectors.samples.smart_export_sample import write_smart_export

        truth = write_smart_export(folder / "export", size=tickets, seed=1)
        options = {"folder": str(folder / "export"), "time_zone": "UTC"}  # its wall clock's zone, set as an operator would
        left_out = {obj: {"rejected": truth.rejected.get(obj, 0), "not_records": truth.skipped.get(obj, 0)}
                    for obj in {*truth.rejected, *truth.skipped}}
        return options, _opener(platform, options, tickets), dict(truth.counts), left_out
    fake = _fake(platform, tickets)
    return {"url": fake.base_url, **fake.options()}, fake.source, dict(fake.ground_truth.counts), {}


def _fake(platform: str, tickets: int) -> Any:
    """The in-process REST service of a demo (the same records for the same size: seeded)."""
    if platform == "itsm365":
        from connectors.samples.itsm365_fake import FakeItsm365

        return FakeItsm365(size=tickets)
    from connectors.samples.infraon_fake import FakeInfraon

    return FakeInfraon(size=tickets)


def _opener(platform: str, options: dict[str, Any], tickets: int) -> Callable[[], Source]:
    """A way to open the demo's source: its files, or its in-process service made again."""
    from connectors.registry import open_source

    if platform in ("itsm365", "infraon"):
        return _fake(platform, tickets).source
    return lambda: open_source(platform, options, lambda _n: None)


def _free_name(paths: Paths, base: str) -> str:
    name, n = base, 1
    while paths.state_file(name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def prepare_demo(paths: Paths, platform: str = "smartertrack", tickets: int = 200,
                 progress: Callable[[str], None] = lambda _s: None, *, confirm_map: bool = True,
                 sample: Callable[[Path, int], Sample] | None = None, **sandbox_options: Any) -> Demo:
    """Generate, create the project, audit, propose the map (and confirm it, unless the
    operator is to do it in the wizard), seed the sandbox (`sandbox_options` go to
    Sandbox: rate_limit, latency_ms, faults, ...). `sample` replaces the built-in sample
    of the platform (the tests' independent tenants; such a demo is not reopened)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown demo source {platform!r}: choose one of {', '.join(PLATFORMS)}")
    project = _free_name(paths, f"demo-{platform}")
    folder = paths.home / "demo-sources" / project
    progress(f"generating a sample {platform} helpdesk with {tickets} tickets in {folder}")
    options, factory, truth, left_out = (sample or (lambda f, n: _generate(platform, f, n)))(folder, tickets)
    with create_project(paths, project, platform,
                        {k: v for k, v in options.items() if isinstance(v, (str, int, bool))}) as store:
        with store.session() as session:  # the demo's Intercom is its sandbox
            row = session.get(Project, 1)
            row.intercom_url = SANDBOX_URL
            # the sample desk is messy on purpose, with a few of every class in a small desk: the
            # share of foreseen rejections a phase may have is set high for it (an operator's is 2%)
            row.settings = {**(row.settings or {}), "max_rejected": DEMO_MAX_REJECTED}
    sandbox = Sandbox(custom_object_types=CUSTOM_OBJECT_TYPES, state_path=str(_sandbox_file(paths, project)),
                      **sandbox_options)
    skipped = {obj: sum(reasons.values()) for obj, reasons in left_out.items()}
    demo = Demo(paths, project, platform, sandbox, factory, truth, skipped, tickets, left_out)
    try:
        _prepare(demo, progress, confirm_map=confirm_map)
    except BaseException:
        demo.close()  # its workspace file is not left open (Windows would keep it locked)
        raise
    _write_info(demo, reopenable=sample is None, sandbox_options=sandbox_options)
    return demo


def _prepare(demo: Demo, progress: Callable[[str], None], *, confirm_map: bool) -> None:
    """The generated project audited, its map proposed (and confirmed), the sandbox seeded."""
    paths, project, sandbox, factory = demo.paths, demo.project, demo.sandbox, demo.source_factory
    for line in demo.scope():
        progress(line)
    with open_project(paths, project) as store:
        with store.session() as session:
            row = session.get(Project, 1)
            row.settings = {**(row.settings or {}), "search_lag": sandbox.config.search_lag + DEMO_READ_BACK_MARGIN_S}
        progress("auditing the source")
        with factory() as source:
            result = run_audit(source)
        save_audit(store, result)
        write_audit_reports(paths.reports_dir(project), project, result)
        for finding in findings(store):
            if finding.code.startswith("checklist."):
                decide(store, finding.id, "acknowledged")
        progress("proposing the field map")
        propose_for_project(store)
        if confirm_map:  # the wizard's demo leaves it to the operator to review and confirm
            confirm(store, None)
        with factory() as source:
            _seed_workspace(store, sandbox, source)
        from helpmig_tui.mapping.versions import latest

        demo.conversations = tuple(objects_of(latest(store).map, TargetKind.CONVERSATION))


def _sandbox_file(paths: Paths, project: str) -> Path:
    return paths.project_dir(project) / SANDBOX_FILE


def _write_info(demo: Demo, *, reopenable: bool, sandbox_options: dict[str, Any]) -> None:
    info = {"platform": demo.platform, "tickets": demo.tickets, "truth": demo.truth, "left_out": demo.left_out,
            "conversations": list(demo.conversations), "reopenable": reopenable,
            "sandbox": {k: v for k, v in sandbox_options.items() if isinstance(v, (str, int, float, bool))}}
    demo.paths.demo_file(demo.project).write_text(json.dumps(info, indent=2), encoding="utf-8")


def demo_info(paths: Paths, project: str) -> dict[str, Any] | None:
    """What a demo project was made from (None: not a demo project that can be reopened)."""
    try:
        info = json.loads(paths.demo_file(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(info, dict) and info.get("reopenable") and info.get("platform") in PLATFORMS
    return info if ok and _sandbox_file(paths, project).exists() else None


def reopen_demo(paths: Paths, project: str) -> Demo | None:
    """A demo project as it was left: its sample source and its sandbox's workspace, from
    the project's folder (None: not a demo project, or one made before demos kept them)."""
    info = demo_info(paths, project)
    if info is None:
        return None
    with open_project(paths, project) as store:
        options = dict(store.project().source_options)
    platform, tickets = info["platform"], int(info["tickets"])
    sandbox = Sandbox(custom_object_types=CUSTOM_OBJECT_TYPES, state_path=str(_sandbox_file(paths, project)),
                      **info.get("sandbox", {}))
    left_out = {obj: {k: int(v) for k, v in reasons.items()} for obj, reasons in info.get("left_out", {}).items()}
    return Demo(paths, project, platform, sandbox, _opener(platform, options, tickets),
                {k: int(v) for k, v in info.get("truth", {}).items()},
                {obj: sum(reasons.values()) for obj, reasons in left_out.items()}, tickets, left_out,
                tuple(info.get("conversations", ())))


def latest_demo(paths: Paths, platform: str) -> str | None:
    """The demo project of this platform used last (its store or sandbox written last) that
    can be reopened, if any."""
    if not paths.projects.is_dir():
        return None
    names = [p.name for p in paths.projects.iterdir()
             if p.name == f"demo-{platform}" or p.name.startswith(f"demo-{platform}-")]

    def used(name: str) -> float:
        return max(f.stat().st_mtime for f in paths.project_dir(name).glob("*.sqlite*"))

    found = [name for name in names if demo_info(paths, name)]
    return max(found, key=used) if found else None


def open_demo(paths: Paths, platform: str = "smartertrack", tickets: int = 200, *, new: bool = False,
              progress: Callable[[str], None] = lambda _s: None, **options: Any) -> Demo:
    """`helpmig demo`: the existing demo project of this platform as it was left (so an
    interrupted load resumes), or a new one when there is none or `new` is asked."""
    name = None if new else latest_demo(paths, platform)
    demo = reopen_demo(paths, name) if name else None
    if demo is None:
        return prepare_demo(paths, platform, tickets, progress, **options)
    progress(f"reopening the demo project {name} ({demo.tickets} tickets, its Intercom sandbox as it was left); "
             "`helpmig demo --new` makes a fresh one")
    for line in demo.scope():
        progress(line)
    return demo


def _seed_workspace(store: Any, sandbox: Sandbox, source: Source) -> None:
    """Teammates and teams for the sample's agents and groups, all but one agent: the demo
    then shows a reconciliation queue settled by the fallback admin."""
    from helpmig_tui.mapping.versions import latest

    mmap = latest(store).map  # proposed or confirmed: the agents and groups are the same
    agents = []
    for obj in objects_of(mmap, TargetKind.ADMIN):
        for batch in source.iter_records(obj):
            agents += [apply_map(mmap, obj, r) for r in batch]
    for m in agents[:-1]:
        email, name = m.standard.get("email"), m.standard.get("name")
        if email or name:
            sandbox.add_admin(str(name or email), str(email or f"{name}@demo.example".replace(" ", ".").lower()))
    for obj in objects_of(mmap, TargetKind.TEAM):
        for batch in source.iter_records(obj):
            for r in batch:
                name = apply_map(mmap, obj, r).standard.get("name")
                if name:
                    sandbox.add_team(str(name))
    resolutions = Resolutions.load(store)
    resolutions.fallback_admin = sandbox.state.store.get("admins", "991267001")["id"]  # the token's own admin
    resolutions.fallback_contact = "unknown.requester@demo.example"
    resolutions.save(store)


@dataclass
class HeadlessResult:
    sample: LoadResult
    sample_validation: ValidationResult
    sample_rollback: RollbackReport
    load: LoadResult
    validation: ValidationResult
    sandbox_counts: dict[str, int]


async def run_headless(demo: Demo, *, sample: int = 5, observer: Observer | None = None,
                       progress: Callable[[str], None] = lambda _s: None) -> HeadlessResult:
    observer = observer or NullObserver()
    async with demo.session(observer) as session:
        progress(f"sample run: {sample} records per object")
        sample_result = await session.load(LoadOptions(sample=sample, accept_gates=True))
        progress("validating the sample")
        sample_check = await session.validate(sample=sample, sample_run_only=True, seed=1)
        progress("rolling the sample back")
        rolled = await session.rollback(sample_only=True).run()
        progress("full load")
        load = await session.load(LoadOptions(accept_gates=True))
        progress("validating the load")
        check = await session.validate(sample=50, seed=1)
    return HeadlessResult(sample_result, sample_check, rolled, load, check, demo.sandbox.state.counts())
