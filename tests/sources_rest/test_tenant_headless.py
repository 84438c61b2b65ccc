"""The headless flow (demo.run_headless: sample, validation, rollback, load, validation) on the
independent tenants: every phase's counts add up, technicians stay admins, and their
replies are the admins' in Intercom."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.infraon import InfraonSource
from connectors.itsm365 import Itsm365Source
from connectors.samples.tenants.infraon import InfraonTenant
from connectors.samples.tenants.naumen import CALL, NaumenTenant
from helpmig_tui.demo import prepare_demo, run_headless
from helpmig_tui.settings import resolve_paths


def _naumen(tenant: NaumenTenant):
    options = tenant.options(incident_types=CALL)

    def sample(_folder: Path, _tickets: int):
        opened = lambda: Itsm365Source.from_options(options, tenant.secret, transport=tenant.transport(),  # noqa: E731
                                                     sleep=lambda _s: None)
        return options, opened, tenant.counts(), {}

    technicians = {e["email"] for e in tenant.objects["employee"] if e["license"] != ["notLicensed"]}
    emails = {e["UUID"]: e["email"] for e in tenant.objects["employee"]}
    return sample, technicians, emails, tenant.truth.messy


def _infraon(tenant: InfraonTenant):
    options = tenant.options()

    def sample(_folder: Path, _tickets: int):
        opened = lambda: InfraonSource.from_options(options, tenant.secret, transport=tenant.transport(),  # noqa: E731
                                                     sleep=lambda _s: None)
        return options, opened, dict(tenant.truth.counts), {}

    technicians = {u["email"] for team in tenant.teams for u in team["staffs"]}
    emails = {str(r["requester_id"]): r["email"] for r in tenant.requesters}
    return sample, technicians, emails, tenant.truth.messy


@pytest.mark.parametrize("platform", ["itsm365", "infraon"])
def test_the_headless_flow_on_an_independent_tenant_ends_with_counts_that_add_up(platform, tmp_path):
    if platform == "itsm365":
        sample, technicians, emails, messy = _naumen(NaumenTenant(tickets=40, seed=3))
    else:
        sample, technicians, emails, messy = _infraon(InfraonTenant(tickets=40, seed=3))
    demo = prepare_demo(resolve_paths(tmp_path), platform, 40, sample=sample)
    result = asyncio.run(run_headless(demo))
    assert result.load.status == "done" and result.validation.passed and result.sample_validation.passed
    loaded: dict[str, int] = {}
    for report in result.load.reports:
        for o in report.objects:
            assert o.read == o.created + o.updated + o.skipped + o.rejected + o.failed + o.in_doubt + o.queued, \
                (report.phase, o.object)
            assert o.failed == o.in_doubt == 0, (report.phase, o.object)
            loaded[o.object] = o.read
    store = demo.sandbox.state.store
    contacts = list(store.all("contacts"))
    assert not {c.get("email") for c in contacts} & technicians  # technicians are never contacts
    contacts_phase = next(r for r in result.load.reports if r.phase == "contacts")
    # none made outside a phase, but the demo's fallback requester (for tickets whose requester was rejected)
    people = [c for c in contacts if c.get("email") != "unknown.requester@demo.example"]
    # a new workspace: every contact was created by the phase; "matched" ones are records merged into the
    # contact of the same email
    assert len(people) == sum(o.created for o in contacts_phase.objects)
    # requesters follow the SQL sources' rules: the one without an email is rejected with the audit's
    # code, and the case-duplicate is merged into the contact of the same (case-folded) email
    (no_email,), (duplicate,) = messy["requester_without_email"], messy["requester_duplicate_email"]
    rejected = {(row[2].split(":", 1)[1], row[5]) for report in result.load.reports for row in report.rows
                if row[0] == "contact" and row[4] == "rejected"}
    assert rejected == {(no_email, "contact.email_missing")}
    folded = [(c.get("email") or "").casefold() for c in contacts]
    assert len(folded) == len(set(folded))  # one contact per case-folded email
    assert folded.count(emails[duplicate].casefold()) == 1 and emails[duplicate] != emails[duplicate].casefold()
    # a message with files and no text arrives as a part carrying its files, flagged attachment-only
    files_only = set(messy.get("entry_without_text_but_files") or messy["comment_without_text_but_file"])
    not_loaded = {row[2].split(":", 1)[1] for report in result.load.reports for row in report.rows if row[0] == "part"}
    arrived = files_only - not_loaded
    assert arrived
    noted = {(obj, code): n for report in result.load.reports for obj, code, n, _ in report.noted}
    assert sum(n for (_, code), n in noted.items() if code == "body.attachment_only") == len(arrived)
    carrying = [part for conversation in store.all("conversations") for part in conversation["parts"]
                if part.get("attachments") and "(attachment)" in (part.get("body") or "")]
    assert len(carrying) == len(arrived)
    by_admins = by_people = 0
    for conversation in store.all("conversations"):
        for part in conversation["parts"]:
            author = part.get("author") or {}
            if part.get("part_type") != "comment" or not part.get("body"):
                continue
            if author.get("type") == "admin":
                by_admins += 1
            else:
                by_people += 1
                assert author.get("email") not in technicians
    assert by_admins and by_people
