"""The audit over the REST and export connectors: its counts equal the generators' truth."""

from __future__ import annotations

import pytest

from connectors.samples.infraon_fake import FakeInfraon
from connectors.samples.itsm365_fake import FakeItsm365
from connectors.samples.smart_export_sample import write_smart_export
from helpmig_tui.audit import run_audit


def _counts(result):
    return {o.spec.name: o.profile.count for o in result.objects}


@pytest.mark.parametrize("fake", [FakeItsm365(size=30, seed=3), FakeInfraon(size=30, seed=3)], ids=["itsm365", "infraon"])
def test_rest_sources(fake):
    with fake.source() as source:
        result = run_audit(source)
    counts = _counts(result)
    for name, expected in fake.ground_truth.counts.items():
        assert counts[name] == expected, name


def test_smart_export(tmp_path):
    from connectors.smart_export import SmartExportSource

    truth = write_smart_export(tmp_path / "export", size=60, seed=5)
    with SmartExportSource.from_options({"folder": str(tmp_path / "export")}, lambda _n: None) as source:
        result = run_audit(source)
    counts = _counts(result)
    for name, expected in truth.counts.items():
        assert counts[name] == expected, name
    duplicate = next(f for f in result.findings if f.code == "contact.email_duplicate")
    assert duplicate.count >= 2
    assert any(f.code.startswith("checklist.smart_") for f in result.findings)
