"""Opening the reports folder: os.startfile fails on Server Core (no Explorer) and the
caller then shows the path instead of a traceback."""

from __future__ import annotations

import os

import pytest

from helpmig_tui import desktop


@pytest.fixture
def windows(monkeypatch):
    opened: list[object] = []
    monkeypatch.setattr(desktop.sys, "platform", "win32")
    return opened


def test_startfile_opens_the_folder(windows, monkeypatch, tmp_path):
    monkeypatch.setattr(os, "startfile", windows.append, raising=False)
    assert desktop.open_folder(tmp_path / "reports") is True
    assert windows == [tmp_path / "reports"] and (tmp_path / "reports").is_dir()


def test_no_explorer_is_a_false_not_a_traceback(windows, monkeypatch, tmp_path):
    def startfile(path):
        raise OSError(22, "No application is associated with the specified file for this operation", str(path))

    monkeypatch.setattr(os, "startfile", startfile, raising=False)
    assert desktop.open_folder(tmp_path / "reports") is False


def test_no_file_manager_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setattr(desktop.sys, "platform", "linux")
    monkeypatch.setattr(desktop.shutil, "which", lambda _name: None)
    assert desktop.open_folder(tmp_path / "r") is False
