"""Infraon Desk against its fake: exact counts, both auth styles, paging guards, hostile servers, secrets."""

import logging
from datetime import UTC, datetime

import pytest

from connectors.base import Capability, FieldType, ObjectRole, Severity, SourceError
from connectors.infraon import InfraonSource
from connectors.samples.infraon_fake import FOREIGN_HOST, FakeInfraon, InfraonFaults


def _read(source, name, since=None):
    return [r for batch in source.iter_records(name, since=since, batch_size=9) for r in batch]


def _codes(source):
    return {f.code for f in source.findings}


@pytest.fixture(scope="module")
def fake():
    return FakeInfraon(size=30, seed=11)


@pytest.fixture(scope="module")
def source(fake):
    return fake.source()


def test_every_object_reads_exactly_the_ground_truth(fake, source):
    schema = source.describe()
    assert {s.name for s in schema.objects} == set(fake.ground_truth.counts)
    for spec in schema.objects:
        records = _read(source, spec.name)
        assert len(records) == fake.ground_truth.counts[spec.name], spec.name
        assert len({r.key for r in records}) == len(records)
        if spec.count is not None and spec.name != "requesters":
            assert spec.count == len(records), spec.name
    # the counts are what the server announces (an item it cannot read included): not exact
    assert Capability.EXACT_COUNTS not in source.capabilities
    assert [(reason, [s.key for s in batch]) for reason, batch in source.skipped("requesters")] == [
        ("without_id", ["(no id, item 1)"])]


def test_the_item_without_an_id_is_rejected_with_a_finding_and_counts_add_up(fake, source):
    _read(source, "requesters")
    rejected = [f for f in source.findings if f.code == "infraon.record_without_id" and f.object == "requesters"]
    assert rejected and rejected[-1].count == fake.ground_truth.rejected["requesters"]
    assert source.describe().object("requesters").count == fake.ground_truth.counts["requesters"] + 1


def test_roles_and_both_incident_ids(fake, source):
    schema = source.describe()
    assert schema.object("incidents").role is ObjectRole.CONVERSATION and schema.object("incidents").key == "incident_id"
    assert schema.object("conversations").parent == "incidents" and schema.object("notes").role is ObjectRole.PART
    assert schema.object("requesters").role is ObjectRole.CONTACT and schema.object("technicians").role is ObjectRole.AGENT
    assert schema.object("companies").role is ObjectRole.COMPANY and schema.object("teams").role is ObjectRole.TEAM
    assert schema.object("kb_articles").role is ObjectRole.ARTICLE
    assert {s.name for s in schema.by_role(ObjectRole.RECORD)} == {"cis", "assets", "problems", "changes", "releases"}
    assert {s.name for s in schema.by_role(ObjectRole.INVENTORY)} == {"service_catalogue", "sla_policies"}
    record = _read(source, "incidents")[0]
    assert record.key == "20000" and record.data["display_id"] == "INC-00001"


def test_codes_are_named_from_the_tenants_options(fake, source):
    incidents = {r.key: r for r in _read(source, "incidents")}
    coded = incidents[fake.ground_truth.messy["priority_code_only"][0]]
    assert coded.data["priority"] == "2" and coded.data["priority_name"] == "P2 - High"
    assert coded.data["urgency_name"] == "Normal"  # tenant name, not the documented default "Medium"
    assert incidents["20000"].data["impact_name"] == "Business"  # no impact options: the documented defaults
    assert {r.data["name"] for r in _read(source, "priorities")} == {f"P{n} - {t}" for n, t in
                                                                     enumerate(["Critical", "High", "Medium", "Low", "Planning"], 1)}


def test_description_missing_from_the_list_comes_from_the_detail(fake, source):
    key = fake.ground_truth.messy["description_only_in_detail"][0]
    record = next(r for r in _read(source, "incidents") if r.key == key)
    assert record.data["description"] == "<p>Details of 2</p>"
    assert record.data["assignee_email"] == "tech2@acme.example.com" and record.data["group_name"] == "L1"


def test_dates_honour_offsets_and_read_naive_values_in_the_configured_zone(source):
    record = _read(source, "incidents")[0]
    assert record.data["creation_time"] == datetime(2024, 1, 1, 3, 30, tzinfo=UTC)  # 09:00+05:30
    assert record.data["last_update_time"] == datetime(2024, 1, 1, 6, 30, tzinfo=UTC)  # 12:00 naive, Asia/Kolkata
    assert record.updated_at == record.data["last_update_time"]


def test_conversations_page_per_incident_and_match_the_children(fake, source):
    long_one = fake.ground_truth.messy["conversation_longer_than_a_page"][0]
    got = source.children("conversations", [long_one])[long_one]
    assert len(got) == 120 > fake.faults.max_page_limit
    assert all(r.parent_key == long_one for r in got)
    assert source.child_counts("conversations") == fake.ground_truth.children["conversations"]
    assert source.child_counts("notes") == fake.ground_truth.children["notes"]


def test_custom_fields_of_records_are_discovered(source):
    spec = source.describe().object("cis")
    assert "cf_rack" in spec.field_names and "status_name" in spec.field_names
    assert _read(source, "cis")[1].data["cf_rack"] == "R1"


def test_attachments_download_without_leaking_credentials_to_other_hosts(fake, source):
    seen = 0
    missing = 0
    for record in _read(source, "conversations"):
        for ref in source.attachments("conversations", record):
            seen += 1
            try:
                data = ref.open().read()
            except SourceError:
                missing += 1
                continue
            assert data
    assert seen == fake.ground_truth.attachments["conversations"] and missing == fake.ground_truth.missing_attachments
    foreign = [r for r in fake.requests if r.url.host == FOREIGN_HOST]
    assert foreign and all("Authorization" not in r.headers for r in foreign)


def test_delta_filters_on_the_update_time(source):
    everything = _read(source, "incidents")
    since = everything[10].updated_at
    changed = _read(source, "incidents", since=since)
    assert {r.key for r in changed} == {r.key for r in everything if r.updated_at >= since}


@pytest.mark.parametrize("style", ["api_key", "api_key_prefixed"])
def test_auto_auth_finds_the_api_key_style(style):
    fake = FakeInfraon(size=5, faults=InfraonFaults(auth_style=style))
    source = fake.source()
    check = source.check()
    assert check.ok and f"authentication: {style}" in check.details[0]
    assert len(_read(source, "incidents")) == 5


def test_token_auth_logs_in_sends_the_token_raw_and_renews_it(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeInfraon(size=12, faults=InfraonFaults(auth_style="token", token_lifetime=15))
    source = fake.source(secret=lambda n: fake.password if n == "infraon_password" else None)
    assert len(_read(source, "conversations")) == fake.ground_truth.counts["conversations"]
    assert len(fake.tokens) >= 2  # renewed after expiry
    used = {r.headers.get("Authorization") for r in fake.requests if r.url.path != "/ux/api-token-auth/"}
    assert used <= set(fake.tokens) and not any(h.startswith("Bearer") for h in used)
    assert fake.password not in caplog.text and fake.password not in repr(source)


def test_rejected_credentials_are_clear_and_secret_free(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeInfraon(size=5, faults=InfraonFaults(auth_style="token"))
    wrong = {"infraon_api_key": "WRONG-KEY-123", "infraon_password": "WRONG-PASS-456"}
    source = fake.source(secret=wrong.get)
    check = source.check()
    assert not check.ok and "rejected" in check.summary
    with pytest.raises(SourceError) as info:
        _read(source, "incidents")
    assert info.value.code == "source.auth_rejected"
    for secret in wrong.values():
        assert secret not in str(info.value) + info.value.hint + repr(check) + caplog.text + repr(source.findings)
    with pytest.raises(SourceError, match="API key, or a username"):
        InfraonSource.from_options(fake.options(), lambda n: None)


def test_endless_pagination_stops_with_a_finding_and_no_duplicates():
    fake = FakeInfraon(size=30, faults=InfraonFaults(endless=frozenset({"incidents"}), max_page_limit=10))
    source = fake.source(options=fake.options(items_per_page=10))
    records = _read(source, "incidents")
    assert len(records) == 30 and len({r.key for r in records}) == 30
    assert "infraon.pagination_repeats" in _codes(source)


def test_a_list_that_ignores_the_page_number_is_reported_as_short():
    fake = FakeInfraon(size=30, faults=InfraonFaults(ignores_page=frozenset({"requesters"}), max_page_limit=10))
    source = fake.source(options=fake.options(items_per_page=10))
    records = _read(source, "requesters")
    assert len(records) == 10
    mismatch = next(f for f in source.findings if f.code == "infraon.count_mismatch")
    assert mismatch.severity is Severity.WARNING and mismatch.count == len(fake.lists["requesters"]) - 10


def test_the_page_cap_ends_a_very_long_list():
    fake = FakeInfraon(size=30, faults=InfraonFaults(max_page_limit=5))
    source = fake.source(options=fake.options(items_per_page=5, max_pages=2))
    assert len(_read(source, "incidents")) == 10
    assert {"infraon.pagination_capped", "infraon.count_mismatch"} <= _codes(source)


def test_rate_limits_are_waited_out_with_retry_after():
    sleeps: list[float] = []
    fake = FakeInfraon(size=20, faults=InfraonFaults(rate_limit_every=3, unavailable_every=7))
    source = fake.source(sleep=sleeps.append)
    assert len(_read(source, "conversations")) == fake.ground_truth.counts["conversations"]
    assert 2.0 in sleeps and "source.rate_limited" in _codes(source)


def test_a_rate_limit_storm_is_a_bounded_error():
    sleeps: list[float] = []
    fake = FakeInfraon(size=5, faults=InfraonFaults(rate_limit_storm=10_000))
    with pytest.raises(SourceError) as info:
        _read(fake.source(sleep=sleeps.append), "incidents")
    assert info.value.code == "source.rate_limited" and len(sleeps) == 5


@pytest.mark.parametrize(("faults", "code"), [
    (InfraonFaults(malformed=frozenset({"incidents"})), "source.malformed"),
    (InfraonFaults(wrong_shape=frozenset({"incidents"})), "source.malformed"),
    (InfraonFaults(forbidden=frozenset({"incidents"})), "source.permission_denied"),
    (InfraonFaults(down=True), "source.unreachable"),
])
def test_broken_required_lists_are_clear_errors(faults, code):
    fake = FakeInfraon(size=5, faults=faults)
    with pytest.raises(SourceError) as info:
        _read(fake.source(), "incidents")
    assert info.value.code == code and fake.api_key not in str(info.value)


def test_missing_or_forbidden_optional_modules_become_findings():
    fake = FakeInfraon(size=5, faults=InfraonFaults(missing=frozenset({"cis", "notes"}), forbidden=frozenset({"releases"})))
    source = fake.source()
    names = {s.name for s in source.describe().objects}
    assert not names & {"cis", "notes", "releases"} and "assets" in names
    found = {(f.code, f.object) for f in source.findings}
    assert ("source.object_absent", "cis") in found and ("source.object_absent", "notes") in found
    assert ("source.permission_denied", "releases") in found
    with pytest.raises(SourceError, match="does not expose"):
        _read(source, "cis")


def test_a_conversation_list_ignoring_its_incident_filter_is_grouped_by_ref_id_instead():
    fake = FakeInfraon(size=8, faults=InfraonFaults(ignores_parent_filter=True))
    source = fake.source()
    check = source.check()
    assert check.ok and any("ref_id filter does not work here" in line for line in check.details)
    assert any(f.code == "infraon.parent_filter_ignored" for f in source.findings)
    assert len(_read(source, "conversations")) == fake.ground_truth.counts["conversations"]
    got = source.children("conversations", list(fake.ground_truth.children["conversations"]))
    assert {k: len(v) for k, v in got.items()} == fake.ground_truth.children["conversations"]
    assert all(r.parent_key == k for k, rows in got.items() for r in rows)


def test_get_reads_incidents_by_internal_id(fake, source):
    got = source.get("incidents", ["20003", "nope"])
    assert [r.key for r in got] == ["20003"] and got[0].data["summary"] == "Laptop 3 will not boot"
    assert got[0].data["display_id"] == "INC-00004" and got[0].data["priority_name"] == "P4 - Low"
    assert got[0].data["creation_time"] == datetime(2024, 1, 2, 0, 30, tzinfo=UTC)  # 06:00+05:30


def test_endpoint_overrides_are_checked():
    fake = FakeInfraon(size=5)
    source = fake.source(options=fake.options(endpoints={"cis": None, "kb_articles": {"path": "/ux/kb/elsewhere/"}}))
    names = {s.name for s in source.describe().objects}
    assert "cis" not in names and "kb_articles" not in names  # the override points at a route the tenant lacks
    with pytest.raises(SourceError, match="unknown object"):
        fake.source(options=fake.options(endpoints={"widgets": {}}))


def test_a_time_named_custom_field_is_typed_by_its_values():
    """`preferred_contact_time` holding Morning/Evening is text, read as written (not a date
    left empty); a time-named field holding dates stays a date."""
    fake = FakeInfraon(size=12, seed=3)
    for n, item in enumerate(fake.lists["incidents"]):
        item["preferred_contact_time"] = ("Morning", "Evening", "")[n % 3]
        item["callback_time"] = f"2024-03-{n % 28 + 1:02d}T10:00:00+01:00"
    fields = {"preferred_contact_time": ["preferred_contact_time"], "callback_time": ["callback_time"]}
    source = fake.source(options=fake.options(endpoints={"incidents": {"fields": fields}}))
    spec = source.describe().object("incidents")
    assert spec.field("preferred_contact_time").type is FieldType.STRING
    assert spec.field("callback_time").type is FieldType.DATETIME
    records = _read(source, "incidents")
    assert {r.data["preferred_contact_time"] for r in records} >= {"Morning", "Evening"}
    assert all(isinstance(r.data["callback_time"], datetime) for r in records)
    assert "infraon.value_unreadable" not in _codes(source)
