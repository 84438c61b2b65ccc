"""The map in words and as data, for `helpmig map --show`, reports and the JSON output."""

from __future__ import annotations

from typing import Any

from helpmig_tui.mapping.evidence import SourceEvidence
from helpmig_tui.mapping.model import LLM_FAILED, LLM_NOT_ASKED, MigrationMap
from helpmig_tui.mapping.schema_plan import SchemaPlan, plan_schema
from helpmig_tui.mapping.versions import MapVersion

CONFIDENT = 0.9


def version_line(version: MapVersion) -> str:
    line = f"Field map version {version.version} ({version.status}, proposed by {version.map.proposer}, hash {version.hash[:12]})"
    if version.confirmed_at is not None:
        line += f", confirmed by {version.confirmed_by} at {version.confirmed_at:%Y-%m-%d %H:%M} UTC"
    return line


def blocker_line(version: MapVersion) -> str:
    blockers = version.map.blockers()
    return ("Blocking the load: " + "; ".join(blockers)) if blockers else "Ready: every row is confirmed and every required Intercom field is mapped."


def map_lines(version: MapVersion) -> list[str]:
    """Objects with their fields, one line each, widths fitted to the content."""
    mmap = version.map
    width = max((len(f.field) for f in mmap.fields), default=10)
    target_width = min(max((len(f.target.describe()) for f in mmap.fields), default=10), 44)
    lines = [version_line(version), f"Source time zone: {mmap.timezone}"]
    for om in mmap.objects:
        options = om.options.describe()
        lines.append(f"{om.object} → {om.target.value}" + (f" ({options})" if options else "")
                     + f"  [{om.status}, {om.confidence:.2f}] {om.reason}")
        for fm in mmap.fields_of(om.object) if om.active else []:
            transforms = fm.describe_transforms()
            target = fm.target.describe() + (f" [{transforms}]" if transforms else "")
            lines.append(f"  {fm.field:<{width}}  {target:<{target_width}}  {fm.confidence:.2f} {fm.status:<9} {fm.reason}")
    lines.append(blocker_line(version))
    return lines


def plan_lines(plan: SchemaPlan) -> list[str]:
    by_model: dict[str, int] = {}
    for attribute in plan.to_create():
        by_model[attribute.model] = by_model.get(attribute.model, 0) + 1
    counts = ", ".join(f"{model} {n}" for model, n in sorted(by_model.items())) or "none"
    lines = [f"Destination schema: attributes to create: {counts}; "
             f"contact and company attributes in use after it: {plan.data_attributes_after} of 250"]
    if plan.tags:
        lines.append("Tags: " + ", ".join(plan.tags[:12]) + (" ..." if len(plan.tags) > 12 else ""))
    lines += [f"  problem: {p}" for p in plan.problems] + [f"  note: {w}" for w in plan.warnings]
    return lines


def map_data(version: MapVersion, evidence: SourceEvidence | None = None) -> dict[str, Any]:
    plan = plan_schema(version.map, evidence=evidence)
    return {
        "version": version.version,
        "status": version.status,
        "hash": version.hash,
        "proposer": version.map.proposer,
        "confirmed_at": version.confirmed_at,
        "confirmed_by": version.confirmed_by,
        "unconfirmed": version.map.unconfirmed(),
        "coverage": version.map.coverage(),
        "blockers": version.map.blockers(),
        "schema": {
            "create": [{"model": a.model, "name": a.name, "data_type": a.data_type, "options": a.options,
                        "sources": a.sources} for a in plan.to_create()],
            "tags": plan.tags,
            "problems": plan.problems,
            "warnings": plan.warnings,
        },
        "map": version.map.model_dump(mode="json", exclude_none=True),
    }


def advice_lines(mmap: MigrationMap) -> list[str]:
    """The LLM's diff against the built-in proposal: what it changed, what was declined and why."""
    if mmap.proposer != "llm":
        return []
    applied = [a for a in mmap.advice if a.applied]
    declined = [a for a in mmap.advice if not a.applied]
    unheard = [row for row in mmap.fields if row.reason.startswith((f"{LLM_FAILED} (", f"{LLM_NOT_ASKED} ("))]
    lines = [f"The LLM gave nothing for {len(unheard)} of {len(mmap.fields)} rows, which keep the built-in "
             f"proposal: {unheard[0].reason.split('; built-in: ')[0]}"] if unheard else []
    lines.append(f"The LLM changed {len(applied)} row{'s' if len(applied) != 1 else ''}; "
                 f"{len(declined)} change{'s' if len(declined) != 1 else ''} it asked for were declined")
    return lines + [f"  {a.describe()}" for a in [*applied, *declined]]


def proposal_lines(version: MapVersion) -> list[str]:
    mmap = version.map
    confident = sum(1 for row in mmap.rows() if row.confidence >= CONFIDENT)
    low = [row.key for row in mmap.rows() if row.confidence < 0.7 and not row.settled]
    lines = [
        f"Proposed field map version {version.version} ({mmap.proposer}): {len(mmap.objects)} objects, "
        f"{len(mmap.fields)} fields; {confident} rows at {CONFIDENT:.0%} confidence or more",
    ]
    reviews = mmap.open_reviews()
    if reviews:
        lines.append("Decide these one by one (bulk confirmation passes them by):")
        lines += [f"  {review.describe()}" for review in reviews]
    if low:
        lines.append(f"Look at these first (low confidence): {', '.join(low[:10])}" + (" ..." if len(low) > 10 else ""))
    lines += advice_lines(mmap)
    lines.append(blocker_line(version))
    lines.append("Next: review with --show, then --confirm all [--min-confidence 0.9] or OBJECT.FIELD ...")
    return lines
