"""The run commands on the command line, against the sandbox served on loopback: plan,
load (sample and full), validate, delta, report, rollback; JSON output and exit codes."""

from __future__ import annotations

import json

import pytest

from connectors.intercom.sandbox import DEFAULT_TOKEN
from helpmig_tui.pipeline.loader import PHASES
from helpmig_tui.project import open_project
from tests.support.cli import run, serving
from tests.support.demo_copy import copy_demo, demo_template


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return demo_template(tmp_path_factory.mktemp("template"), "trackit", 12)


@pytest.fixture
def served(template, tmp_path, monkeypatch):
    """A demo project of its own for each test (a copy of the module's), served on loopback."""
    demo = copy_demo(template, tmp_path / "home")
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    with serving(demo):
        yield str(demo.paths.home), demo
    demo.close()


def test_the_whole_flow_on_the_command_line(capsys, served):
    home, demo = served
    p = demo.project
    code, out, _ = run(capsys, "--home", home, "plan", p, "--json")
    plan = json.loads(out)
    assert code == 0 and plan["calls"] > 0 and [ph["name"] for ph in plan["phases"]][:2] == ["match", "schema"]

    code, out, _ = run(capsys, "--home", home, "load", p, "--sample", "3", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "done", json.loads(out)["problems"]
    code, out, _ = run(capsys, "--home", home, "validate", p, "--sample", "5", "--json")
    assert code == 0 and json.loads(out)["passed"]
    code, out, _ = run(capsys, "--home", home, "rollback", p, "--sample", "--yes", "--json")
    assert code == 0 and sum(json.loads(out)["removed"].values()) > 0

    code, out, err = run(capsys, "--home", home, "load", p, "--yes")
    assert code == 0, err
    assert "conversations" in out and "Run done" in out
    code, out, _ = run(capsys, "--home", home, "delta", p, "--json")
    assert code == 0
    delta = json.loads(out)
    created = sum(ph["created"] - ph["earlier"] for ph in delta["phases"] if ph["phase"] in ("contacts", "conversations"))
    assert created == 0  # nothing changed in the source: nothing new in Intercom

    code, out, _ = run(capsys, "--home", home, "report", p, "--json")
    summary = json.loads(out)["summary"]
    text = open(summary, encoding="utf-8").read()
    assert "# Migration summary" in text and "## Where every record is" in text

    code, out, _ = run(capsys, "--home", home, "rollback", p, "--all", "--yes", "--json")
    report = json.loads(out)
    assert code == 0 and report["removed"]["conversation"] > 0 and report["archived"]["company"] > 0
    assert demo.sandbox.state.counts()["conversations"] == 0


def test_refusals_are_one_line_with_exit_2(capsys, served, monkeypatch):
    home, demo = served
    code, _, err = run(capsys, "--home", home, "rollback", demo.project)
    assert code == 2 and "--sample" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--home", home, "load", demo.project, "--phase", "everything", "--yes")
    assert code == 2 and "unknown phase" in err
    code, _, err = run(capsys, "--home", home, "load", demo.project)  # no terminal to ask: --yes needed
    assert code == 2 and "--yes" in err
    monkeypatch.delenv("HELPMIG_INTERCOM_TOKEN")
    code, _, err = run(capsys, "--home", home, "plan", demo.project)
    assert code == 2 and "no Intercom token" in err


def _stage(demo) -> str:
    with open_project(demo.paths, demo.project) as store:
        return store.project().stage


def test_a_phase_alone_waits_for_the_phases_before_it(capsys, served):
    """`--phase` on a project whose earlier phases never ran is refused up front; phases run
    one at a time in order are allowed, and the stage says "loaded" only once all ran."""
    home, demo = served
    p = demo.project
    code, _, err = run(capsys, "--home", home, "load", p, "--yes", "--phase", "conversations")
    assert code == 2 and err.count("\n") == 1, err
    assert "match, schema, companies, contacts loaded first" in err and f"`helpmig load {p}`" in err
    assert demo.sandbox.state.counts()["conversations"] == 0 and _stage(demo) == "mapped"
    for phase in PHASES:
        code, _, err = run(capsys, "--home", home, "load", p, "--yes", "--phase", phase)
        assert code == 0, err
        assert _stage(demo) == ("loaded" if phase == PHASES[-1] else "partially_loaded"), phase
    code, _, err = run(capsys, "--home", home, "rollback", p, "--all", "--yes")
    assert code == 0, err
    code, _, err = run(capsys, "--home", home, "load", p, "--yes", "--phase", "contacts")
    assert code == 2 and "match, schema, companies loaded first" in err and "rolled back since" in err


def test_a_sample_after_the_load_keeps_the_stage(capsys, served):
    """A sample run after the full load (or its validation) does not send the project back
    to "sample loaded, next: run the full load"."""
    home, demo = served
    p = demo.project
    assert run(capsys, "--home", home, "load", p, "--yes")[0] == 0
    assert _stage(demo) == "loaded"
    assert run(capsys, "--home", home, "load", p, "--sample", "2", "--yes")[0] == 0
    assert _stage(demo) == "loaded"
    assert run(capsys, "--home", home, "validate", p, "--sample", "5")[0] == 0
    assert _stage(demo) == "validated"
    assert run(capsys, "--home", home, "load", p, "--sample", "2", "--yes")[0] == 0
    assert _stage(demo) == "validated"


def test_no_delta_after_a_rollback_of_everything(capsys, served):
    """A delta carries over what changed since a load: after `rollback --all` it would
    re-create everything, so it is refused until a load ran again; a rollback of the
    samples keeps the load, and the delta after it goes on."""
    home, demo = served
    p = demo.project
    assert run(capsys, "--home", home, "load", p, "--yes")[0] == 0
    assert run(capsys, "--home", home, "load", p, "--sample", "2", "--yes")[0] == 0
    assert run(capsys, "--home", home, "rollback", p, "--sample", "--yes")[0] == 0
    code, _, err = run(capsys, "--home", home, "delta", p)
    assert code == 0, err
    assert run(capsys, "--home", home, "rollback", p, "--all", "--yes")[0] == 0
    code, _, err = run(capsys, "--home", home, "delta", p)
    assert code == 2 and err.count("\n") == 1, err
    assert "rolled back" in err and f"`helpmig load {p}` loads it again" in err
    assert demo.sandbox.state.counts()["conversations"] == 0
    assert run(capsys, "--home", home, "load", p, "--yes")[0] == 0
    assert run(capsys, "--home", home, "delta", p)[0] == 0  # loaded again: the delta follows it
