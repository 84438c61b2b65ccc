"""`helpmig demo --headless` end to end for every source platform, against the sandbox."""

from __future__ import annotations

import json

import pytest

from helpmig_tui.cli import main


@pytest.mark.parametrize("platform", ["smartertrack", "trackit", "itsm365", "infraon", "smart-export"])
def test_headless_demo(platform, tmp_path, capsys):
    code = main(["--home", str(tmp_path), "demo", "--headless", "--source", platform, "--tickets", "15", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["load"]["status"] == "done" and out["validation"]["passed"]
    assert out["sample_validation"]["passed"] and sum(out["sample_rollback"]["removed"].values()) > 0
    for phase in out["load"]["phases"]:
        for name, o in phase["objects"].items():
            assert o["read"] == sum(o[k] for k in ("created", "updated", "skipped", "rejected", "failed",
                                                   "in_doubt", "queued")), (phase["phase"], name)
            assert o["failed"] == o["in_doubt"] == 0, (phase["phase"], name)
    conversations = next(p for p in out["load"]["phases"] if p["phase"] == "conversations")
    assert conversations["created"] > 0
    assert out["sandbox"]["conversations"] > 0 and out["sandbox"]["contacts"] > 0
    assert out["sandbox_violations"]["violations"] == 0 and out["sandbox_violations"]["requests"] > 0


def test_demo_refuses_an_unknown_source(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(tmp_path), "demo", "--headless", "--source", "zendesk"])
    assert exc.value.code == 2


async def test_a_doubt_is_read_back_for_as_long_as_the_demo_sandbox_search_lags(tmp_path):
    """Intercom's search may lag minutes behind a create, so a write left in doubt is looked
    for that long; the demo's Intercom is its own sandbox, whose lag it knows: a resumed
    demo load waits that (and a margin), not Intercom's minutes."""
    from helpmig_tui.demo import DEMO_READ_BACK_MARGIN_S, prepare_demo
    from helpmig_tui.pipeline.context import SEARCH_LAG_S, LoadOptions
    from helpmig_tui.pipeline.session import read_back_lag
    from helpmig_tui.project import create_project, open_project
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "trackit", 4, search_lag=1)
    with open_project(paths, demo.project) as store:
        assert read_back_lag(store) == 1 + DEMO_READ_BACK_MARGIN_S
    options = LoadOptions(sample=2)
    async with demo.session() as session:
        assert (await session.load(options)).status == "done"
    assert options.search_lag == 1 + DEMO_READ_BACK_MARGIN_S  # what the load used
    # an operator's project loads into Intercom: its search's minutes
    with create_project(paths, "operator", "trackit", {"sqlite": str(tmp_path / "desk.db")}) as store:
        assert read_back_lag(store) == SEARCH_LAG_S
    demo.close()
