"""The default maps against the real connectors: their objects and fields are known by
name, the proposal covers every required Intercom field, and apply_map takes every
record the connectors read (messy ones included) without raising."""

from __future__ import annotations

import pytest

from connectors.samples.infraon_fake import FakeInfraon
from connectors.samples.itsm365_fake import FakeItsm365
from connectors.samples.smart_export_sample import write_smart_export
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.apply import apply_map
from helpmig_tui.mapping.defaults import load_default_map, norm
from helpmig_tui.mapping.evidence import evidence_from_schema
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.standard import TargetKind as K


def _itsm365(tmp_path):
    return FakeItsm365(size=30, seed=3).source()


def _infraon(tmp_path):
    return FakeInfraon(size=30, seed=3).source()


def _smartertrack(tmp_path):
    from connectors.samples import generate_smartertrack
    from connectors.smartertrack import SmarterTrackSource

    manifest = generate_smartertrack(tmp_path / "st", tickets=30, seed=5)
    return SmarterTrackSource.from_options(manifest.options, lambda _n: None)


def _trackit(tmp_path):
    from connectors.samples import generate_trackit
    from connectors.trackit import TrackItSource

    manifest = generate_trackit(tmp_path / "ti", tickets=30, seed=9)
    return TrackItSource.from_options(manifest.options, lambda _n: None)


def _smart(tmp_path):
    from connectors.smart_export import SmartExportSource

    write_smart_export(tmp_path / "export", size=40, seed=5)
    return SmartExportSource.from_options({"folder": str(tmp_path / "export")}, lambda _n: None)


@pytest.mark.parametrize("open_source", [_smartertrack, _trackit, _itsm365, _infraon, _smart],
                         ids=["smartertrack", "trackit", "itsm365", "infraon", "smart-export"])
def test_default_maps_know_the_connectors_names_and_cover_their_requirements(tmp_path, open_source):
    with open_source(tmp_path) as source:
        schema = source.describe()
        audit = run_audit(source)
        evidence = evidence_from_schema(schema, {o.spec.name: o.profile for o in audit.objects})
        defaults = load_default_map(schema.platform)
        for spec in schema.objects:
            entry = defaults.objects.get(spec.name) or next(
                (e for e in defaults.objects.values() if norm(spec.name) in {norm(a) for a in e.aliases}), None)
            assert entry is not None, f"{spec.name} has no default entry"
            if entry.target in (K.LOOKUP, K.INVENTORY, K.CSV, K.ADMIN, K.TEAM):
                continue  # read only, listed whole, or matched by email/name: the rest is skipped
            unknown = [f.name for f in spec.fields if f.name not in (spec.key, spec.parent_field)
                       and not (f.custom or f.name.startswith("cf_")) and entry.find_field(f.name) is None]
            assert unknown == [], f"{spec.name}: no default for {unknown}"
        mmap = propose_map(evidence)
        assert mmap.coverage() == {}
        custom = {(o.name, f.name) for o in evidence.objects for f in o.fields if f.custom or f.name.startswith("cf_")}
        low = [f.key for f in mmap.fields if f.confidence < 0.8 and (f.object, f.field) not in custom]
        assert low == [], "fields the defaults should have known"
        totals = {}
        for om in mmap.active_objects():
            seen = ok = 0
            for batch in source.iter_records(om.object):
                for record in batch:
                    mapped = apply_map(mmap, om.object, record)
                    seen += 1
                    ok += mapped.ok
                    assert mapped.ok or mapped.rejected
            totals[om.object] = (ok, seen)
    conversations = [t for o, t in totals.items() if mmap.object_map(o).target is K.CONVERSATION]
    assert conversations and all(ok >= 0.8 * seen for ok, seen in conversations), totals
