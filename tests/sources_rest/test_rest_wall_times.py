"""The REST sources send wall-clock times with no offset (ITSM 365 always, Infraon for some
fields): read in the tenant's zone, those the DST rule settles are counted and named, as
the database sources' are."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.local_time import DST_GAP, DST_OVERLAP
from connectors.samples.infraon_fake import FakeInfraon
from connectors.samples.itsm365_fake import FakeItsm365
from helpmig_tui.audit import run_audit
from tests.support.findings import by_code


def _found(source, objects, key):
    return next(r for name in objects for r in source.get(name, [key]))


def test_itsm365_names_the_calls_whose_times_fall_in_a_gap_or_an_overlap():
    fake = FakeItsm365(size=10, seed=1, time_zone="Europe/Berlin")
    gap, overlap = fake.objects["serviceCall"][:2]
    gap["creationDate"] = "2024.03.31 02:30:00"
    overlap["creationDate"] = "2024.10.27 02:30:00"
    with fake.source() as source:
        result = run_audit(source)
        read_gap = _found(source, ("incidents", "service_requests"), gap["UUID"])
        read_overlap = _found(source, ("incidents", "service_requests"), overlap["UUID"])
        untouched = _found(source, ("incidents", "service_requests"), fake.objects["serviceCall"][2]["UUID"])
    assert read_gap.data["created"] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert read_overlap.data["created"] == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert [(n.field, n.code) for n in read_gap.notes] == [("created", DST_GAP)]
    assert [(n.field, n.code) for n in read_overlap.notes] == [("created", DST_OVERLAP)]
    assert "does not exist in Europe/Berlin" in read_gap.notes[0].message and untouched.notes == ()
    assert {k for f in by_code(result, DST_GAP) for k in f.keys} == {gap["UUID"]}
    assert {k for f in by_code(result, DST_OVERLAP) for k in f.keys} == {overlap["UUID"]}


def test_infraon_names_the_incidents_whose_naive_times_fall_in_a_gap():
    fake = FakeInfraon(size=10, seed=1)
    incident = fake.lists["incidents"][0]
    incident["last_update_time"] = "2024-03-31 02:30:00"  # no offset: read in the tenant's zone
    with fake.source(options=fake.options(time_zone="Europe/Berlin")) as source:
        result = run_audit(source)
        [read] = source.get("incidents", [str(incident["incident_id"])])
        offsets = [r for batch in source.iter_records("incidents") for r in batch if r.key != read.key]
    assert read.data["last_update_time"] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert [(n.field, n.code) for n in read.notes] == [("last_update_time", DST_GAP)]
    assert all(n.field != "creation_time" for r in offsets for n in r.notes)  # those carry +05:30
    assert read.key in {k for f in by_code(result, DST_GAP) for k in f.keys}
