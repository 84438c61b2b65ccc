"""The mapping corpus (tests/corpus/mapping/*.toml) as proposer input, and its scoring.

Used by the accuracy tests and by bench/mapping_accuracy.py, so both measure the same
thing: top-1 agreement between the built-in proposer and the hand-written maps.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.model import AttributeTarget, MigrationMap, StandardTarget
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.transforms import DateToUnix, HtmlToText, Join, Split, ValueMap

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "mapping"
PLATFORMS = ("smartertrack", "trackit", "itsm365", "infraon", "smart-export")
NEEDS = {"html": HtmlToText, "date": DateToUnix, "map": ValueMap, "split": Split, "join": Join}
# renamed and custom were written with the proposer under development; the holdout ones were
# written afterwards and never used to change it (bench/README.md reports them apart)
VARIANTS = ("renamed", "custom", "holdout_renamed", "holdout_custom")


@dataclass(frozen=True)
class Expected:
    target: str  # standard, attribute, tag, note, skip, column
    detail: str  # the standard field or the attribute's data type
    needs: tuple[str, ...]  # transforms that must be there

    @classmethod
    def parse(cls, text: str) -> Expected:
        head, *needs = text.split("+")
        kind, _, detail = head.partition(":")
        target = {"std": "standard", "attr": "attribute"}.get(kind, kind)
        return cls(target, detail, tuple(needs))

    def __str__(self) -> str:
        short = {"standard": "std", "attribute": "attr"}.get(self.target, self.target)
        return f"{short}{':' + self.detail if self.detail else ''}" + "".join(f"+{n}" for n in self.needs)


@dataclass
class Case:
    """One schema to propose for, with the answers; `focus` limits what is scored."""

    platform: str
    variant: str  # standard, or one of VARIANTS
    evidence: SourceEvidence
    expected: dict[tuple[str, str], Expected]
    targets: dict[str, TargetKind]
    focus: set[tuple[str, str]] | None = None

    def scored(self) -> list[tuple[str, str]]:
        keys = self.expected if self.focus is None else self.focus
        return sorted(keys)


@dataclass
class Score:
    correct: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.correct += other.correct
        self.total += other.total
        self.misses += other.misses

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


def _row(raw: Any) -> dict[str, Any]:
    if isinstance(raw, list):
        name, type_, expected, *rest = raw
        return {"name": name, "type": type_, "expected": expected, "samples": rest[0] if rest else ""}
    return dict(raw)


def _field(row: dict[str, Any], count: int, custom_default: bool) -> FieldEvidence:
    samples = tuple(s for s in str(row.get("samples", "")).split("|") if s)
    filled = int(row.get("filled", count))
    domain = bool(row.get("domain"))
    custom = bool(row.get("custom", custom_default or row["name"].lower().startswith("cf_")))
    return FieldEvidence(
        name=row["name"], type=FieldType(row["type"]), label=row.get("label", ""), custom=custom,
        references=row.get("ref"), filled=filled,
        distinct=len(samples) if domain else None,
        longest=int(row.get("longest", max((len(s) for s in samples), default=0))) or None,
        samples=samples[:5],
        top_values=tuple((s, max(filled // len(samples), 1)) for s in samples) if domain else (),
    )


def load_cases(platform: str) -> list[Case]:
    """The standard schema of a platform, its renamed variant and its custom-column variant."""
    data = tomllib.loads((CORPUS / f"{platform}.toml").read_text(encoding="utf-8"))
    variants = data.get("variants", {})

    def build(renamed: dict[str, str], custom: list[dict[str, Any]]) -> tuple[SourceEvidence, dict, set]:
        objects, expected, focus = [], {}, set()
        for obj in data["objects"]:
            count = int(obj.get("count", 100))
            rows = [_row(r) for r in obj["fields"]]
            rows += [dict(_row(r), _custom=True) for c in custom if c["object"] == obj["name"] for r in c["fields"]]
            names: dict[str, str] = {}
            fields = []
            for row in rows:
                new = renamed.get(f"{obj['name']}.{row['name']}", row["name"])
                names[row["name"]] = new
                if new != row["name"] or row.get("_custom"):
                    focus.add((obj["name"], new))
                fields.append(_field({**row, "name": new}, count, bool(row.get("_custom"))))
                expected[(obj["name"], new)] = Expected.parse(row["expected"])
            objects.append(ObjectEvidence(
                name=obj["name"], role=ObjectRole(obj["role"]), fields=tuple(fields), count=count,
                key=names.get(obj["key"], obj["key"]), parent=obj.get("parent"),
                parent_field=names.get(obj.get("parent_field", ""), obj.get("parent_field")),
                created_field=names.get(obj.get("created", ""), obj.get("created")),
            ))
        return SourceEvidence(platform, tuple(objects)), expected, focus

    targets = {obj["name"]: TargetKind(obj["target"]) for obj in data["objects"]}
    standard, exp, _ = build({}, [])
    cases = [Case(platform, "standard", standard, exp, targets)]
    for variant in VARIANTS:
        value = variants.get(variant)
        if value:
            ev, exp, focus = build(value, []) if isinstance(value, dict) else build({}, value)
            cases.append(Case(platform, variant, ev, exp, targets, focus))
    return cases


SAME_TYPE = {"date": "datetime"}  # both become an Intercom date attribute


def matches(expected: Expected, fm: Any) -> bool:
    target = fm.target
    if target.type != expected.target:
        return False
    if isinstance(target, StandardTarget) and target.field != expected.detail:
        return False
    if isinstance(target, AttributeTarget) and \
            SAME_TYPE.get(target.data_type, target.data_type) != SAME_TYPE.get(expected.detail, expected.detail):
        return False
    return all(any(isinstance(t, NEEDS[n]) for t in fm.transforms) for n in expected.needs)


def score_case(case: Case, mmap: MigrationMap) -> tuple[Score, Score]:
    """(field score, object score) of a proposal against the case's answers."""
    fields = Score()
    for obj, name in case.scored():
        fm = mmap.field_map(obj, name)
        want = case.expected[(obj, name)]
        om = mmap.object_map(obj)
        if om is not None and om.target in (TargetKind.LOOKUP, TargetKind.SKIP):
            ok = want.target == "skip"  # a lookup's fields are only read
            got = "lookup (read only)"
        else:
            ok = fm is not None and matches(want, fm)
            got = "nothing" if fm is None else f"{fm.target.describe()} [{fm.describe_transforms()}]"
        fields.total += 1
        if ok:
            fields.correct += 1
        else:
            fields.misses.append(f"{case.platform}/{case.variant} {obj}.{name}: want {want}, got {got}")
    objects = Score()
    if case.variant == "standard":
        for obj, target in case.targets.items():
            om = mmap.object_map(obj)
            objects.total += 1
            if om is not None and om.target is target:
                objects.correct += 1
            else:
                objects.misses.append(f"{case.platform} {obj}: want {target.value}, got {om.target.value if om else 'nothing'}")
    return fields, objects


def evaluate(use_defaults: bool = True, platforms: tuple[str, ...] = PLATFORMS) -> dict[str, tuple[Score, Score]]:
    """Scores per variant over every platform: {"standard": (fields, objects), ...}."""
    totals: dict[str, tuple[Score, Score]] = {}
    for platform in platforms:
        for case in load_cases(platform):
            mmap = propose_map(case.evidence, use_defaults=use_defaults)
            fields, objects = score_case(case, mmap)
            agg = totals.setdefault(case.variant, (Score(), Score()))
            agg[0].add(fields)
            agg[1].add(objects)
    return totals
