"""The mapping step's operations on a project, shared by the CLI and the wizard."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from helpmig_tui.mapping.evidence import SourceEvidence, evidence_from_store
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.propose import Progress, propose_map
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.versions import MapStateError, MapVersion, edit_object, latest, save_map
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import SourceObject

Refiner = Callable[[SourceEvidence, MigrationMap, Progress | None], MigrationMap]


def audited_evidence(store: ProjectStore) -> SourceEvidence:
    """The last audit's evidence; an error that says what to do when there is none, or
    when the audit predates the stored object structure (schema 3)."""
    evidence = evidence_from_store(store)
    if not evidence.objects:
        raise MapStateError("the source has not been audited yet: the proposer works from the audit's profiles",
                            hint="run the audit first: helpmig audit P")
    with store.reader() as session:
        stale = session.scalar(select(func.count()).select_from(SourceObject).where(SourceObject.spec == {}))
    if stale:
        raise MapStateError("the last audit was taken by an older helpmig that did not keep record keys and parents",
                            hint="run the audit again: helpmig audit P")
    return evidence


def propose_for_project(store: ProjectStore, *, refine: Refiner | None = None, progress: Progress | None = None,
                        who: str | None = None) -> MapVersion:
    """Propose the whole map from the last audit (objects the operator re-targeted keep
    their target; decided rows carry over) and store it as the working draft."""
    evidence = audited_evidence(store)
    previous = latest(store)
    targets = {o.object: o.target for o in previous.map.objects if o.status != "proposed"} if previous else {}
    mmap = propose_map(evidence, targets=targets, progress=progress)
    if refine is not None:
        mmap = refine(evidence, mmap, progress)
    return save_map(store, mmap, action="propose", who=who, note=f"proposed by {mmap.proposer}")


def allowed_targets(store: ProjectStore, obj: str) -> list[TargetKind]:
    """What the operator may choose for an object: the default map's choices (records),
    its proposed kind, or skip."""
    current = latest(store)
    om = current.map.object_map(obj) if current else None
    if om is None:
        raise MapStateError(f"{obj} is not in the map")
    allowed = [*om.choices] or [om.target]
    if om.target not in allowed and om.target is not TargetKind.SKIP:
        allowed.insert(0, om.target)
    return allowed if TargetKind.SKIP in allowed else [*allowed, TargetKind.SKIP]


def retarget_object(store: ProjectStore, obj: str, target: TargetKind, *, who: str | None = None) -> MapVersion:
    """Send an object somewhere else (a problem as a conversation instead of a custom
    object): its fields are proposed afresh for the new target, unconfirmed."""
    allowed = allowed_targets(store, obj)
    if target not in allowed:
        raise MapStateError(f"{obj} cannot become {target.value}",
                            hint="choose one of: " + ", ".join(t.value for t in allowed))
    current = latest(store)
    assert current is not None
    targets = {o.object: o.target for o in current.map.objects} | {obj: target}
    fresh = propose_map(audited_evidence(store), targets=targets)
    return edit_object(store, obj, replacement=fresh, who=who)
