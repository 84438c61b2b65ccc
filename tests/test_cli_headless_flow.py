"""The whole flow from the command line, as an operator on a server runs it: init, connect,
audit, settle the findings, propose and confirm the map, plan, load, validate, against the
strict sandbox on loopback. Nothing here is prepared by the demo's shortcuts."""

from __future__ import annotations

import json

from connectors.intercom.sandbox import DEFAULT_TOKEN, Sandbox, running_server
from connectors.samples import generate_smartertrack
from tests.support.cli import error_line, run


def test_from_init_to_a_validated_load_headless(tmp_path, capsys, monkeypatch):
    manifest = generate_smartertrack(tmp_path / "desk", tickets=30)
    home, p = str(tmp_path / "home"), "acme"
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    sandbox = Sandbox()
    with running_server(sandbox) as url:
        code, _, err = run(capsys, "--home", home, "init", p, "--source", "smartertrack", "--sqlite", manifest.database,
                           "--attachments", manifest.attachments)
        assert code == 0, err
        assert run(capsys, "--home", home, "connect", p, "--intercom-url", url)[0] == 0
        assert run(capsys, "--home", home, "audit", p)[0] == 0

        code, out, _ = run(capsys, "--home", home, "findings", p, "--json")
        listed = json.loads(out)
        checklist = [f for f in listed["findings"] if f["code"].startswith("checklist.")]
        assert code == 0 and listed["open_blockers"] > 0 and checklist
        assert all(f["status"] == "open" for f in checklist)

        code, _, err = run(capsys, "--home", home, "load", p, "--yes")
        assert code == 2 and "field map is not ready" in err and err.count("field map is not ready") == 1
        assert run(capsys, "--home", home, "map", p, "--propose")[0] == 0
        code, _, err = run(capsys, "--home", home, "map", p, "--confirm", "all")
        assert code == 0, err
        code, out, err = run(capsys, "--home", home, "load", p, "--yes")
        assert code == 2 and "blockers are open" in err and f"helpmig findings {p}" in err  # nothing sent yet

        code, _, err = run(capsys, "--home", home, "findings", p, "--waive", str(checklist[0]["id"]))
        assert code == 2 and "--note" in err
        code, _, err = run(capsys, "--home", home, "findings", p, "--acknowledge", "999999")
        assert code == 2 and "not a finding" in err
        code, out, _ = run(capsys, "--home", home, "findings", p, "--acknowledge", "checklist", "--json")
        settled = json.loads(out)
        assert code == 0 and sorted(settled["settled"]) == sorted(f["id"] for f in checklist)
        blockers = [f for f in settled["findings"] if f["severity"] == "blocker" and f["status"] == "open"]
        for f in blockers:  # anything else the audit raised is waived with a reason, as an operator would
            assert run(capsys, "--home", home, "findings", p, "--waive", str(f["id"]), "--note", "reviewed")[0] == 0

        code, out, err = run(capsys, "--home", home, "plan", p, "--fallback-admin", "991267001", "--json")
        assert code == 0, err
        assert json.loads(out)["settled"] == ["fallback admin 991267001"]  # said, not done silently
        queued = [f"{m['object']}:{m['key']}" for m in json.loads(out)["queue"]]
        code, _, err = run(capsys, "--home", home, "plan", p, "--skip", f"{queued[0]}=5")
        assert code == 2 and "--skip takes OBJECT:KEY, with no Intercom id" in error_line(err)
        code, _, err = run(capsys, "--home", home, "plan", p, "--match", f"{queued[0].split(':')[0]}:99999=991267001")
        assert code == 2 and "the source has no" in error_line(err) and "'99999'" in err
        assert queued and all(m["kind"] == "team" for m in json.loads(out)["queue"])  # the workspace has no teams
        code, out, err = run(capsys, "--home", home, "plan", p, "--skip", *queued[:1], "--skip", *queued[1:], "--json")
        assert code == 0 and json.loads(out)["queue"] == [], err  # repeatable, and groups too
        assert any("reports/not-migrated.csv" in note for note in json.loads(out)["notes"])
        code, out, err = run(capsys, "--home", home, "load", p, "--yes")
        last = out.strip().splitlines()[-1]
        assert code == 1 and last.startswith("NOT CLEAN") and "4 of 30 records rejected" in last  # --yes is not clean
        assert error_line(err.splitlines()[-1]).startswith("helpmig: exit 1: the run did not end clean")
        code, out, err = run(capsys, "--home", home, "validate", p)
        assert code == 1 and "FAILED" in out and "are not in Intercom (the share allowed is 2%)" in out, out + err
        assert error_line(err.splitlines()[-1]).startswith("helpmig: exit 1: the run did not end clean")
        sandbox.state.custom_object_types = frozenset({"Call"})  # the admin defines the type the report names
        # the sample desk's contacts are messy on purpose: the operator, having read the findings, allows 15%
        code, out, err = run(capsys, "--home", home, "load", p, "--yes", "--max-rejected", "15", "--json")
        assert code == 0, out[-3000:]
        load = json.loads(out)
        by_phase = {ph["phase"]: ph for ph in load["phases"]}
        assert by_phase["contacts"]["created"] > 0 and by_phase["conversations"]["created"] > 0
        rejected = [x for x in by_phase["contacts"]["reasons"] if x["status"] == "rejected"]
        assert rejected and all(x["examples"] and x["code"] for x in rejected)  # each bucket with its reasons and keys
        code, out, err = run(capsys, "--home", home, "validate", p, "--json")  # the share the load allowed
        assert code == 0 and json.loads(out)["passed"], err
        code, out, err = run(capsys, "--home", home, "validate", p, "--max-rejected", "2")
        assert code == 1 and "customers: 4 of 30 records are not in Intercom" in out, out
    counts = sandbox.state.counts()
    assert counts["contacts"] > 0 and counts["conversations"] > 0
    assert sandbox.report()["violations"] == 0
