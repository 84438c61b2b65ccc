"""Schema variants on the real sample sources: the corpus of tests/corpus/variants.

A variant starts from a platform's generated sample (a SQLite database on the real table
layout, a fake REST tenant, an export folder), changes it the way installations differ
(columns renamed, dropped, or added with generated values), reads it through the real
connector and audit, and carries the expected map of the fields it touched, written by
hand in the TOML files (tests/corpus/variants/README.md says how to read them).
"""

from __future__ import annotations

import copy
import csv
import random
import re
import sqlite3
import string
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from helpmig_tui.mapping.evidence import SourceEvidence, evidence_from_schema
from helpmig_tui.mapping.model import MigrationMap
from tests.support.mapping_corpus import Expected, matches

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "variants"
PLATFORMS = ("smartertrack", "trackit", "itsm365", "infraon", "smart-export")
KINDS = ("standard", "custom", "multilingual", "abbreviated", "renamed", "missing", "text_declared", "junk")

# Which source object a table (or REST class, list, export file) feeds.
OBJECT_OF: dict[str, dict[str, str]] = {
    "trackit": {"tasks": "tickets", "TaskNote": "notes"},
    "smartertrack": {"st_Tickets": "tickets", "st_TicketMessages": "messages", "st_Users": "customers",
                     "st_CustomDataFieldsInTickets": "tickets", "st_CustomDataFieldsForUsers": "customers"},
    "itsm365": {"serviceCall": "incidents", "employee": "employees", "comment": "incident_comments", "ou": "ous"},
    "infraon": {},  # list names are object names
    "smart-export": {},  # file stems are object names
}
ITSM_CLASSES = {"serviceCall": "service_calls", "employee": "employees", "comment": "comments", "ou": "ous"}
PIVOTS = {"st_CustomDataFieldsInTickets": ("st_Tickets", "TicketId"), "st_CustomDataFieldsForUsers": ("st_Users", "UserId")}


def field_name(platform: str, table: str, column: str) -> str:
    """The name the platform's connector gives a column it does not know."""
    if platform == "trackit":
        return re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_")
    if platform == "smartertrack":
        if table in PIVOTS:
            return "cf_" + (re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_") or "field")
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", column)
        return re.sub(r"[^0-9a-z]+", "_", spaced.lower()).strip("_")
    if platform == "smart-export":
        return re.sub(r"[^0-9a-z]+", "_", column.strip().lower()).strip("_")
    return column.split(".")[-1]


@dataclass(frozen=True)
class Added:
    """A column added to a table (or a key to a REST class / list, a column to an export file)."""

    table: str
    column: str
    values: str  # a generator spec (see `generate`)
    expect: Expected
    fill: float = 1.0
    declared: str = "NVARCHAR(255)"
    object: str = ""


@dataclass(frozen=True)
class Renamed:
    """A column under another name; `expect` None when the layout option maps it back (the
    connector then exposes it under its usual name, scored in the variant's `expect`)."""

    table: str
    column: str
    to: str
    expect: Expected | None
    object: str = ""


@dataclass
class Variant:
    platform: str
    name: str
    kind: str
    note: str
    holdout: bool
    size: int
    seed: int
    renamed: list[Renamed] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    added: list[Added] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # connector options (layouts) the operator set
    expect: dict[tuple[str, str], Expected] = field(default_factory=dict)

    def object_of(self, table: str, given: str = "") -> str:
        return given or OBJECT_OF[self.platform].get(table, table)

    def expected(self) -> dict[tuple[str, str], Expected]:
        """Every scored field (object, field name as the connector exposes it) with its answer."""
        out = dict(self.expect)
        for r in self.renamed:
            if r.expect is None:
                continue
            out.setdefault((self.object_of(r.table, r.object), field_name(self.platform, r.table, r.to)), r.expect)
        for a in self.added:
            out.setdefault((self.object_of(a.table, a.object), field_name(self.platform, a.table, a.column)), a.expect)
        return out


def _expected(text: str) -> Expected:
    return Expected.parse(text)


def load_variants(platform: str) -> list[Variant]:
    data = tomllib.loads((CORPUS / f"{platform}.toml").read_text(encoding="utf-8"))
    out = []
    for raw in data["variants"]:
        if raw["kind"] not in KINDS:
            raise ValueError(f"{platform}/{raw['name']}: unknown kind {raw['kind']!r}")
        v = Variant(
            platform=platform, name=raw["name"], kind=raw["kind"], note=raw.get("note", ""),
            holdout=bool(raw.get("holdout")), size=int(data.get("size", 60)), seed=int(data.get("seed", 1)),
            renamed=[Renamed(r["table"], r["column"], r["to"], _expected(r["expect"]) if "expect" in r else None,
                             r.get("object", ""))
                     for r in raw.get("rename", [])],
            dropped=[(d["table"], d["column"]) for d in raw.get("drop", [])],
            added=[Added(a["table"], a["column"], a["values"], _expected(a["expect"]), float(a.get("fill", 1.0)),
                         a.get("declared", "NVARCHAR(255)"), a.get("object", "")) for a in raw.get("add", [])],
            options=raw.get("options", {}),
            expect={tuple(k.split(".", 1)): _expected(v) for k, v in raw.get("expect", {}).items()},  # type: ignore[misc]
        )
        out.append(v)
    return out


def all_variants() -> list[Variant]:
    return [v for p in PLATFORMS for v in load_variants(p)]


# -- values -----------------------------------------------------------------------------

WORDS = ("printer", "invoice", "screen", "update", "network", "login", "restart", "error", "access", "mail", "backup",
         "laptop", "server", "user", "report", "license", "again", "after", "shows", "slow", "cannot", "open", "since",
         "monday", "the", "new", "old", "team", "needs", "request", "customer", "order", "checked", "replaced")
FIRST = ("Anna", "Ben", "Carla", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Karin", "Luis")
LAST = ("Berg", "Costa", "Dubois", "Fischer", "Garcia", "Hansen", "Jensen", "Meier", "Novak", "Rossi")
PHONES = ("+49 30 {a}{b}", "+1 (555) {a}-{b}", "0{a} {b}", "+44 20 {a} {b}", "+34 91 {a} {b}", "+31 20 {a}{b}")


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    target = rng.randint(lo, hi)
    words: list[str] = []
    while len(" ".join(words)) < target:
        words.append(rng.choice(WORDS))
    text = " ".join(words)[:hi].rstrip()
    return text[0].upper() + text[1:] + "."


def _value(kind: str, arg: str, i: int, rng: random.Random) -> Any:
    if kind == "choice":
        return rng.choice(arg.split("|"))
    if kind == "const":
        return arg
    if kind == "phone":
        return rng.choice(PHONES).format(a=rng.randint(100, 999), b=rng.randint(1000, 9999))
    if kind == "email":
        return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}{rng.randint(1, 99)}@{arg or 'example.com'}"
    if kind in ("date", "datetime"):
        moment = datetime(2019, 1, 1) + timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60))
        return moment.strftime(arg or ("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S"))
    if kind == "int":
        lo, hi = (int(x) for x in arg.split("-"))
        return rng.randint(lo, hi)
    if kind == "float":
        lo, hi = (float(x) for x in arg.split("-"))
        return f"{rng.uniform(lo, hi):.2f}"
    if kind == "bool":
        yes, no = arg.split("|")
        return rng.choice((yes, no))
    if kind == "code":
        return "".join(str(rng.randint(0, 9)) if c == "#" else rng.choice(string.ascii_uppercase) if c == "@" else c
                       for c in arg)
    if kind == "text":
        return _sentence(rng, 25, 160)
    if kind == "longtext":
        return " ".join(_sentence(rng, 60, 200) for _ in range(rng.randint(3, 8)))
    if kind == "person":
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if kind == "guid":
        return "-".join("".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12))
    if kind == "hex":
        return "".join(rng.choice("0123456789abcdef") for _ in range(int(arg or 40)))
    if kind == "url":
        return f"https://{arg or 'vendor.example'}/tickets/{rng.randint(10000, 99999)}"
    if kind == "seq":
        return int(arg or 1) + i
    raise ValueError(f"unknown value generator {kind!r}")


def generate(spec: str, n: int, fill: float, seed: str) -> list[Any]:
    """n values from a generator spec ("choice:A|B", "phone", "date:%d.%m.%Y", "empty", ...);
    a share `1 - fill` of them are None."""
    rng = random.Random(seed)
    kind, _, arg = spec.partition(":")
    out: list[Any] = []
    for i in range(n):
        if kind == "empty" or rng.random() >= fill:
            out.append(None)
            continue
        out.append(_value(kind, arg, i, rng))
    return out


# -- building the variant's source ----------------------------------------------------------

def _sql_apply(v: Variant, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        for r in v.renamed:
            conn.execute(f'ALTER TABLE {r.table} RENAME COLUMN "{r.column}" TO "{r.to}"')
        for table, column in v.dropped:
            conn.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')
        for a in v.added:
            if a.table in PIVOTS:
                _add_pivot(conn, v, a)
                continue
            key = next(row[1] for row in conn.execute(f"PRAGMA table_info({a.table})") if row[5])
            keys = [row[0] for row in conn.execute(f"SELECT {key} FROM {a.table} ORDER BY {key}")]
            conn.execute(f'ALTER TABLE {a.table} ADD COLUMN "{a.column}" {a.declared}')
            values = generate(a.values, len(keys), a.fill, f"{v.name}/{a.table}/{a.column}")
            conn.executemany(f'UPDATE {a.table} SET "{a.column}" = ? WHERE {key} = ?', list(zip(values, keys, strict=True)))


def _add_pivot(conn: sqlite3.Connection, v: Variant, a: Added) -> None:
    """A SmarterTrack custom field: its definition and a value row per owner (blank when empty)."""
    owner_table, owner_key = PIVOTS[a.table]
    field_id = conn.execute("SELECT COALESCE(MAX(CustomFieldId), 0) + 1 FROM st_CustomDataFields").fetchone()[0]
    conn.execute("INSERT INTO st_CustomDataFields (CustomFieldId, DisplayName, DataType, DefaultValue, Options, IsGlobal) "
                 "VALUES (?, ?, 1, '', NULL, 1)", (field_id, a.column))
    owners = [row[0] for row in conn.execute(f"SELECT {owner_key} FROM {owner_table} ORDER BY {owner_key}")]
    values = generate(a.values, len(owners), a.fill, f"{v.name}/{a.table}/{a.column}")
    rows = [(owner, field_id, "" if value is None else str(value)) for owner, value in zip(owners, values, strict=True)
            if value is not None or a.values == "empty"]
    conn.executemany(f"INSERT INTO {a.table} ({owner_key}, CustomFieldId, DataContent) VALUES (?, ?, ?)", rows)


def _smartertrack(v: Variant, folder: Path) -> Any:
    from connectors.samples import generate_smartertrack
    from connectors.smartertrack import SmarterTrackSource

    manifest = generate_smartertrack(folder, tickets=v.size, seed=v.seed, large_body=2000, attachment_files=False)
    _sql_apply(v, Path(manifest.database))
    return SmarterTrackSource.from_options({**manifest.options, **v.options}, lambda _n: None)


def _trackit(v: Variant, folder: Path) -> Any:
    from connectors.samples import generate_trackit
    from connectors.trackit import TrackItSource

    manifest = generate_trackit(folder, tickets=v.size, seed=v.seed, large_body=2000, attachment_files=False)
    _sql_apply(v, Path(manifest.database))
    return TrackItSource.from_options({**manifest.options, **v.options}, lambda _n: None)


def _rows_edit(v: Variant, rows_of: Callable[[str], list[dict]], on_new: Callable[[str, str], None]) -> None:
    """Renames, drops and added keys on REST records (dicts); `on_new(table, key)` lists a new key."""
    for r in v.renamed:
        for row in rows_of(r.table):
            if r.column in row:
                row[r.to] = row.pop(r.column)
        on_new(r.table, r.to)
    for table, column in v.dropped:
        for row in rows_of(table):
            row.pop(column, None)
    for a in v.added:
        rows = rows_of(a.table)
        values = generate(a.values, len(rows), a.fill, f"{v.name}/{a.table}/{a.column}")
        for row, value in zip(rows, values, strict=True):
            target, *path = a.column.split(".")
            holder = row
            while path:
                holder = holder.setdefault(target, {})
                target, *path = path
            holder[target] = _json_value(a.values, value)
        on_new(a.table, a.column)


def _json_value(spec: str, value: Any) -> Any:
    if value is None or not spec.startswith("bool:"):
        return value
    yes = spec[len("bool:"):].split("|")[0]
    return value == yes if yes.lower() in ("true", "yes") else value


def _itsm365(v: Variant, folder: Path) -> Any:
    from connectors.samples.itsm365_fake import FakeItsm365

    fake = FakeItsm365(size=v.size, seed=v.seed)
    layout = copy.deepcopy(v.options.get("layout", {}))

    def listed(table: str, key: str) -> None:
        attrs = layout.setdefault("classes", {}).setdefault(ITSM_CLASSES[table], {}).setdefault("attrs", {})
        attrs.setdefault(field_name("itsm365", table, key), key)

    _rows_edit(v, lambda t: fake.objects[t], listed)
    return fake.source(options=fake.options(layout=layout))


def _infraon(v: Variant, folder: Path) -> Any:
    from connectors.samples.infraon_fake import FakeInfraon

    fake = FakeInfraon(size=v.size, seed=v.seed)
    endpoints = copy.deepcopy(v.options.get("endpoints", {}))

    def listed(table: str, key: str) -> None:
        if table == "incidents":  # the only object with a fixed field list: the operator lists the key
            endpoints.setdefault(table, {}).setdefault("fields", {})[field_name("infraon", table, key)] = [key]

    _rows_edit(v, lambda t: fake.lists[t], listed)
    options = fake.options(endpoints=endpoints) if endpoints else fake.options()
    return fake.source(options=options)


def _smart_export(v: Variant, folder: Path) -> Any:
    from connectors.samples.smart_export_sample import write_smart_export
    from connectors.smart_export import SmartExportSource

    write_smart_export(folder, size=v.size, seed=v.seed)
    tables = {t for t, _ in v.dropped} | {r.table for r in v.renamed} | {a.table for a in v.added}
    for table in tables:
        path = folder / f"{table}.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        for r in (r for r in v.renamed if r.table == table):
            header[header.index(r.column)] = r.to
        for _, column in ((t, c) for t, c in v.dropped if t == table):
            at = header.index(column)
            header.pop(at)
            for row in rows:
                row.pop(at)
        for a in (a for a in v.added if a.table == table):
            header.append(a.column)
            values = generate(a.values, len(rows), a.fill, f"{v.name}/{a.table}/{a.column}")
            for row, value in zip(rows, values, strict=True):
                row.append("" if value is None else str(value))
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
    return SmartExportSource.from_options({"folder": str(folder), **v.options}, lambda _n: None)


BUILDERS: dict[str, Callable[[Variant, Path], Any]] = {
    "smartertrack": _smartertrack, "trackit": _trackit, "itsm365": _itsm365, "infraon": _infraon,
    "smart-export": _smart_export,
}


def build_evidence(v: Variant, folder: Path) -> SourceEvidence:
    """The variant's source read by its real connector and profiled as the audit profiles
    it (the audit's other checks do not feed the proposer): what the proposer sees."""
    folder.mkdir(parents=True, exist_ok=True)
    with BUILDERS[v.platform](v, folder) as source:
        schema = source.describe()
        return evidence_from_schema(schema, {spec.name: source.profile(spec.name) for spec in schema.objects})


# -- scoring ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scored:
    """One expected field against the proposal."""

    variant: Variant
    object: str
    field: str
    want: Expected
    got: str  # the proposed target and transforms, or why there is none
    confidence: float
    ok: bool

    def __str__(self) -> str:
        return (f"{self.variant.platform}/{self.variant.name} {self.object}.{self.field}: want {self.want}, "
                f"got {self.got} at {self.confidence:.2f}")


def score_variant(v: Variant, evidence: SourceEvidence, mmap: MigrationMap) -> list[Scored]:
    out = []
    for (obj, name), want in sorted(v.expected().items()):
        ev = evidence.object(obj)
        fm = mmap.field_map(obj, name)
        om = mmap.object_map(obj)
        if ev is None or ev.field(name) is None:
            out.append(Scored(v, obj, name, want, "no such field in the source", 0.0, False))
        elif fm is None:
            ok = want.target == "skip" and om is not None and not om.active
            out.append(Scored(v, obj, name, want, "not mapped (object not active)", 1.0 if ok else 0.0, ok))
        else:
            got = fm.target.describe() + (f" [{fm.describe_transforms()}]" if fm.transforms else "")
            out.append(Scored(v, obj, name, want, got, fm.confidence, matches(want, fm)))
    return out
