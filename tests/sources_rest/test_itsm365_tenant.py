"""ITSM 365 against a tenant written from Naumen's public material, not from our connector.

The tenant reads `op.between(...)` literally (no date filter), uses its own type codes
(serviceCall$call, serviceCall$serviceCall), licenses as lists, empty comments that carry
files, classes it lacks or forbids, and 429 with Retry-After.
"""

from __future__ import annotations

import httpx
import pytest

from connectors.base import Severity
from connectors.itsm365 import Itsm365Source
from connectors.samples.tenants.naumen import CALL, REQUEST, NaumenBehaviour, NaumenTenant
from helpmig_tui.audit import run_audit

CHOSEN = {"incident_types": CALL}


def _source(tenant: NaumenTenant, sleeps: list[float] | None = None, **options):
    return Itsm365Source.from_options(tenant.options(**options), tenant.secret, transport=tenant.transport(),
                                      sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def _read(source, name):
    return [r for batch in source.iter_records(name) for r in batch]


def _counts(result):
    return {o.spec.name: o.profile.count for o in result.objects}


@pytest.fixture(scope="module")
def tenant():
    return NaumenTenant(tickets=300)


@pytest.fixture(scope="module")
def audited(tenant):
    with _source(tenant, **CHOSEN) as source:
        result = run_audit(source)
        requests = len(tenant.requests)
    return result, requests


def test_the_audit_of_300_tickets_reads_the_truth_in_far_fewer_than_1000_requests(tenant, audited):
    result, requests = audited
    counts = _counts(result)
    for name, expected in tenant.counts().items():
        assert counts[name] == expected, name
    assert requests <= 1000
    usage = next(f for f in result.findings if f.code == "source.requests")
    assert usage.count == requests and "ITSM 365" in usage.message


def test_without_a_date_filter_a_reply_that_may_be_cut_is_said_and_comments_are_asked_per_call(tenant, audited):
    result, requests = audited
    cut = next(f for f in result.findings if f.code == "itsm365.reply_may_be_cut")
    assert cut.severity is Severity.WARNING and "does not read it as a date range" in cut.detail
    per_call = next(f for f in result.findings if f.code == "itsm365.read_per_owner")
    assert per_call.severity is Severity.INFO
    comment_finds = [r for r in tenant.requests if "/find/comment" in r.url.path]
    assert len(comment_finds) == 2 + len(tenant.objects["serviceCall"])  # the whole read, a probe, one per call
    assert not [r for r in tenant.requests if "/find/comment" in r.url.path and "op.between" in str(r.url)]


def test_with_a_working_date_filter_and_a_server_cap_requests_follow_records_not_years():
    asked = {}
    for tickets, years in ((300, 2), (300, 20), (1200, 2)):
        tenant = NaumenTenant(tickets=tickets, years=years, behaviour=NaumenBehaviour(date_filter=True, max_results=100))
        with _source(tenant, **CHOSEN) as source:
            result = run_audit(source)
        counts = _counts(result)
        for name, expected in tenant.counts().items():
            assert counts[name] == expected, (tickets, years, name)
        assert not [f for f in result.findings if f.code in ("itsm365.reply_may_be_cut", "itsm365.read_per_owner")]
        asked[tickets, years] = len(tenant.requests)
    assert asked[300, 2] <= 1000
    assert asked[300, 20] <= asked[300, 2] * 1.3  # ten times the years: about the same requests
    assert asked[1200, 2] <= asked[300, 2] * 4.5  # four times the records: at most about four times the requests


def test_the_date_filter_is_probed_once_at_connect_and_the_check_says_what_it_found():
    literal = NaumenTenant(tickets=30)
    check = _source(literal).check()
    assert check.ok
    assert any("does not read it as a date range" in line for line in check.details)
    assert sum("op.between" in str(r.url) or "40x" in r.url.path for r in literal.requests) == 1
    working = NaumenTenant(tickets=30, behaviour=NaumenBehaviour(date_filter=True))
    assert any("narrows serviceCall to a one-second window" in line for line in _source(working).check().details)


def test_type_codes_come_from_the_tenant_and_the_operator_chooses_the_incidents(tenant):
    check = _source(tenant).check()
    types = next(line for line in check.details if line.startswith("service call types"))
    assert f"{CALL} ({tenant.type_counts[CALL]})" in types and f"{REQUEST} ({tenant.type_counts[REQUEST]})" in types
    assert any("no type names an incident" in line for line in check.details)
    unchosen = _source(tenant)
    assert _read(unchosen, "incidents") == []
    assert len(_read(unchosen, "service_requests")) == len(tenant.objects["serviceCall"])
    warning = next(f for f in unchosen.findings if f.code == "itsm365.no_incident_type")
    assert warning.severity is Severity.WARNING and CALL in warning.message and "incident_types" in warning.detail
    chosen = _source(tenant, **CHOSEN)
    assert len(_read(chosen, "incidents")) == tenant.type_counts[CALL]
    assert {r.data["kind"] for r in _read(chosen, "service_requests")} == {"service_request"}
    typo = _source(tenant, incident_types="serviceCall$incident, " + CALL)
    _read(typo, "incidents")
    assert any(f.code == "itsm365.incident_type_unknown" and "serviceCall$incident" in f.message for f in typo.findings)


def test_technicians_are_agents_never_contacts_and_their_comments_say_so(tenant):
    source = _source(tenant, **CHOSEN)
    technicians = {r.key for r in _read(source, "technicians")}
    licensed = {e["UUID"] for e in tenant.objects["employee"] if e["license"] != ["notLicensed"]}
    assert technicians == licensed and len(technicians) == tenant.truth.counts["technicians"]
    contacts = {r.key for r in _read(source, "employees")}
    assert not contacts & technicians
    comments = _read(source, "incident_comments") + _read(source, "request_comments")
    by_uuid = {c["UUID"]: c for c in tenant.objects["comment"]}
    for record in comments:
        raw = by_uuid[record.key]
        expected = "note" if raw["private"] else ("agent" if raw["author"]["UUID"] in technicians else "customer")
        assert record.data["direction"] == expected, record.key
    assert {r.data["direction"] for r in comments} == {"note", "agent", "customer"}
    spec = source.describe().object("incident_comments")
    assert spec.field("author").references is None  # technicians and requesters share the employees' keys


def test_a_technician_who_raised_a_call_is_also_a_contact():
    tenant = NaumenTenant(tickets=30)
    technician = next(e for e in tenant.objects["employee"] if e["license"] != ["notLicensed"])
    tenant.objects["serviceCall"][0]["clientEmployee"] = {"UUID": technician["UUID"], "title": technician["title"]}
    source = _source(tenant, **CHOSEN)
    assert technician["UUID"] in {r.key for r in _read(source, "employees")}
    assert technician["UUID"] in {r.key for r in _read(source, "technicians")}


def test_comments_without_text_are_read_with_their_files(tenant):
    source = _source(tenant, **CHOSEN)
    empty = set(tenant.truth.messy["comment_without_text_but_file"])
    records = {r.key: (name, r) for name in ("incident_comments", "request_comments") for r in _read(source, name)}
    assert empty <= set(records)
    for key in empty:
        name, record = records[key]
        refs = source.attachments(name, record)
        assert len(refs) == 1 and refs[0].exists
        assert refs[0].open().read() == tenant.file_bytes[refs[0].content_id]
    finding = next(f for f in source.findings if f.code == "itsm365.comment_files_only")
    assert finding.severity is Severity.INFO and finding.count == len(empty)


def test_every_file_the_tenant_holds_for_calls_and_their_comments_is_found(tenant):
    source = _source(tenant, **CHOSEN)
    found = 0
    for name in ("incidents", "service_requests", "incident_comments", "request_comments"):
        for record in _read(source, name):
            for ref in source.attachments(name, record):
                assert ref.open().read() == tenant.file_bytes[ref.content_id]
                found += 1
    assert found == tenant.truth.attachments["all"]


def test_comments_of_other_classes_are_reported_not_parts():
    tenant = NaumenTenant(tickets=60, behaviour=NaumenBehaviour(date_filter=True))
    with _source(tenant, **CHOSEN) as source:
        result = run_audit(source)
    elsewhere = next(f for f in result.findings if f.code == "itsm365.comments_elsewhere")
    assert elsewhere.count == len(tenant.objects["changeRequest"]) and elsewhere.severity is Severity.INFO
    assert _counts(result)["incident_comments"] == tenant.counts()["incident_comments"]


def test_children_asked_per_call_are_checked_to_belong_to_it():
    tenant = NaumenTenant(tickets=300)
    stranger = tenant.objects["comment"][0]
    probe_owner = stranger["source"]

    def leaky(request: httpx.Request) -> httpx.Response:  # a call's comments (not the probes) also carry another's
        response = tenant.handle(request)
        if "/find/comment/" in request.url.path and "text" in request.url.params.get("attrs", ""):
            rows = response.json()
            if rows and rows[0].get("source") != probe_owner:
                return httpx.Response(200, json=[*rows, {a: stranger.get(a) for a in rows[0]}])
        return response

    source = Itsm365Source.from_options(tenant.options(**CHOSEN), tenant.secret, transport=httpx.MockTransport(leaky),
                                        sleep=lambda _s: None)
    truth = tenant.truth.children["comments"]
    wanted = [k for k in truth if k != probe_owner][:5]
    got = source.children("incident_comments", wanted)
    assert {k: len(v) for k, v in got.items()} == {k: truth[k] for k in wanted}
    assert all(r.parent_key == key and r.data["service_call"] == key for key, rows in got.items() for r in rows)
    stray = next(f for f in source.findings if f.code == "itsm365.stray_child")
    assert stray.severity is Severity.WARNING and stray.keys == (stranger["UUID"],)


def test_an_owner_filter_the_tenant_ignores_is_seen_once_and_not_relied_on():
    tenant = NaumenTenant(tickets=60, behaviour=NaumenBehaviour(source_filter=False, max_results=100))
    source = _source(tenant, **CHOSEN)
    calls = [c["UUID"] for c in tenant.objects["serviceCall"]]
    got = source.children("incident_comments", calls)
    assert all(r.parent_key == key for key, rows in got.items() for r in rows)
    ignored = next(f for f in source.findings if f.code == "itsm365.owner_filter_ignored")
    assert ignored.severity is Severity.WARNING and "may be cut" in ignored.message
    # the class, the date filter probe (its reply looked cut), the owner filter probe
    assert len([r for r in tenant.requests if "/find/comment" in r.url.path]) == 3


def test_a_tenant_ignoring_the_owner_filter_still_gives_each_call_its_own_comments_when_they_fit_in_one_reply():
    tenant = NaumenTenant(tickets=40, behaviour=NaumenBehaviour(source_filter=False))
    source = _source(tenant, **CHOSEN)
    truth = tenant.truth.children["comments"]
    got = source.children("incident_comments", list(truth))
    assert {k: len(v) for k, v in got.items() if v} == truth


def test_classes_the_tenant_lacks_or_forbids_are_info_findings_with_their_consequence(tenant, audited):
    result, _ = audited
    names = {o.spec.name for o in result.objects}
    assert not names & {"kb_articles", "problems", "agreements"}
    by_object = {(f.code, f.object): f for f in result.findings}
    for code, obj in (("source.object_absent", "kb_articles"), ("source.object_absent", "problems"),
                      ("source.permission_denied", "agreements")):
        finding = by_object[code, obj]
        assert finding.severity is Severity.INFO and "nothing is migrated" in finding.message


@pytest.mark.parametrize("retry_after", ["2", "date"])
def test_429_with_retry_after_is_waited_out_and_told(retry_after):
    tenant = NaumenTenant(tickets=40, behaviour=NaumenBehaviour(throttle_every=2, retry_after=retry_after))
    sleeps: list[float] = []
    told: list[str] = []
    with _source(tenant, sleeps, **CHOSEN) as source:
        source.activity = told.append
        assert len(_read(source, "incidents")) == tenant.type_counts[CALL]
        assert len(_read(source, "employees")) == tenant.truth.counts["employees"]
        usage = source.request_usage()
    assert sleeps and all(0 < s <= 3 for s in sleeps)
    assert usage.throttled == len(sleeps) and usage.requests == len(tenant.requests)
    assert any("asked to slow down (HTTP 429)" in t for t in told)


def test_a_second_audit_pass_costs_no_request(tenant):
    with _source(tenant, **CHOSEN) as source:
        first = [r.key for r in _read(source, "incident_comments")]
        before = len(tenant.requests)
        assert [r.key for r in _read(source, "incident_comments")] == first
        assert source.child_counts("incident_comments")
        assert len(tenant.requests) == before


def test_a_technician_asked_for_by_key_as_a_contact_is_not_one(tenant):
    source = _source(tenant, **CHOSEN)
    technician = next(e["UUID"] for e in tenant.objects["employee"] if e["license"] != ["notLicensed"])
    requester = next(e["UUID"] for e in tenant.objects["employee"] if e["license"] == ["notLicensed"])
    assert [r.key for r in source.get("employees", [technician, requester])] == [requester]
    assert [r.key for r in source.get("technicians", [technician, requester])] == [technician]


def test_the_audit_shows_requests_against_its_plan_and_the_waits_as_they_happen():
    tenant = NaumenTenant(tickets=30, behaviour=NaumenBehaviour(throttle_every=5))
    steps = []
    with _source(tenant, **CHOSEN) as source:
        result = run_audit(source, progress=steps.append)
    labels = [s.step for s in steps]
    assert any(label.startswith("counting Incidents (") and "requests to ITSM 365" in label for label in labels)
    assert any(" of about " in label for label in labels)
    assert any(label.startswith("waiting 2 s: ITSM 365 asked to slow down (HTTP 429)") for label in labels)
    finding = next(f for f in result.findings if f.code == "source.requests")
    assert finding.count == len(tenant.requests) and "asked to slow down" in finding.message
    assert source.activity is None  # the audit's listener is gone with the audit
