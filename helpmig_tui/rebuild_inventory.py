"""The rebuild inventory: what a migration into Intercom does not carry and an admin must
rebuild there by hand (workflows, SLAs, automations, approvals), per source platform.

What each platform holds that has no Intercom equivalent comes from the platform pages
(`/work/shared/seeds/*-to-intercom.txt`, "do not migrate" and "rebuild" sections). The
audit adds what it counted: a source object with the inventory role (an SLA table, a
service catalogue) is listed with its record count and the CSV its rows went to. An item
the audit could not count says so; it is never left out because it was not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpmig_tui.audit_store import source_objects
from helpmig_tui.state import ProjectStore


@dataclass(frozen=True)
class RebuildItem:
    what: str  # what the source has
    where: str  # where an Intercom admin rebuilds it
    count: int | None = None  # records the audit counted (None: not readable from the source)
    rows: str = ""  # the supplementary CSV its definitions went to, if any


# platform -> (what, where in Intercom), from the platform pages
_PLATFORM_ITEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "smartertrack": (
        ("SLA rules", "Settings > SLAs (Advanced and Expert plans), with office hours"),
        ("Auto-assignment rules and department routing", "Workflows and assignment rules, per team inbox"),
        ("Auto-closure rules and other automations", "Workflows"),
        ("Canned replies", "Macros"),
    ),
    "trackit": (
        ("SLA definitions (priority to response and resolution timers)", "Settings > SLAs and Workflows"),
        ("Workflows and business rules", "Workflows"),
        ("Change request approval routing", "Workflows with teammate assignment and tags"),
        ("BCM asset relations", "Custom object relationships, or kept as the delivered dataset"),
    ),
    "itsm365": (
        ("Approval chains", "Workflows with teammate assignment, tags and Fin rules"),
        ("Workflows and routing rules (auto-assignment, escalation)", "Workflows and assignment rules"),
        ("SLA agreements (response and resolution time, calendars)", "Settings > SLAs and office hours"),
        ("Service catalogue (SLM services)", "Ticket types or custom objects, per use"),
    ),
    "infraon": (
        ("Workflows", "Workflows"),
        ("SLA policies and escalation chains", "Settings > SLAs and office hours"),
        ("Service catalogue items and their triggers", "Ticket types, outbound messages or custom objects"),
        ("Role-based access on custom fields", "Teammate roles and team permissions"),
        ("Saved reports", "Reports"),
    ),
    "smart-export": (
        ("Workflows and auto-learning routing rules", "Workflows and assignment rules"),
        ("Approval workflows and change advisory board steps", "Workflows with teammate assignment and tags"),
        ("SLA configuration", "Settings > SLAs and office hours"),
        ("Release scheduling and asset dependency chains", "Custom objects, or kept as the delivered CSV"),
    ),
}


def rebuild_items(store: ProjectStore) -> list[RebuildItem]:
    """The project's rebuild inventory: what the audit counted first, then the platform's
    kinds of configuration that never migrate."""
    platform = store.project().platform
    counted = [RebuildItem(o.label or o.name, "see the platform items below; its rows are listed in the CSV",
                           o.count, f"supplementary/{o.name}.csv")
               for o in source_objects(store) if o.role == "inventory"]
    return counted + [RebuildItem(what, where) for what, where in _PLATFORM_ITEMS.get(platform, ())]


def inventory_markdown(store: ProjectStore) -> list[str]:
    """The summary's section: a table an admin works through."""
    items = rebuild_items(store)
    lines = ["## Rebuild inventory", "",
             "Not migrated: configuration with no Intercom equivalent, to be rebuilt there by an admin.", ""]
    if not items:
        return lines + ["Nothing known for this platform; check the source's own settings by hand.", ""]
    lines += ["| What the source has | Rebuild in Intercom as | Records | Rows |", "|---|---|---:|---|"]
    for item in items:
        count = "not counted" if item.count is None else str(item.count)
        lines.append(f"| {item.what} | {item.where} | {count} | {item.rows or '—'} |")
    return lines
