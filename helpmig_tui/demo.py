"""The demo: a generated helpdesk, the in-process Intercom sandbox, and the whole flow.

`prepare_demo` builds a project a newcomer can walk with no credentials: a sample source
of any of the five platforms (real table layouts or fake APIs, with messy records), its
audit, a proposed map, and a sandbox whose teammates and teams match most of the sample's
agents (one is left unmatched, to show the reconciliation queue). `run_headless` then runs
sample → validation → rollback of the sample → full load → validation, as an operator
would, and returns what happened.
"""

from __future__ import annotations

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
CUSTOM_OBJECT_TYPES = ("Call", "ChangeRequest", "Problem", "ProblemRecord", "Change", "Release", "ConfigurationItem",
                       "Asset", "Order")


@dataclass
class Demo:
    paths: Paths
    project: str
    platform: str
    sandbox: Sandbox
    source_factory: Callable[[], Source]
    truth: dict[str, int] = field(default_factory=dict)  # records per object the default read returns
    skipped: dict[str, int] = field(default_factory=dict)  # records per object the default read leaves out

    def target(self) -> Destination:
        return Destination(SANDBOX_URL, DEFAULT_TOKEN, self.sandbox.transport())

    def session(self, observer: Observer | None = None, **options: Any) -> PipelineSession:
        return PipelineSession(self.paths, self.project, self.target(), observer=observer,
                               source=self.source_factory(), **options)


# options, a way to open it, its counts, and what its default read leaves out (per object)
Sample = tuple[dict[str, Any], Callable[[], Source], dict[str, int], dict[str, int]]


def _generate(platform: str, folder: Path, tickets: int) -> Sample:
    """The sample source: options to record in the project, a way to open it, its counts, and
    what its default read leaves out."""
    from connectors.registry import open_source

    if platform in ("smartertrack", "trackit"):
        from connectors.samples import generate_smartertrack, generate_trackit

        manifest = (generate_smartertrack if platform == "smartertrack" else generate_trackit)(folder, tickets=tickets)
        skipped = {obj: sum(len(keys) for keys in reasons.values()) for obj, reasons in manifest.skipped.items()}
        return (manifest.options, lambda: open_source(platform, manifest.options, lambda _n: None),
                dict(manifest.counts), skipped)
    if platform == "smart-export":
        from connectors.samples.smart_export_sample import write_smart_export

        truth = write_smart_export(folder / "export", size=tickets, seed=1)
        options = {"folder": str(folder / "export"), "time_zone": "UTC"}  # its wall clock's zone, set as an operator would
        return options, lambda: open_source(platform, options, lambda _n: None), dict(truth.counts), {}
    if platform == "itsm365":
        from connectors.samples.itsm365_fake import FakeItsm365

        fake = FakeItsm365(size=tickets)
        return {"url": fake.base_url, **fake.options()}, fake.source, dict(fake.ground_truth.counts), {}
    from connectors.samples.infraon_fake import FakeInfraon

    fake = FakeInfraon(size=tickets)
    return {"url": fake.base_url, **fake.options()}, fake.source, dict(fake.ground_truth.counts), {}


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
    of the platform (the tests' independent tenants)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown demo source {platform!r}: choose one of {', '.join(PLATFORMS)}")
    project = _free_name(paths, f"demo-{platform}")
    folder = paths.home / "demo-sources" / project
    progress(f"generating a sample {platform} helpdesk with {tickets} tickets in {folder}")
    options, factory, truth, skipped = (sample or (lambda f, n: _generate(platform, f, n)))(folder, tickets)
    with create_project(paths, project, platform,
                        {k: v for k, v in options.items() if isinstance(v, (str, int, bool))}) as store:
        with store.session() as session:  # the demo's Intercom is its sandbox
            row = session.get(Project, 1)
            row.intercom_url = SANDBOX_URL
            # the sample desk is messy on purpose, with a few of every class in a small desk: the
            # share of foreseen rejections a phase may have is set high for it (an operator's is 2%)
            row.settings = {**(row.settings or {}), "max_rejected": DEMO_MAX_REJECTED}
    sandbox = Sandbox(custom_object_types=CUSTOM_OBJECT_TYPES, **sandbox_options)
    demo = Demo(paths, project, platform, sandbox, factory, truth, skipped)
    with open_project(paths, project) as store:
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
