"""ITSM 365 against its fake tenant: exact counts, windows, shapes, hostile servers, secrets."""

import logging
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from connectors.base import ObjectRole, Severity, SourceError
from connectors.itsm365 import Itsm365Source
from connectors.registry import open_source
from connectors.samples.itsm365_fake import EPOCH, FakeItsm365, Itsm365Faults


def _read(source, name, since=None):
    return [r for batch in source.iter_records(name, since=since, batch_size=7) for r in batch]


def _leaks(secret: str, *texts: object) -> bool:
    return any(secret in str(t) for t in texts)


@pytest.fixture(scope="module")
def fake():
    return FakeItsm365(size=40, seed=7)


@pytest.fixture(scope="module")
def source(fake):
    return fake.source()


def test_every_object_reads_exactly_the_ground_truth(fake, source):
    names = {spec.name for spec in source.describe().objects}
    assert names == set(fake.ground_truth.counts)
    for name in sorted(names):
        records = _read(source, name)
        assert len(records) == fake.ground_truth.counts[name], name
        assert len({r.key for r in records}) == len(records), f"{name} has duplicate keys"
    assert [(f.code, f.severity) for f in source.findings] == [("itsm365.service_call_types", Severity.INFO)]
    assert "serviceCall$incident (" in source.findings[0].message and "incidents: serviceCall$incident" in source.findings[0].message


def test_roles_keys_and_parents_follow_the_brief(source):
    schema = source.describe()
    assert {s.name for s in schema.by_role(ObjectRole.CONVERSATION)} == {"incidents", "service_requests"}
    assert schema.object("incident_comments").parent == "incidents"
    assert schema.object("request_comments").parent == "service_requests"
    assert schema.object("technicians").role is ObjectRole.AGENT
    assert schema.object("ous").role is ObjectRole.COMPANY
    assert schema.object("agreements").role is ObjectRole.INVENTORY
    assert schema.object("problems").role is ObjectRole.RECORD
    assert schema.object("kb_articles").role is ObjectRole.ARTICLE
    assert schema.object("priorities").role is ObjectRole.LOOKUP
    assert all(spec.key == "uuid" for spec in schema.objects if spec.name != "states")


def test_no_service_call_is_lost_or_read_twice_across_windows(fake, source):
    expected = {o["UUID"] for o in fake.objects["serviceCall"]}
    incidents = {r.key for r in _read(source, "incidents")}
    requests = {r.key for r in _read(source, "service_requests")}
    assert incidents | requests == expected and not incidents & requests


def test_dates_are_read_in_the_tenant_zone_and_yielded_as_utc(fake, source):
    first = fake.objects["serviceCall"][0]
    record = source.get("incidents", [first["UUID"]])[0]
    assert record.data["created"] == datetime(2023, 1, 2, 6, 0, 0, tzinfo=UTC)  # 09:00 Moscow
    assert EPOCH.hour == 9
    for name in ("incidents", "incident_comments", "employees"):
        for r in _read(source, name):
            for value in r.data.values():
                if isinstance(value, datetime):
                    assert value.tzinfo is UTC


def test_codes_and_references_resolve_to_names(fake, source):
    calls = {r.key: r for r in _read(source, "incidents") + _read(source, "service_requests")}
    bare = fake.ground_truth.messy["priority_as_bare_uuid"][0]
    assert calls[bare].data["priority"].startswith("priority$")
    assert calls[bare].data["priority_name"] in {"1-Critical", "2-High", "3-Medium", "4-Low", "5-Planning"}
    sample = next(iter(calls.values()))
    assert sample.data["state_name"] in {"Registered", "In progress", "Resolved", "Closed"}
    assert sample.data["client"].startswith("employee$") and sample.data["client_name"]
    assert sample.data["responsible_team_name"] in {"First line", "Second line", "Network"}
    unlisted = [c for c in fake.objects["serviceCall"] if c["metaClass"] == "serviceCall$call"][0]
    assert calls[unlisted["UUID"]].data["kind"] == "service_request"


def test_comments_come_per_call_even_past_the_server_cap(fake, source):
    heavy = fake.ground_truth.messy["more_comments_than_server_cap"][0]
    owner = "incident_comments" if heavy in fake.ground_truth.children["incident_comments"] else "request_comments"
    got = source.children(owner, [heavy])[heavy]
    assert len(got) == fake.faults.cap + 30
    assert [r.data["created"] for r in got] == sorted(r.data["created"] for r in got)
    assert all(r.parent_key == heavy and r.data["service_call"] == heavy for r in got)
    assert source.child_counts("incident_comments") == fake.ground_truth.children["incident_comments"]


def test_attachments_listed_and_inline_download_the_right_bytes(fake, source):
    inline_call = fake.ground_truth.messy["inline_image"][0]
    owner = "incidents" if source.get("incidents", [inline_call]) else "service_requests"
    record = source.get(owner, [inline_call])[0]
    refs = source.attachments(owner, record)
    assert len(refs) == 1 and refs[0].inline and refs[0].name == "screenshot.png"
    with refs[0].open() as stream:
        assert stream.read() == fake.file_bytes[refs[0].content_id]
    total = 0
    for name in ("incident_comments", "request_comments", "incidents", "service_requests"):
        for r in _read(source, name):
            for ref in source.attachments(name, r):
                total += 1
                assert ref.exists and ref.open().read() == fake.file_bytes[ref.content_id]
    assert total == sum(fake.ground_truth.attachments.values())


def test_delta_reads_only_what_changed_since(fake, source):
    since = datetime(2024, 6, 1, tzinfo=UTC)
    changed = _read(source, "incidents", since=since)
    assert changed and all(r.data["updated"] >= since for r in changed)
    everything = _read(source, "incidents")
    assert {r.key for r in everything if r.data["updated"] >= since} == {r.key for r in changed}


def test_envelope_shape_and_raw_json_filters_read_the_same():
    fake = FakeItsm365(size=20, seed=3, faults=Itsm365Faults(envelope=True, cap=8))
    source = fake.source(options=fake.options(filter_style="json", split_at=8))
    assert len(_read(source, "incidents")) == fake.ground_truth.counts["incidents"]
    assert any("find/serviceCall/{" in unquote(r.url.raw_path.decode()) for r in fake.requests)


def test_access_key_is_on_every_request_and_never_leaks(caplog):
    fake = FakeItsm365(size=10, seed=2)
    caplog.set_level(logging.DEBUG)
    source = fake.source()
    _read(source, "incidents")
    assert all(r.url.params.get("accessKey") == fake.access_key for r in fake.requests if "check-status" not in str(r.url))
    assert fake.access_key not in caplog.text
    assert fake.access_key not in repr(source) and fake.access_key not in repr(source.client.session)


def test_rejected_key_becomes_a_clear_error_without_the_key(caplog):
    fake = FakeItsm365(size=10, seed=2)
    caplog.set_level(logging.DEBUG)
    wrong = "WRONG-key-9d8e7f"
    source = Itsm365Source.from_options(fake.options(), lambda name: wrong, transport=fake.transport(), sleep=lambda s: None)
    check = source.check()
    assert not check.ok and "access key rejected" in check.summary
    with pytest.raises(SourceError) as info:
        _read(source, "incidents")
    assert info.value.code == "source.auth_rejected"
    assert not _leaks(wrong, info.value, info.value.hint, repr(info.value), check, caplog.text, source.findings)
    assert info.value.__cause__ is None  # the httpx request (with the key in its URL) is not chained


def test_secrets_are_not_options_and_a_missing_key_says_so(fake):
    with pytest.raises(SourceError, match="secret"):
        Itsm365Source.from_options({**fake.options(), "itsm365_access_key": "x"}, fake.secret)
    with pytest.raises(SourceError, match="access key"):
        Itsm365Source.from_options(fake.options(), lambda name: None)
    with pytest.raises(SourceError, match="unknown option"):
        Itsm365Source.from_options({**fake.options(), "colour": "red"}, fake.secret)
    built = open_source("itsm365", {"base_url": "https://sd.example.org/sd"}, fake.secret)
    assert built.base_url == "https://sd.example.org/sd"
    assert [f.name for f in Itsm365Source.option_fields if f.secret] == ["itsm365_access_key"]


def test_missing_and_forbidden_optional_classes_become_findings():
    fake = FakeItsm365(size=10, seed=4, faults=Itsm365Faults(missing=frozenset({"KB", "problem"}), forbidden=frozenset({"changeRequest"})))
    source = fake.source()
    names = {s.name for s in source.describe().objects}
    assert not names & {"kb_articles", "problems", "change_requests"}
    codes = {(f.code, f.object) for f in source.findings}
    assert ("source.object_absent", "kb_articles") in codes and ("source.object_absent", "problems") in codes
    assert ("source.permission_denied", "change_requests") in codes
    with pytest.raises(SourceError, match="no problems"):
        _read(source, "problems")


def test_forbidden_required_class_is_a_permission_error():
    fake = FakeItsm365(size=10, seed=4, faults=Itsm365Faults(forbidden=frozenset({"serviceCall"})))
    with pytest.raises(SourceError) as info:
        _read(fake.source(), "incidents")
    assert info.value.code == "source.permission_denied"


def test_rate_limiting_is_waited_out_and_reported():
    sleeps: list[float] = []
    fake = FakeItsm365(size=20, seed=5, faults=Itsm365Faults(rate_limit_every=4, unavailable_every=9))
    source = fake.source(sleep=sleeps.append)
    told: list[str] = []
    source.activity = told.append
    for name in ("incidents", "employees", "ous", "incident_comments", "teams", "priorities"):
        assert len(_read(source, name)) == fake.ground_truth.counts[name], name
    assert 1.0 in sleeps  # Retry-After honoured
    finding = next(f for f in source.findings if f.code == "source.rate_limited")
    assert finding.severity is Severity.INFO and finding.count >= 1
    assert any(t.startswith("waiting 1 s: ITSM 365 asked to slow down (HTTP 429)") for t in told)
    usage = source.request_usage()
    assert usage.requests == len(fake.requests) and usage.throttled == len(sleeps) and usage.waited == sum(sleeps)


def test_a_rate_limit_storm_ends_in_a_bounded_error():
    sleeps: list[float] = []
    fake = FakeItsm365(size=5, seed=5, faults=Itsm365Faults(rate_limit_storm=1000))
    with pytest.raises(SourceError) as info:
        _read(fake.source(sleep=sleeps.append), "incidents")
    assert info.value.code == "source.rate_limited"
    assert len(fake.requests) == 6 and len(sleeps) == 5


def test_transient_malformed_replies_are_retried():
    fake = FakeItsm365(size=20, seed=6, faults=Itsm365Faults(malformed_every=5))
    assert len(_read(fake.source(), "incidents")) == fake.ground_truth.counts["incidents"]


@pytest.mark.parametrize("faults", [Itsm365Faults(malformed_always=frozenset({"serviceCall"})),
                                    Itsm365Faults(wrong_shape=frozenset({"serviceCall"}))])
def test_persistently_malformed_replies_are_a_clear_error(faults):
    fake = FakeItsm365(size=5, seed=6, faults=faults)
    with pytest.raises(SourceError) as info:
        _read(fake.source(), "incidents")
    assert info.value.code == "source.malformed"
    assert fake.access_key not in str(info.value)


def test_a_server_ignoring_the_date_filter_is_probed_once_and_the_cut_reply_reported():
    fake = FakeItsm365(size=150, seed=8, faults=Itsm365Faults(ignore_filter=True))
    source = fake.source()
    records = _read(source, "incidents") + _read(source, "service_requests")
    assert len(records) == fake.faults.cap  # all a capped server gives without a working filter
    cut = next(f for f in source.findings if f.code == "itsm365.reply_may_be_cut")
    assert cut.severity is Severity.WARNING and cut.count == fake.faults.cap
    assert "ignores it" in cut.detail
    calls = [r for r in fake.requests if "/find/serviceCall" in r.url.path]
    assert len(calls) == 2  # the whole read and one probe; the second object reads the cache


def test_a_window_that_cannot_shrink_is_reported_not_looped():
    fake = FakeItsm365(size=10, seed=9, faults=Itsm365Faults(cap=50, burst=80))
    source = fake.source()
    records = _read(source, "incidents")
    finding = next(f for f in source.findings if f.code == "itsm365.window_not_splittable")
    assert finding.severity is Severity.WARNING and finding.count == 50
    # that second holds the 80 burst incidents and one service request listed before them: 50 of 81 come back
    assert len(records) == fake.ground_truth.counts["incidents"] - (80 - 49)
    assert len(fake.requests) < 2000


def test_unreachable_host_is_a_clear_bounded_error():
    sleeps: list[float] = []
    fake = FakeItsm365(size=5, faults=Itsm365Faults(down=True))
    source = fake.source(sleep=sleeps.append)
    check = source.check()
    assert not check.ok and "cannot reach ITSM 365" in check.summary
    with pytest.raises(SourceError) as info:
        _read(source, "employees")
    assert info.value.code == "source.unreachable" and len(sleeps) <= 4


def test_layout_renames_codes_adds_custom_fields_and_rejects_typos():
    fake = FakeItsm365(size=10, seed=10)
    for call in fake.objects["serviceCall"]:
        call["subjectLine"] = call.pop("shortDescr")
        call["costCenter"] = "CC-1"
    layout = {"classes": {"service_calls": {"attrs": {"subject": "subjectLine", "cost_center": "costCenter", "impact": None}}}}
    source = fake.source(options=fake.options(layout=layout))
    spec = source.describe().object("incidents")
    assert spec.field("cost_center").custom and "impact" not in spec.field_names
    record = _read(source, "incidents")[0]
    assert record.data["subject"] and record.data["cost_center"] == "CC-1"
    with pytest.raises(SourceError, match="unknown key 'atrs'"):
        fake.source(options=fake.options(layout={"classes": {"service_calls": {"atrs": {}}}}))


@pytest.mark.parametrize(("license", "technician"), [
    ("named", True), ("notLicensed", False), ("", False), (None, False), (["notLicensed"], False),
    (["concurrent", "named"], True), ([{"code": "named", "title": "Named"}], True), ([{"code": "notLicensed"}], False),
    ([], False), (["notLicensed", "named"], True),
])
def test_a_license_in_any_shape_tells_technicians_from_requesters(license, technician):
    source = FakeItsm365(size=5).source()
    assert source._licensed({"license": license}) is technician


def test_incident_types_are_typed_as_a_list_with_commas_or_spaces():
    from connectors.itsm365.source import parse_types

    assert parse_types("serviceCall$call, serviceCall$incident;x  y") == ["serviceCall$call", "serviceCall$incident", "x", "y"]
    assert parse_types(None) == [] and parse_types(["a ", " "]) == ["a"]
