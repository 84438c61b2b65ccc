"""Top-1 accuracy of the built-in mapping proposer on the corpus (tests/corpus/mapping).

For every platform: its standard schema, the renamed and custom-column variants written
while the proposer was built, and the holdout variants written after it was finished.
Each is proposed with the platform's default map and, as a control, from names, structure
and sampled values alone. A field counts as right when its target (and the transforms
the corpus asks for) match the hand-written answer.

    python bench/mapping_accuracy.py            # the table
    python bench/mapping_accuracy.py --misses   # and every wrong field

It ends with apply_map's cost per record on the fake ITSM 365 tenant's incidents and
comments (the loader calls it once per record).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpmig_tui.mapping.propose import propose_map  # noqa: E402
from tests.support.mapping_corpus import PLATFORMS, VARIANTS, Score, load_cases, score_case  # noqa: E402

ORDER = ("standard", *VARIANTS)


def run(use_defaults: bool) -> tuple[dict[str, dict[str, Score]], dict[str, Score], dict[str, float]]:
    """Field scores per variant and platform, object scores per platform, ms per proposal."""
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
    args = parser.parse_args()
    for use_defaults, title in ((True, "with the default maps"), (False, "names, structure and values only")):
        fields, objects, timing = run(use_defaults)
        print(f"\n{title}\n")
        print("| variant | " + " | ".join(PLATFORMS) + " | all |")
        print("|---|" + "---|" * (len(PLATFORMS) + 1))
        for variant in ORDER:
            row = [_pct(fields[variant].get(p, Score())) for p in PLATFORMS]
            print(f"| {variant} fields | " + " | ".join(row) + f" | {_pct(_total(fields[variant]))} |")
        print("| object targets | " + " | ".join(_pct(objects[p]) for p in PLATFORMS) + f" | {_pct(_total(objects))} |")
        print("| proposal time, standard schema | " + " | ".join(f"{timing[p]:.0f} ms" for p in PLATFORMS) + " | |")
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
