"""A project whose hand-made source has been audited: what the mapping step starts from."""

from __future__ import annotations

import pytest

from connectors import registry
from helpmig_tui.audit import run_audit
from helpmig_tui.audit_store import save_audit
from helpmig_tui.project import create_project, open_project
from tests.support.handmade import make_source


@pytest.fixture
def audited(paths, tmp_path, monkeypatch):
    """The project name; its store holds the hand-made source's audit."""
    monkeypatch.setitem(registry.PLATFORMS, "smartertrack", ("tests.support.handmade", "HandmadeSource", "SmarterTrack"))
    create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "st.db")}).close()
    with open_project(paths, "acme") as store:
        save_audit(store, run_audit(make_source()))
    return "acme"


@pytest.fixture
def store(paths, audited):
    with open_project(paths, audited) as opened:
        yield opened
