"""A SMART export's staging copy is customer data in the temporary folder: it goes with its
source, when forgotten, and after a day when a killed process left it."""

from __future__ import annotations

import gc
import os
import tempfile

from connectors.smart_export.staging import Stage


def _staged(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("helpmig-smart-*"))


def test_a_stage_never_closed_leaves_no_copy_and_an_operators_folder_keeps_only_its_own(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stage = Stage()
    stage.create("tickets")
    stage.add("tickets", key="1", row=1, data={"subject": "printer"})
    stage.commit()
    assert len(_staged(temp)) == 1
    del stage
    gc.collect()
    assert _staged(temp) == []
    chosen = tmp_path / "staging"
    chosen.mkdir()
    (chosen / "notes.txt").write_text("the operator's")
    stage = Stage(chosen)
    stage.close()
    assert sorted(p.name for p in chosen.iterdir()) == ["notes.txt"]


def test_a_stage_a_killed_process_left_goes_when_the_next_one_starts(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    (temp / "helpmig-smart-old").mkdir(parents=True)
    (temp / "helpmig-smart-old" / "stage.sqlite").write_bytes(b"x")
    (temp / "helpmig-smart-new").mkdir()
    two_days_ago = os.path.getmtime(temp / "helpmig-smart-old") - 2 * 24 * 3600
    os.utime(temp / "helpmig-smart-old", (two_days_ago, two_days_ago))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stage = Stage()
    assert "helpmig-smart-old" not in _staged(temp) and "helpmig-smart-new" in _staged(temp)
    stage.close()
