"""A demo project goes on from the command line as from the wizard: its Intercom is the
sandbox in the project's folder, so `delta`, `validate` and `rollback` work without a
token and never reach the network."""

from __future__ import annotations

import json

from helpmig_tui.demo import reopen_demo
from helpmig_tui.settings import resolve_paths
from tests.support.cli import error_line, run


def test_delta_validate_and_rollback_of_a_demo_project(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("HELPMIG_INTERCOM_TOKEN", raising=False)
    home = str(tmp_path / "home")
    code, out, err = run(capsys, "--home", home, "demo", "--headless", "--tickets", "10")
    assert code == 0, err
    code, out, err = run(capsys, "--home", home, "--json", "delta", "demo-smartertrack")
    assert code == 0 and json.loads(out)["clean"], err
    code, out, err = run(capsys, "--home", home, "--json", "validate", "demo-smartertrack")
    assert code == 0 and json.loads(out)["passed"], err
    code, out, err = run(capsys, "--home", home, "--json", "rollback", "demo-smartertrack", "--all", "--yes")
    assert code == 0 and json.loads(out)["removed"], err
    demo = reopen_demo(resolve_paths(tmp_path / "home"), "demo-smartertrack")
    try:  # the rollback reached the demo's own workspace, kept in the project's folder
        assert demo.sandbox.state.counts()["conversations"] == 0
    finally:
        demo.close()


def test_a_declined_prompt_says_nothing_was_done_and_no_run_failed(capsys, tmp_path, monkeypatch):
    from helpmig_tui import cli_pipeline

    home = str(tmp_path / "home")
    assert run(capsys, "--home", home, "demo", "--headless", "--tickets", "5")[0] == 0
    monkeypatch.setattr(cli_pipeline, "_confirm", lambda *_a, **_k: False)  # the operator answers no
    code, _, err = run(capsys, "--home", home, "load", "demo-smartertrack")
    assert code == 1 and error_line(err) == "helpmig: not confirmed: nothing was loaded"
    code, _, err = run(capsys, "--home", home, "rollback", "demo-smartertrack", "--all")
    assert code == 1 and error_line(err) == \
        "helpmig: not confirmed (the project's name was not typed): nothing was removed"
