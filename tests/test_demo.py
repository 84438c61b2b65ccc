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
