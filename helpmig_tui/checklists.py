"""Pre-flight checklists from the seeds: things only the operator can confirm.

They appear among the audit's findings with the code `checklist.*`, to be acknowledged
(done) or waived (with a note) before the load starts. Blockers stop the load until then.
"""

from __future__ import annotations

from connectors.base import Finding, Severity

# (code, severity, message, detail)
_COMMON = (
    ("checklist.intercom_outbound_paused", Severity.WARNING,
     "Pause Intercom outbound campaigns and workflows during the load",
     "Active campaigns consume the API rate limit and may message imported contacts."),
    ("checklist.intercom_phone_validation", Severity.INFO,
     "Turn off phone number validation in Intercom if contacts carry phone numbers",
     "Settings > People data > Phone; otherwise non-standard numbers are rejected."),
    ("checklist.intercom_notifications", Severity.WARNING,
     "Make sure imported replies do not notify customers",
     "Admin replies can notify contacts: run the sample on a test contact first and check its inbox."),
)

_PLATFORM = {
    "smartertrack": (
        ("checklist.smartertrack_backup", Severity.BLOCKER,
         "Confirm a verified backup of the SmarterTrack database and App_Data folder",
         "Restore-test the backup before the load; helpmig only reads, but the migration window is the risk."),
        ("checklist.smartertrack_license", Severity.WARNING,
         "Check SmarterTrack license activations before moving servers",
         "Two activations per license: a server move without a reset can lock you out of the source."),
        ("checklist.smartertrack_threads", Severity.WARNING,
         "Check the background threads on SmarterTrack's Diagnostics page",
         "Ticket Watcher, Task Scheduler, POP and SMTP threads must run, or statuses in the export are stale."),
    ),
    "trackit": (
        ("checklist.trackit_backup", Severity.BLOCKER,
         "Confirm a verified backup of the Track-It! database and attachment share",
         "helpmig only reads, but keep a restorable copy for the migration window."),
        ("checklist.trackit_bcm", Severity.WARNING,
         "BCM asset relations do not migrate",
         "List the BCM-linked records for the customer; re-create critical links as custom attributes."),
    ),
    "itsm365": (
        ("checklist.itsm365_access_key", Severity.INFO,
         "Use an ITSM 365 access key of an employee that can read every class being migrated",
         "A key without rights returns empty lists, not errors."),
    ),
    "infraon": (
        ("checklist.infraon_sla_reset", Severity.INFO,
         "SLA timers restart at import: agree the cutover with the service owner",
         "SLA metadata is kept as conversation attributes; live timers cannot move."),
    ),
    "smart-export": (
        ("checklist.smart_export_complete", Severity.BLOCKER,
         "Confirm the export folder holds a complete, current export of every module",
         "There is no API to check against: the export is the source of truth."),
        ("checklist.smart_cab_members", Severity.WARNING,
         "CAB members without login accounts are not carried by the export",
         "Review change approvals for missing approvers before cutover."),
    ),
}


def checklist_findings(platform: str) -> list[Finding]:
    items = _PLATFORM.get(platform, ()) + _COMMON
    return [Finding(code=code, severity=sev, message=msg, detail=detail, count=1) for code, sev, msg, detail in items]
