"""Accuracy and calibration of the built-in mapping proposer.

Part 1, the schema variants (tests/corpus/variants): each platform's generated sample
changed the way installations differ (custom, multilingual, abbreviated, renamed, missing,
TEXT-declared and junk columns), read by the real connector and profiled as the audit
profiles it, proposed with the default maps, and scored against the hand-written expected
map of the fields it touched. Reports top-1 per platform and variant kind, the rows wrong at 0.9 or more (what
`--confirm all --min-confidence 0.9` would confirm), and the reliability table (per
confidence band, the share of rows that are right). Tuning variants and holdout variants
(written after the tuning, never used to change the proposer) are reported apart.

Part 2, the hand-written schemas of tests/corpus/mapping (as before this corpus existed).

    python bench/mapping_accuracy.py                 # the tables
    python bench/mapping_accuracy.py --misses        # and every wrong field
    python bench/mapping_accuracy.py --platform trackit

It ends with apply_map's cost per record on the fake ITSM 365 tenant's incidents and
comments (the loader calls it once per record).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpmig_tui.mapping.propose import propose_map  # noqa: E402
from tests.support.mapping_corpus import PLATFORMS, VARIANTS, Score, load_cases, score_case  # noqa: E402
from tests.support.schema_variants import KINDS, Scored, all_variants, build_evidence, score_variant  # noqa: E402

ORDER = ("standard", *VARIANTS)
BANDS = ((0.95, 1.01), (0.9, 0.95), (0.85, 0.9), (0.8, 0.85), (0.7, 0.8), (0.0, 0.7))


def run_variants(platforms: tuple[str, ...]) -> tuple[list[Scored], dict[str, float]]:
    """Every scored row of every variant; seconds per variant to build and propose."""
    rows: list[Scored] = []
    timing: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for v in all_variants():
            if v.platform not in platforms:
                continue
            started = time.perf_counter()
            evidence = build_evidence(v, Path(tmp) / v.name)
            built = time.perf_counter()
            mmap = propose_map(evidence)
            timing[v.name] = time.perf_counter() - built
            rows += score_variant(v, evidence, mmap)
            timing[v.name + ":build"] = built - started
    return rows, timing


def _cell(rows: list[Scored]) -> str:
    if not rows:
        return "-"
    ok = sum(r.ok for r in rows)
    return f"{ok / len(rows):.1%} ({ok}/{len(rows)})"


def variant_tables(rows: list[Scored], platforms: tuple[str, ...], holdout: bool) -> list[str]:
    chosen = [r for r in rows if r.variant.holdout == holdout]
    names = sorted({r.variant.name for r in chosen})
    lines = [f"\n{'Holdout' if holdout else 'Tuning'} variants ({len(names)}): top-1 per kind and platform\n",
             "| kind | " + " | ".join(platforms) + " | all | wrong at ≥ 0.9 |",
             "|---|" + "---|" * (len(platforms) + 2)]
    for kind in KINDS:
        of_kind = [r for r in chosen if r.variant.kind == kind]
        if not of_kind:
            continue
        cells = [_cell([r for r in of_kind if r.variant.platform == p]) for p in platforms]
        wrong = sum(1 for r in of_kind if not r.ok and r.confidence >= 0.9)
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | **{_cell(of_kind)}** | {wrong} |")
    wrong = sum(1 for r in chosen if not r.ok and r.confidence >= 0.9)
    lines.append("| all | " + " | ".join(_cell([r for r in chosen if r.variant.platform == p]) for p in platforms)
                 + f" | **{_cell(chosen)}** | {wrong} |")
    return lines


def reliability(rows: list[Scored]) -> list[str]:
    lines = ["\nReliability: rows proposed in each confidence band, and the share that is right\n",
             "| confidence | tuning rows | right | holdout rows | right |", "|---|---|---|---|---|"]
    for lo, hi in BANDS:
        label = f"{lo:.2f} – {min(hi, 1.0):.2f}" if hi <= 1.0 else f"≥ {lo:.2f}"
        cells = []
        for holdout in (False, True):
            band = [r for r in rows if r.variant.holdout == holdout and lo <= r.confidence < hi]
            ok = sum(r.ok for r in band)
            cells += [str(len(band)), f"{ok / len(band):.1%}" if band else "-"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for holdout in (False, True):
        top = [r for r in rows if r.variant.holdout == holdout and r.confidence >= 0.9]
        ok = sum(r.ok for r in top)
        lines.append(f"\n{'holdout' if holdout else 'tuning'}: at ≥ 0.9, {ok} of {len(top)} right"
                     + (f" ({ok / len(top):.1%})" if top else ""))
    return lines


def run_corpus(use_defaults: bool) -> tuple[dict[str, dict[str, Score]], dict[str, Score], dict[str, float]]:
    """The hand-written schemas: field scores per variant and platform, object scores, ms per proposal."""
    fields: dict[str, dict[str, Score]] = {v: {} for v in ORDER}
    objects: dict[str, Score] = {}
    timing: dict[str, float] = {}
    for platform in PLATFORMS:
        for case in load_cases(platform):
            started = time.perf_counter()
            mmap = propose_map(case.evidence, use_defaults=use_defaults)
            if case.variant == "standard":
                timing[platform] = (time.perf_counter() - started) * 1000
            field_score, object_score = score_case(case, mmap)
            fields[case.variant][platform] = field_score
            if case.variant == "standard":
                objects[platform] = object_score
    return fields, objects, timing


def _pct(score: Score) -> str:
    return f"{score.accuracy:.1%} ({score.correct}/{score.total})" if score.total else "-"


def _total(scores: dict[str, Score]) -> Score:
    total = Score()
    for score in scores.values():
        total.add(score)
    return total


def apply_cost(rounds: int = 200) -> list[tuple[str, int, float]]:
    """(object, records mapped, microseconds per record) on the fake ITSM 365 tenant."""
    from connectors.samples.itsm365_fake import FakeItsm365
    from helpmig_tui.audit import run_audit
    from helpmig_tui.mapping.apply import apply_map
    from helpmig_tui.mapping.evidence import evidence_from_schema

    with FakeItsm365(size=40, seed=3).source() as source:
        audit = run_audit(source)
        evidence = evidence_from_schema(source.describe(), {o.spec.name: o.profile for o in audit.objects})
        mmap = propose_map(evidence)
        records = {name: [r for batch in source.iter_records(name) for r in batch]
                   for name in ("incidents", "incident_comments")}
    out = []
    for name, rows in records.items():
        started = time.perf_counter()
        for _ in range(rounds):
            for record in rows:
                apply_map(mmap, name, record)
        elapsed = time.perf_counter() - started
        out.append((name, rounds * len(rows), elapsed / (rounds * len(rows)) * 1e6))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every field the proposer got wrong")
    parser.add_argument("--platform", action="append", choices=PLATFORMS, help="only these platforms (repeatable)")
    args = parser.parse_args()
    platforms = tuple(args.platform or PLATFORMS)
    rows, timing = run_variants(platforms)
    for holdout in (False, True):
        print("\n".join(variant_tables(rows, platforms, holdout)))
    print("\n".join(reliability(rows)))
    proposals = [t for k, t in timing.items() if not k.endswith(":build")]
    builds = [t for k, t in timing.items() if k.endswith(":build")]
    print(f"\n{len(proposals)} variants: build and audit {sum(builds):.1f} s in all, proposal "
          f"{1000 * sum(proposals) / max(1, len(proposals)):.0f} ms on average (max {1000 * max(proposals, default=0):.0f} ms)")
    if args.misses:
        for r in rows:
            if not r.ok:
                print(f"  miss{' (holdout)' if r.variant.holdout else ''}: {r}")
    for use_defaults, title in ((True, "with the default maps"), (False, "names, structure and values only")):
        fields, objects, corpus_timing = run_corpus(use_defaults)
        print(f"\nThe hand-written schemas (tests/corpus/mapping), {title}\n")
        print("| variant | " + " | ".join(PLATFORMS) + " | all |")
        print("|---|" + "---|" * (len(PLATFORMS) + 1))
        for variant in ORDER:
            row = [_pct(fields[variant].get(p, Score())) for p in PLATFORMS]
            print(f"| {variant} fields | " + " | ".join(row) + f" | {_pct(_total(fields[variant]))} |")
        print("| object targets | " + " | ".join(_pct(objects[p]) for p in PLATFORMS) + f" | {_pct(_total(objects))} |")
        print("| proposal time, standard schema | " + " | ".join(f"{corpus_timing[p]:.0f} ms" for p in PLATFORMS) + " | |")
        if args.misses:
            for variant in ORDER:
                for score in fields[variant].values():
                    for miss in score.misses:
                        print(f"  miss: {miss}")
            for score in objects.values():
                for miss in score.misses:
                    print(f"  miss: {miss}")
    print("\napply_map on the fake ITSM 365 tenant\n")
    for name, count, micros in apply_cost():
        print(f"- {name}: {count:,} records, {micros:.0f} µs per record")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
