"""Maps as files: TOML or JSON, for review outside the tool and reuse across projects.

An imported map is checked against this project's source: objects and fields the source
does not have are dropped and reported, rows the file lacks are proposed afresh, and
targets that do not fit an object's kind are replaced. Imported rows start unconfirmed, and
the reviews of a fresh proposal for this source (an expected column empty, two claims on one
target) come with them: the file cannot settle what only this source's data shows.
"""

from __future__ import annotations

import codecs
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w
from pydantic import ValidationError

from helpmig_tui.mapping.evidence import SourceEvidence
from helpmig_tui.mapping.model import MAP_FORMAT, MigrationMap, target_problem
from helpmig_tui.mapping.propose import propose_map

SUFFIXES = (".toml", ".json")


class MapFileError(Exception):
    """A map file cannot be written or read; the message is one line for the operator."""


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MapFileError(f"{path.name}: use a .toml or .json file name")
    return suffix[1:]


def map_text(mmap: MigrationMap, fmt: str) -> str:
    data = mmap.model_dump(mode="json", exclude_none=True)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    header = (f"# helpmig field map for {mmap.platform} (hash {mmap.hash()[:12]}).\n"
              "# Edit targets and transforms, then: helpmig map P --import FILE\n")
    return header + tomli_w.dumps(data)


def export_map(mmap: MigrationMap, path: Path) -> Path:
    fmt = _format(path)
    try:
        path.write_text(map_text(mmap, fmt), encoding="utf-8")
    except OSError as exc:
        raise MapFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def read_map(path: Path) -> MigrationMap:
    """A map file parsed and validated (no source check yet)."""
    fmt = _format(path)
    try:
        text = _decoded(path.read_bytes())
    except OSError as exc:
        raise MapFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MapFileError(f"{path.name} is not UTF-8 text: save it as UTF-8 (or as UTF-16 with a byte-order mark, "
                           "Notepad's \"Unicode\") and import it again") from None
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise MapFileError(f"{path.name} is not valid {fmt.upper()}: {exc}") from None
    _check_format(path, data)
    try:
        return MigrationMap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise MapFileError(f"{path.name}: {where}: {first['msg']}") from None


def _decoded(data: bytes) -> str:
    """A map file's text as editors save it: UTF-8 with or without a byte-order mark, or
    UTF-16 with one (Notepad's "Unicode"); a BOM left in the text fails TOML and JSON."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _check_format(path: Path, data: object) -> None:
    """A map file says which format it is written in; one this helpmig does not know is
    refused before it can replace the project's map."""
    version = data.get("format") if isinstance(data, dict) else None
    if version is None:
        raise MapFileError(f"{path.name} has no map format version: it is not a map helpmig wrote "
                           "(`helpmig map P --export FILE` writes one to edit)")
    if type(version) is not int or version != MAP_FORMAT:
        raise MapFileError(f"{path.name} is written in map format {version!r}; this helpmig reads format "
                           f"{MAP_FORMAT} (export the map again with this version)")


@dataclass
class ImportReport:
    unknown_objects: list[str] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # rows the file lacked
    replaced: list[str] = field(default_factory=list)  # rows whose target did not fit

    def lines(self) -> list[str]:
        out = []
        for label, items in (("objects this source does not have (dropped)", self.unknown_objects),
                             ("fields this source does not have (dropped)", self.unknown_fields),
                             ("rows not in the file (proposed afresh)", self.proposed),
                             ("rows whose target does not fit (proposed afresh)", self.replaced)):
            if items:
                shown = ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")
                out.append(f"{len(items)} {label}: {shown}")
        return out


def import_map(path: Path, evidence: SourceEvidence) -> tuple[MigrationMap, ImportReport]:
    """The file's map fitted to this source, every row unconfirmed, and what was changed."""
    loaded = read_map(path)
    if loaded.platform != evidence.platform:
        raise MapFileError(f"{path.name} maps a {loaded.platform} source; this project's source is {evidence.platform}")
    report = ImportReport()
    known = {o.name: {f.name for f in o.fields} for o in evidence.objects}
    report.unknown_objects = [o.object for o in loaded.objects if o.object not in known]
    report.unknown_fields = [f.key for f in loaded.fields if f.object in known and f.field not in known[f.object]]
    targets = {o.object: o.target for o in loaded.objects if o.object in known}
    fresh = propose_map(evidence, targets=targets)
    origin = f"imported from {path.name}"
    objects = []
    for om in fresh.objects:
        given = loaded.object_map(om.object)
        if given is None:
            report.proposed.append(om.object)
            objects.append(om)
        else:
            objects.append(given.model_copy(update={
                "status": "proposed", "role": om.role, "label": om.label, "parent": om.parent,
                "reason": f"{origin}: {given.reason}" if given.reason else origin}))
    fields = []
    for fm in fresh.fields:
        given = loaded.field_map(fm.object, fm.field)
        if given is None:
            report.proposed.append(fm.key)
            fields.append(fm)
        elif target_problem(targets[fm.object], given.target) is not None:
            report.replaced.append(fm.key)
            fields.append(fm)
        else:
            fields.append(given.model_copy(update={
                "status": "proposed", "samples": fm.samples,
                "reason": f"{origin}: {given.reason}" if given.reason else origin}))
    # the fresh proposal's open questions hold for this source whatever the file says
    fitted = MigrationMap(platform=evidence.platform, timezone=loaded.timezone, proposer="import",
                          objects=objects, fields=fields, reviews=fresh.reviews)
    return fitted, report
