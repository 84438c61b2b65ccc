"""A rollback undoes what the loads wrote under the map they were confirmed with: a newer
map not confirmed yet (an edit, an import of the same map) stops loads, not the rollback."""

from __future__ import annotations

import pytest

from helpmig_tui.demo import prepare_demo
from helpmig_tui.mapping.versions import latest, save_map
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.session import LoadRefused
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths


async def _loaded_demo(tmp_path):
    """A demo loaded in full, and what its sandbox held before."""
    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 10)
    before = demo.sandbox.state.counts()
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
    return paths, demo, before


async def test_a_rollback_goes_on_when_the_map_was_edited_after_the_load(tmp_path):
    paths, demo, before = await _loaded_demo(tmp_path)
    assert demo.sandbox.state.counts()["conversations"] > before["conversations"]
    with open_project(paths, demo.project) as store:  # an import with a field to review: a draft
        mmap = latest(store).map
        n = next(n for n, f in enumerate(mmap.fields) if f.status == "confirmed")
        mmap.fields[n] = mmap.fields[n].model_copy(update={"status": "proposed"})
        assert save_map(store, mmap, action="import", keep_decisions=False).status == "draft"
    with pytest.raises(LoadRefused, match="not ready"):
        async with demo.session() as session:
            pass
    async with demo.session(rolling_back=True) as session:
        report = await session.rollback(sample_only=False).run()
    assert report.clean
    after = demo.sandbox.state.counts()
    for kind in ("contacts", "conversations", "articles"):
        assert after[kind] == before[kind], kind


async def test_a_rollback_deletes_custom_objects_as_the_type_they_were_written_as(tmp_path):
    """A later confirmed map that names another custom object type does not send the
    deletes to that type (Intercom's 404 there would pass for "already gone")."""
    from helpmig_tui.mapping.versions import confirm, edit_object

    paths, demo, before = await _loaded_demo(tmp_path)
    assert demo.sandbox.state.counts()["custom_objects"] > before["custom_objects"]
    with open_project(paths, demo.project) as store:
        call_logs = latest(store).map.object_map("call_logs")
        assert call_logs.options.custom_object_type == "Call"
        edit_object(store, "call_logs", options=call_logs.options.model_copy(update={"custom_object_type": "Problem"}))
        confirm(store)
        assert latest(store).status == "confirmed"
        assert latest(store).map.object_map("call_logs").options.custom_object_type == "Problem"
    async with demo.session() as session:
        report = await session.rollback(sample_only=False).run()
    assert report.clean
    assert demo.sandbox.state.counts()["custom_objects"] == before["custom_objects"]
