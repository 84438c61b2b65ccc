"""`helpmig map`: propose, show, confirm, export, import, the LLM flag, and bad input (exit 2)."""

from __future__ import annotations

import json

import httpx
import pytest

from helpmig_tui.cli import main
from helpmig_tui.mapping import llm as llm_module
from tests.support.cli import error_line


def run(capsys, paths, *argv):
    code = main([*argv, "--home", str(paths.home)])
    out, err = capsys.readouterr()
    return code, out, err


def test_propose_show_confirm_and_the_map_becomes_a_version(capsys, paths, audited):
    code, out, err = run(capsys, paths, "map", audited, "--propose")
    assert code == 0, err
    assert out.startswith("Proposed field map version 1 (builtin): 8 objects, 18 fields;")
    assert "Blocking the load: 8 objects and 18 fields unconfirmed; notes: part.created_at not mapped" in out
    assert "map: proposal ready (8/8)" in err  # progress on stderr

    code, out, _ = run(capsys, paths, "map", audited, "--show")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Field map version 1 (draft, proposed by builtin, hash ")
    assert any(line.startswith("tickets → conversation (channel=email, parts_over_500=split)") for line in lines)
    assert any(line.strip().startswith("opened") and "created_at" in line for line in lines)
    assert any(line.startswith("Destination schema: attributes to create:") for line in lines)

    code, out, _ = run(capsys, paths, "map", audited, "--confirm", "all", "--min-confidence", "0.9")
    assert code == 0 and out.startswith("Confirmed ") and "left to confirm" in out

    code, out, err = run(capsys, paths, "map", audited, "--confirm", "all")
    assert code == 0 and "Blocking the load: notes: part.created_at not mapped" in out

    code, out, _ = run(capsys, paths, "map", audited, "--show", "--json")
    data = json.loads(out)
    assert data["status"] == "draft" and data["unconfirmed"] == [] and data["coverage"] == {"notes": ["created_at"]}
    assert data["map"]["platform"] == "smartertrack" and len(data["hash"]) == 64
    assert {"model": "conversation", "name": "helpmig_source_id", "data_type": "string", "options": [],
            "sources": ["every record (where it came from)"]} in data["schema"]["create"]


def test_export_then_import_the_same_map(capsys, paths, audited, tmp_path):
    run(capsys, paths, "map", audited, "--propose")
    target = tmp_path / "acme-map.toml"
    code, out, _ = run(capsys, paths, "map", audited, "--export", str(target))
    assert code == 0 and out.strip() == f"Wrote field map version 1 (draft) to {target}"
    assert target.read_text(encoding="utf-8").startswith("# helpmig field map for smartertrack")
    code, out, err = run(capsys, paths, "map", audited, "--import", str(target), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["version"] == 2 and data["proposer"] == "import"
    assert data["import"] == {"unknown_objects": [], "unknown_fields": [], "proposed": [], "replaced": []}


@pytest.mark.parametrize("argv, message", [
    (["--show"], "helpmig: there is no field map yet (propose one first: helpmig map acme --propose)"),
    (["--confirm", "all"], "helpmig: there is no field map yet (propose one first: helpmig map acme --propose)"),
    (["--show", "--llm"], "helpmig: --llm goes with --propose"),
    (["--show", "--min-confidence", "0.5"], "helpmig: --min-confidence goes with --confirm"),
    (["--confirm", "all", "--min-confidence", "2"], "helpmig: --min-confidence must be between 0 and 1 (got 2)"),
    (["--confirm", "all", "tickets.subject"], "helpmig: --confirm takes 'all' or OBJECT.FIELD items, not both"),
    (["--import", "nowhere.toml"], "helpmig: cannot read nowhere.toml: No such file or directory"),
    (["--export", "map.yaml"], "helpmig: there is no field map yet (propose one first: helpmig map acme --propose)"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, paths, audited, argv, message):
    code, out, err = run(capsys, paths, "map", audited, *argv)
    assert code == 2 and out == "" and error_line(err) == message


def test_bad_items_and_files_after_a_proposal(capsys, paths, audited, tmp_path):
    run(capsys, paths, "map", audited, "--propose")
    code, _, err = run(capsys, paths, "map", audited, "--confirm", "tickets.nope")
    assert code == 2 and error_line(err) == (
        "helpmig: tickets.nope is not in the map (use OBJECT or OBJECT.FIELD as --show lists them)")
    code, _, err = run(capsys, paths, "map", audited, "--export", str(tmp_path / "map.yaml"))
    assert code == 2 and error_line(err) == "helpmig: map.yaml: use a .toml or .json file name"


def test_propose_before_an_audit_says_what_to_do(capsys, paths, tmp_path):
    main(["--home", str(paths.home), "init", "fresh", "--source", "smartertrack", "--sqlite", str(tmp_path / "x.db")])
    capsys.readouterr()
    code, _, err = run(capsys, paths, "map", "fresh", "--propose")
    assert code == 2 and error_line(err) == (
        "helpmig: the source has not been audited yet: the proposer works from the audit's profiles "
        "(run the audit first: helpmig audit P)")


def test_propose_with_the_llm_uses_the_configured_endpoint(capsys, paths, audited, monkeypatch):
    seen = []

    def endpoint(request):
        seen.append(request)
        return httpx.Response(503)

    real_init = llm_module.LlmProposer.__init__

    def with_fake(self, settings, api_key=None, transport=None):
        real_init(self, settings, api_key, transport=httpx.MockTransport(endpoint))

    monkeypatch.setattr(llm_module.LlmProposer, "__init__", with_fake)
    monkeypatch.setenv("HELPMIG_LLM_BASE_URL", "http://llm.local/v1")
    monkeypatch.setenv("HELPMIG_LLM_API_KEY", "sk-cli-0123456789")
    code, out, err = run(capsys, paths, "map", audited, "--propose", "--llm", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["proposer"] == "llm"
    reasons = [f["reason"] for f in data["map"]["fields"]]
    assert sum(r.startswith("LLM failed (the endpoint answered HTTP 503); built-in: ") for r in reasons) >= 1
    assert all(r.startswith(("LLM failed (", "LLM not asked (it failed on ")) for r in reasons
               if not r.startswith("every field is a column"))
    assert len(seen) == 1  # the circuit breaker: one failure, no further request
    assert seen and all(r.headers["authorization"] == "Bearer sk-cli-0123456789" for r in seen)
    assert "sk-cli-0123456789" not in out + err


def test_include_names_the_rules_an_object_has(capsys, paths, audited):
    run(capsys, paths, "map", audited, "--propose")
    code, _, err = run(capsys, paths, "map", audited, "--include", "articles:article.private")
    assert code == 2 and "articles has no scope rule 'article.private'" in err and "leaves nothing out" in err
    code, _, err = run(capsys, paths, "map", audited, "--include", "nothing:article.private")
    assert code == 2 and "'nothing' is not in the map" in err
