"""Infraon Desk against a tenant written from Infraon's public material, not from our connector.

The tenant has only the documented incident and conversation routes (requesters live
elsewhere, technicians nowhere, companies forbidden), names an entry's writer in its
own way, writes notes and status or priority changes as conversation entries, sends
mails that hold only files, may ignore `ref_id`, and throttles with Retry-After.
"""

from __future__ import annotations

import httpx
import pytest

from connectors.base import Severity
from connectors.infraon import InfraonSource
from connectors.samples.tenants.infraon import InfraonBehaviour, InfraonTenant
from helpmig_tui.audit import run_audit


def _source(tenant: InfraonTenant, sleeps: list[float] | None = None, transport=None, **options):
    return InfraonSource.from_options(tenant.options(**options), tenant.secret, transport=transport or tenant.transport(),
                                      sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def _read(source, name):
    return [r for batch in source.iter_records(name) for r in batch]


@pytest.fixture(scope="module")
def tenant():
    return InfraonTenant(tickets=300)


@pytest.fixture(scope="module")
def audited(tenant):
    with _source(tenant) as source:
        result = run_audit(source)
    return result, len(tenant.requests)


def test_the_audit_of_300_tickets_finishes_within_1000_requests_with_the_tenants_counts(tenant, audited):
    result, requests = audited
    counts = {o.spec.name: o.profile.count for o in result.objects}
    truth = tenant.truth.counts
    assert counts["incidents"] == truth["incidents"] and counts["conversations"] == truth["conversations"]
    assert counts["technicians"] == truth["technicians"] and counts["teams"] == truth["teams"]
    assert counts["requesters"] == truth["requesters_of_incidents"]
    assert requests <= 1000
    assert next(f for f in result.findings if f.code == "source.requests").count == requests


def test_absent_and_forbidden_routes_are_info_findings_that_say_what_follows(audited):
    result, _ = audited
    by_object = {f.object: f for f in result.findings if f.code in ("source.object_absent", "source.permission_denied")}
    assert by_object["technicians"].severity is Severity.INFO and "incident options" in by_object["technicians"].message
    assert "taken from the requesters named by the incidents" in by_object["requesters"].message
    assert by_object["companies"].code == "source.permission_denied" and "no companies are created" in by_object["companies"].message
    assert "conversation entries" in by_object["notes"].message
    assert all(f.severity is Severity.INFO for f in by_object.values())
    assert "companies" not in {o.spec.name for o in result.objects}


def test_a_route_set_for_the_tenant_is_listed_instead_of_derived(tenant):
    source = _source(tenant, endpoints={"requesters": {"path": tenant.behaviour.requesters_path}})
    requesters = _read(source, "requesters")
    assert len(requesters) == tenant.truth.counts["requesters"]
    assert not any(f.object == "requesters" and f.code == "source.object_absent" for f in source.findings)


def test_entries_say_who_wrote_them_and_from_which_side(tenant):
    source = _source(tenant)
    technicians = {r.key: r.data["email"] for r in _read(source, "technicians")}
    requesters = {r.key for r in _read(source, "requesters")}
    by_id = {str(e["id"]): e for e in tenant.entries}
    for record in _read(source, "conversations"):
        raw = by_id[record.key]
        writer = raw["creator_info"]
        if writer["user_type"] == "user":
            assert record.data["author_technician"] == str(writer["id"]) and record.data["author_requester"] is None
            assert technicians[str(writer["id"])] == writer["email"]
        else:
            assert record.data["author_requester"] == str(writer["id"]) in requesters
            assert record.data["author_technician"] is None
        kind = {"Email": "customer", "Reply": "agent"}.get(raw["type"], "note")
        assert record.data["direction"] == kind, (raw["type"], record.key)
        assert (record.data["author_email"] or "") == writer["email"]


def test_status_and_priority_changes_follow_an_explicit_reported_rule(tenant):
    kept = _source(tenant)
    entries = _read(kept, "conversations")
    system = [r for r in entries if r.data["entry_kind"] == "system"]
    assert len(system) == tenant.truth.counts["system_entries"]
    assert all(r.data["direction"] == "note" and r.data["content"].strip("<p/>") for r in system)
    noted = [f for f in kept.findings if f.code == "infraon.system_entries"]
    assert sum(f.count for f in noted) == len(system) and all("system_entries=note" in f.message for f in noted)
    skipping = _source(tenant, system_entries="skip")
    assert len(_read(skipping, "conversations")) == len(entries) - len(system)
    left_out = [f for f in skipping.findings if f.code == "infraon.system_entries"]
    assert sum(f.count for f in left_out) == len(system) and all("left out" in f.message for f in left_out)


def test_entries_without_text_are_kept_with_their_files(tenant):
    source = _source(tenant)
    empty = set(tenant.truth.messy["entry_without_text_but_files"])
    records = {r.key: r for r in _read(source, "conversations")}
    assert empty <= set(records)
    for key in empty:
        refs = source.attachments("conversations", records[key])
        assert len(refs) == 2
        for ref in refs:
            token = ref.location.rsplit("=", 1)[-1]
            assert ref.open().read() == tenant.files[token]
    finding = next(f for f in source.findings if f.code == "infraon.entry_files_only")
    assert finding.severity is Severity.INFO and finding.count == len(empty)


def test_the_ref_id_filter_is_probed_and_a_tenant_ignoring_it_is_grouped_here():
    tenant = InfraonTenant(tickets=80, behaviour=InfraonBehaviour(ref_id_filter=False))
    source = _source(tenant)
    check = source.check()
    assert any("ref_id filter does not work here" in line for line in check.details)
    assert any(f.code == "infraon.parent_filter_ignored" and f.severity is Severity.INFO for f in source.findings)
    truth = tenant.truth.children["conversations"]
    got = source.children("conversations", list(truth))
    assert {k: len(v) for k, v in got.items()} == truth
    assert not [r for r in tenant.requests if r.url.params.get("ref_id") not in (None, str(tenant.entries[0]["ref_id"]))]


def test_entries_asked_for_one_incident_are_checked_to_belong_to_it():
    tenant = InfraonTenant(tickets=300)
    stranger = tenant.entries[-1]

    def leaky(request: httpx.Request) -> httpx.Response:  # one incident's list also carries another's entry
        response = tenant.handle(request)
        ref = request.url.params.get("ref_id")
        if ref and ref != str(tenant.entries[0]["ref_id"]) and response.status_code == 200:
            body = response.json()
            body["results"].append(stranger)
            return httpx.Response(200, json=body)
        return response

    source = _source(tenant, transport=httpx.MockTransport(leaky))
    wanted = [k for k in tenant.truth.children["conversations"] if k != str(stranger["ref_id"])][:3]
    got = source.children("conversations", wanted)
    assert all(r.parent_key == key for key, rows in got.items() for r in rows)
    assert {k: len(v) for k, v in got.items()} == {k: tenant.truth.children["conversations"][k] for k in wanted}
    stray = next(f for f in source.findings if f.code == "infraon.stray_entry")
    assert stray.severity is Severity.WARNING and stray.keys == (str(stranger["id"]),)


def test_a_few_incidents_are_asked_one_by_one_and_many_from_the_whole_list():
    tenant = InfraonTenant(tickets=300)
    source = _source(tenant)
    keys = list(tenant.truth.children["conversations"])
    source.children("conversations", keys[:2])
    per_incident = [r for r in tenant.requests if r.url.params.get("ref_id")]
    assert len(per_incident) == 3  # the probe, then one per incident
    before = len(tenant.requests)
    source.children("conversations", keys[2:40])
    whole = [r for r in tenant.requests[before:] if "conversation" in r.url.path]
    assert whole and not [r for r in whole if r.url.params.get("ref_id")]  # one read of the list, then grouped
    got = source.children("conversations", keys)
    assert {k: len(v) for k, v in got.items()} == tenant.truth.children["conversations"]


@pytest.mark.parametrize("auth", ["api_key_prefixed", "token"])
def test_both_documented_auth_styles_work(auth):
    tenant = InfraonTenant(tickets=20, behaviour=InfraonBehaviour(auth=auth))
    source = _source(tenant)
    assert len(_read(source, "incidents")) == 20


def test_429_with_retry_after_is_waited_out():
    tenant = InfraonTenant(tickets=60, behaviour=InfraonBehaviour(throttle_every=4, retry_after="3"))
    sleeps: list[float] = []
    source = _source(tenant, sleeps)
    assert len(_read(source, "incidents")) == 60
    assert sleeps and set(sleeps) == {3.0}
    assert source.request_usage().throttled == len(sleeps)


def test_entries_that_name_no_writer_are_a_finding_not_a_guess():
    tenant = InfraonTenant(tickets=20)
    for entry in tenant.entries:
        entry.pop("creator_info")
        entry.pop("created_by")
    source = _source(tenant)
    records = _read(source, "conversations")
    assert records and all(r.data["author_technician"] is r.data["author_requester"] is None for r in records)
    assert {r.data["direction"] for r in records if r.data["entry_kind"] == "message"} == {"customer"}
    finding = next(f for f in source.findings if f.code == "infraon.entry_without_author")
    assert finding.severity is Severity.WARNING
    assert finding.count == sum(1 for r in records if r.data["entry_kind"] != "system")
