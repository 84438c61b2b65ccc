"""Messages that say what happened and name the command that fixes it; input checked where
it comes in (the issue's list: the masker eating words, wizard steps in CLI hints, a token
with a line break, https to a plain-HTTP port, a team id as the fallback admin,
--test-contact without --sample, a map file of an unknown format, a missing source file)."""

from __future__ import annotations

import json

import pytest

from connectors.intercom.sandbox import DEFAULT_TOKEN, Sandbox, running_server
from helpmig_tui import redact
from helpmig_tui.cli import main
from helpmig_tui.mapping.versions import latest
from helpmig_tui.pipeline.prepare import Resolutions
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from tests.support.cli import run, serving
from tests.support.demo_copy import copy_demo, demo_template

WIZARD_WORDS = ("Connect step", "Mapping step", "Audit step", "in the wizard", "the wizard's")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return demo_template(tmp_path_factory.mktemp("template"), "trackit", 8)


@pytest.fixture
def served(template, tmp_path, monkeypatch):
    """A demo project of its own for each test (a copy of the module's), served on loopback."""
    demo = copy_demo(template, tmp_path / "home")
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    with serving(demo) as url:
        yield str(demo.paths.home), demo, url
    demo.close()


@pytest.mark.parametrize(("text", "shown"), [
    ("no Intercom token: set HELPMIG_INTERCOM_TOKEN", "no Intercom token: set HELPMIG_INTERCOM_TOKEN"),
    ("the token: run `helpmig secret set intercom_token`", "the token: run `helpmig secret set intercom_token`"),
    ("password: wrong, try again", "password: wrong, try again"),
    ("set HELPMIG_SQL_PASSWORD=Sup3r;Secret", "set HELPMIG_SQL_PASSWORD=****;Secret"),
    ('{"token": "abc"}', '{"token": "****"}'),
    ("token: dG9rOmFiY2RlZjEyMw", "token: ****"),
    ("DRIVER={x};UID=reader;PWD=hunter;", "DRIVER={x};UID=reader;PWD=****;"),
    ("Authorization: Bearer dG9rOmFiY2RlZjEyMw==", "Authorization: Bearer ****"),
])
def test_the_masker_masks_values_never_words(text, shown):
    assert redact.redact(text) == shown


def test_a_missing_token_names_the_commands_that_set_it(served, capsys, monkeypatch):
    home, demo, _ = served
    monkeypatch.delenv("HELPMIG_INTERCOM_TOKEN")
    for argv in (["plan", demo.project], ["connect", demo.project]):
        code, _, err = run(capsys, "--home", home, *argv)
        assert code == 2 and "no Intercom" in err and "helpmig secret set intercom_token" in err, err
        assert "****" not in err and not any(word in err for word in WIZARD_WORDS), err


def test_a_token_with_a_line_break_is_named_not_blamed_on_the_network(served, capsys, monkeypatch):
    home, demo, _ = served
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN + "\nsecond-line")
    for argv in (["connect", demo.project], ["plan", demo.project]):
        code, _, err = run(capsys, "--home", home, *argv)
        assert code == 2 and "contains a line break" in err and "network" not in err, err


def test_a_surrounding_line_break_is_forgiven(served, capsys, monkeypatch):
    home, demo, _ = served
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN + "\r\n")
    code, out, err = run(capsys, "--home", home, "connect", demo.project)
    assert code == 0, err


def test_https_to_a_plain_http_port_names_tls(served, capsys):
    home, demo, url = served
    code, _, err = run(capsys, "--home", home, "connect", demo.project, "--intercom-url", url.replace("http://", "https://"))
    assert code == 2 and "TLS handshake" in err and url in err, err  # the plain http:// URL is suggested


def test_the_fallback_admin_must_be_an_admin_of_the_workspace(served, capsys):
    home, demo, _ = served
    with open_project(resolve_paths(home), demo.project) as store:
        before = Resolutions.load(store).fallback_admin
    code, _, err = run(capsys, "--home", home, "plan", demo.project, "--fallback-admin", "5017001")
    assert code == 2 and "is the team 'Support', not an admin" in err, err
    code, _, err = run(capsys, "--home", home, "plan", demo.project, "--fallback-admin", "424242")
    assert code == 2 and "no admin of this workspace" in err, err
    code, _, err = run(capsys, "--home", home, "plan", demo.project, "--fallback-contact", "not-an-email")
    assert code == 2 and "email address" in err, err
    with open_project(resolve_paths(home), demo.project) as store:
        assert Resolutions.load(store).fallback_admin == before  # nothing saved from refused input
    code, _, err = run(capsys, "--home", home, "plan", demo.project, "--fallback-admin", "brook@sandbox.example")
    assert code == 0, err
    with open_project(resolve_paths(home), demo.project) as store:
        assert Resolutions.load(store).fallback_admin == "991267002"  # the email found its admin


def test_test_contact_goes_with_sample(served, capsys):
    home, demo, _ = served
    code, _, err = run(capsys, "--home", home, "load", demo.project, "--test-contact", "qa@example.com", "--yes")
    assert code == 2 and "--test-contact goes with --sample" in err
    assert demo.sandbox.state.counts()["contacts"] == 0


def test_a_map_file_of_an_unknown_format_leaves_the_map_alone(served, capsys, tmp_path):
    home, demo, _ = served
    exported = tmp_path / "map.json"
    assert run(capsys, "--home", home, "map", demo.project, "--export", str(exported))[0] == 0
    with open_project(resolve_paths(home), demo.project) as store:
        before = latest(store)
    data = json.loads(exported.read_text(encoding="utf-8"))
    for version in (2, "1", None):
        data["format"] = version
        exported.write_text(json.dumps({k: v for k, v in data.items() if v is not None}), encoding="utf-8")
        code, _, err = run(capsys, "--home", home, "map", demo.project, "--import", str(exported))
        assert code == 2 and "map format" in err, err
    with open_project(resolve_paths(home), demo.project) as store:
        after = latest(store)
    assert (after.version, after.hash, after.status) == (before.version, before.hash, before.status)


def test_a_missing_source_file_is_bad_input(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert run(capsys, "--home", home, "init", "p", "--source", "smartertrack", "--sqlite", str(tmp_path / "gone.db"))[0] == 0
    code, _, err = run(capsys, "--home", home, "audit", "p")
    assert code == 2 and "SQLite file not found" in err and err.count("\n") == 1, err


def test_an_unready_map_is_said_once_with_the_cli_commands(tmp_path, capsys, monkeypatch):
    from connectors.samples import generate_smartertrack

    manifest = generate_smartertrack(tmp_path / "desk", tickets=30)
    home = str(tmp_path / "home")
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    with running_server(Sandbox()) as url:
        assert run(capsys, "--home", home, "init", "p", "--source", "smartertrack", "--sqlite", manifest.database)[0] == 0
        assert run(capsys, "--home", home, "connect", "p", "--intercom-url", url)[0] == 0
        assert run(capsys, "--home", home, "audit", "p")[0] == 0
        assert run(capsys, "--home", home, "map", "p", "--propose")[0] == 0
        for argv in (["load", "p", "--yes"], ["plan", "p"], ["validate", "p"], ["rollback", "p", "--all", "--yes"]):
            code, _, err = run(capsys, "--home", home, *argv)
            assert code == 2 and err.count("field map is not ready") == 1 and err.count("\n") == 1, err
            assert "helpmig map p --show" in err and not any(word in err for word in WIZARD_WORDS), err


def test_help_names_the_log_and_verbose(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPMIG_HOME", str(tmp_path))
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "-v, --verbose" in out and "130 stopped by Ctrl+C" in " ".join(out.split()) and "143" in out
    assert str(tmp_path / "logs") in "".join(out.split())  # argparse wraps a long path anywhere


def test_verbose_shows_the_log_lines_on_stderr(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["--home", home, "-v", "init", "p", "--source", "smart-export", "--folder", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "helpmig: log: helpmig 0." in err and "init" in err
