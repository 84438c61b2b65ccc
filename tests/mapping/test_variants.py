"""The proposer on schema variants of the five platforms' real samples (tests/corpus/variants):
each variant built through the real connector and audit, scored against its hand-written
expected map. The targets of the issue: top-1 at least 90% on every variant kind, and no
wrong row at 0.9 or more (what bulk confirmation at 0.9 would take)."""

from __future__ import annotations

from collections import Counter

import pytest

from helpmig_tui.mapping.model import StandardTarget
from helpmig_tui.mapping.propose import propose_map
from tests.support.schema_variants import KINDS, PLATFORMS, all_variants, build_evidence, score_variant

BULK = 0.9


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Every scored row of every variant, with the evidence each was proposed from."""
    folder = tmp_path_factory.mktemp("variants")
    rows, evidence, maps = [], {}, {}
    for v in all_variants():
        ev = build_evidence(v, folder / v.name)
        evidence[v.name], maps[v.name] = ev, propose_map(ev)
        rows += score_variant(v, ev, maps[v.name])
    return rows, evidence, maps


def test_the_corpus_spans_the_platforms_and_the_kinds_of_difference(scored):
    rows, _, _ = scored
    variants = {r.variant.name: r.variant for r in rows}
    assert len(variants) >= 30
    assert {v.platform for v in variants.values()} == set(PLATFORMS)
    kinds = Counter(v.kind for v in variants.values())
    assert set(kinds) == set(KINDS) and all(n >= 3 for kind, n in kinds.items() if kind != "standard")
    assert sum(v.holdout for v in variants.values()) >= 10
    missing = [str(r) for r in rows if r.got == "no such field in the source"]
    assert missing == []  # every expected field is one the connector really exposes


def test_top1_is_at_least_90_percent_on_every_kind(scored):
    rows, _, _ = scored
    for kind in KINDS:
        of_kind = [r for r in rows if r.variant.kind == kind]
        right = sum(r.ok for r in of_kind) / len(of_kind)
        assert right >= 0.9, (kind, f"{right:.1%}", [str(r) for r in of_kind if not r.ok])


def test_nothing_wrong_is_proposed_in_the_bulk_band(scored):
    rows, evidence, _ = scored
    wrong = [r for r in rows if not r.ok and r.confidence >= BULK]
    assert [str(r) for r in wrong] == []  # the holdout included
    at_bulk = [r for r in rows if r.confidence >= BULK]
    assert sum(r.ok for r in at_bulk) / len(at_bulk) >= 0.99


def test_standard_fields_reach_the_bulk_band_only_with_values_behind_them(scored):
    _, evidence, maps = scored
    for name, mmap in maps.items():
        for fm in mmap.fields:
            if isinstance(fm.target, StandardTarget) and fm.confidence >= BULK:
                field = evidence[name].object(fm.object).field(fm.field)
                assert field is not None and field.filled and (field.samples or field.top_values), (name, fm.key)
