"""The REST samples' messy rows (issue 14, items 5 and 7): a reply with a byte that is not
UTF-8 costs that character, not the page (the audit names the record); a record that comes
without an id is one finding however often the audit reads it; a 1.1 MB description is
named by the audit and mapped from its beginning with the whole kept."""

from __future__ import annotations

import httpx
import pytest

from connectors.base import REPLACEMENT
from connectors.http_session import lenient_json
from connectors.samples.infraon_fake import FakeInfraon
from connectors.samples.itsm365_fake import FakeItsm365
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.apply import MAX_VALUE_CHARS, apply_map
from helpmig_tui.mapping.evidence import evidence_from_schema
from helpmig_tui.mapping.propose import propose_map


def test_a_reply_with_a_byte_that_is_not_utf8_is_read_with_it_replaced():
    reply = httpx.Response(200, content=b'[{"id": 1, "text": "Caf\xe9 au lait"}]',
                           headers={"Content-Type": "application/json"})
    assert lenient_json(reply) == [{"id": 1, "text": f"Caf{REPLACEMENT} au lait"}]
    with pytest.raises(ValueError):
        lenient_json(httpx.Response(200, content=b"<html>Bad gateway</html>"))


@pytest.mark.parametrize("fake, without_id", [
    (lambda: FakeItsm365(size=30, seed=3, messy_rows=True), "itsm365.record_without_uuid"),
    (lambda: FakeInfraon(size=30, seed=3, messy_rows=True), "infraon.record_without_id"),
], ids=["itsm365", "infraon"])
def test_messy_rows_of_a_rest_tenant_are_named_and_mapped(fake, without_id):
    tenant = fake()
    messy = tenant.ground_truth.messy
    with tenant.source() as source:
        audit = run_audit(source)
        found = {(f.code, f.object): f for f in audit.findings}
        keyless = [f for f in audit.findings if f.code == without_id and f.object == "incidents"]
        assert [f.count for f in keyless] == [1], "one finding, counted once over every read"
        [odd] = messy["undecodable_text"]
        assert odd in found[("text.undecodable", "incidents")].keys
        [huge] = messy["large_body"]
        assert huge in found[("body.too_large", "incidents")].keys
        mmap = propose_map(evidence_from_schema(source.describe(), {o.spec.name: o.profile for o in audit.objects}))
        records = {r.key: r for batch in source.iter_records("incidents") for r in batch}
        assert len(records) == tenant.ground_truth.counts["incidents"]
        whole = max((v for v in records[huge].data.values() if isinstance(v, str)), key=len)
        mapped = apply_map(mmap, "incidents", records[huge])
        assert len(whole) > MAX_VALUE_CHARS and mapped.ok
        assert any(len(v) == len(whole) for v in mapped.full.values())
        assert "value.oversized" in {f.code for f in mapped.flags}
        undecodable = apply_map(mmap, "incidents", records[odd])
        assert undecodable.ok and "text.undecodable" in {f.code for f in undecodable.flags}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"], ids=["bom", "no-bom"])
def test_a_utf8_export_with_a_stray_byte_is_read_as_utf8_and_the_record_named(tmp_path, encoding):
    """One byte that is not UTF-8 neither stops the read (with a byte-order mark) nor turns the
    whole file into another code page (without one): it is replaced, and its record named."""
    from connectors.smart_export import SmartExportSource
    from connectors.samples.smart_export_sample import write_smart_export

    truth = write_smart_export(tmp_path / "export", size=30, seed=5, encoding=encoding, messy_rows=True)
    with SmartExportSource.from_options({"folder": str(tmp_path / "export")}, lambda _n: None) as source:
        audit = run_audit(source)
        found = {(f.code, f.object): f for f in audit.findings}
        assert ("smart.encoding_suspect", "tickets") not in found
        assert "utf-8" in found[("smart.encoding", "tickets")].message
        [odd] = truth.messy["undecodable_text"]
        assert found[("text.undecodable", "tickets")].count == 1
        assert any(odd in k for k in found[("text.undecodable", "tickets")].keys)
        [huge] = truth.messy["large_body"]
        assert any(huge in k for k in found[("body.too_large", "tickets")].keys)
        records = {r.key: r for batch in source.iter_records("tickets") for r in batch}
        assert len(records) == truth.counts["tickets"]
        assert "Société Générale Müller" in {r.data.get("name") for b in source.iter_records("organizations") for r in b}
