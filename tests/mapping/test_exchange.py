"""Export and import of maps (TOML, JSON), checked against the project's source; diffs."""

from __future__ import annotations

import json
import tomllib

import pytest

from helpmig_tui.mapping.diff import diff_maps
from helpmig_tui.mapping.evidence import evidence_from_store
from helpmig_tui.mapping.exchange import MapFileError, export_map, import_map, read_map
from helpmig_tui.mapping.model import AttributeTarget, MigrationMap
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.transforms import Truncate
from helpmig_tui.mapping.versions import confirm, edit_field, latest, save_map
from helpmig_tui.mapping.workflow import propose_for_project
from tests.support.mapping_corpus import load_cases


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_every_platforms_proposal_survives_a_round_trip(tmp_path, suffix):
    for case in (load_cases(p)[0] for p in ("smartertrack", "itsm365", "smart-export")):
        mmap = propose_map(case.evidence)
        path = export_map(mmap, tmp_path / f"{case.platform}{suffix}")
        again = read_map(path)
        assert again.hash() == mmap.hash()
        assert again.model_dump() == mmap.model_dump()
    text = path.read_text(encoding="utf-8")
    parsed = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    assert parsed["platform"] == "smart-export"


@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be"])
def test_a_map_saved_by_an_editor_in_utf8_or_utf16_with_a_bom_is_read(tmp_path, suffix, encoding):
    mmap = propose_map(load_cases("smartertrack")[0].evidence)
    path = export_map(mmap, tmp_path / f"map{suffix}")
    text = path.read_text(encoding="utf-8")
    path.write_bytes((("\ufeff" if encoding == "utf-16-be" else "") + text).encode(encoding))  # Notepad: BOM first
    assert read_map(path).hash() == mmap.hash()


def test_a_map_file_that_is_not_utf8_says_so(tmp_path):
    path = tmp_path / "map.toml"
    path.write_bytes("# Zuordnung für Tickets\n".encode("cp1252"))
    with pytest.raises(MapFileError, match="map.toml is not UTF-8 text: save it as UTF-8"):
        read_map(path)


def test_an_import_is_fitted_to_the_source_and_every_row_is_unconfirmed(store, tmp_path):
    version = propose_for_project(store)
    confirm(store)
    exported = version.map.model_dump(mode="json", exclude_none=True)
    exported["objects"].append({"object": "ghosts", "target": "contact"})
    exported["fields"] = [f for f in exported["fields"] if f["object"] != "articles"]
    exported["fields"].append({"object": "tickets", "field": "legacy_code", "target": {"type": "skip"}})
    for f in exported["fields"]:
        if (f["object"], f["field"]) == ("customers", "email"):
            f["target"] = {"type": "standard", "field": "title"}  # not a contact field
        if (f["object"], f["field"]) == ("tickets", "subject"):
            f["target"] = {"type": "attribute", "name": "st_subject", "data_type": "string"}
    path = tmp_path / "reuse.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    fitted, report = import_map(path, evidence_from_store(store))
    assert report.unknown_objects == ["ghosts"]
    assert report.unknown_fields == ["tickets.legacy_code"]
    assert report.replaced == ["customers.email"]
    assert report.proposed == ["articles.title", "articles.category_id"]
    assert fitted.object_map("ghosts") is None and fitted.field_map("tickets", "legacy_code") is None
    assert fitted.field_map("tickets", "subject").target == AttributeTarget(name="st_subject")
    assert fitted.field_map("customers", "email").target.field == "email"
    assert all(row.status == "proposed" for row in fitted.rows())
    assert fitted.field_map("tickets", "subject").reason.startswith("imported from reuse.json")
    assert any("objects this source does not have (dropped): ghosts" in line for line in report.lines())
    stored = save_map(store, fitted, action="import", keep_decisions=False)
    assert stored.status == "draft" and stored.map.proposer == "import"


def test_an_import_for_another_platform_or_a_broken_file_is_refused(store, tmp_path):
    evidence = evidence_from_store(store)
    other = tmp_path / "other.toml"
    other.write_text('format = 1\nplatform = "itsm365"\n', encoding="utf-8")
    with pytest.raises(MapFileError, match="maps a itsm365 source; this project's source is smartertrack"):
        import_map(other, evidence)
    broken = tmp_path / "broken.toml"
    broken.write_text("platform = \n", encoding="utf-8")
    with pytest.raises(MapFileError, match="broken.toml is not valid TOML"):
        read_map(broken)
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"format": 1, "platform": "smartertrack",
                                   "objects": [{"object": "t", "target": "bogus"}]}),
                       encoding="utf-8")
    with pytest.raises(MapFileError, match=r"invalid.json: objects.0.target: Input should be"):
        read_map(invalid)
    with pytest.raises(MapFileError, match="use a .toml or .json file name"):
        read_map(tmp_path / "map.yaml")
    with pytest.raises(MapFileError, match="cannot read"):
        read_map(tmp_path / "missing.toml")


def test_the_diff_names_what_changed_in_words(store):
    first = propose_for_project(store).map
    edit_field(store, "customers", "cf_notes", target=AttributeTarget(name="st_notes"),
               transforms=[Truncate(max_length=255)])
    second = latest(store).map
    changes = diff_maps(first, second)
    assert [(c.key, c.change) for c in changes] == [("customers.cf_notes", "changed")]
    assert changes[0].before == "note “Cf notes”"
    assert changes[0].after == "attribute st_notes (string) [truncate 255]"
    smaller = MigrationMap.model_validate({**second.model_dump(), "timezone": "Europe/Paris", "fields": [
        f for f in second.model_dump()["fields"] if f["object"] != "articles"]})
    keys = {(c.key, c.change) for c in diff_maps(second, smaller)}
    assert ("(time zone)", "changed") in keys and ("articles.title", "removed") in keys
