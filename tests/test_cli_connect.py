"""`helpmig connect` against the sandbox served on loopback, and `status` showing the result."""

from __future__ import annotations

import json

import pytest

from connectors.intercom.sandbox import Sandbox, running_server
from helpmig_tui.cli import main
from tests.support.cli import run

TOKEN = "Y2xpOnRva2VuLWZvci10ZXN0cw=="


@pytest.fixture(scope="module")
def sandbox_url():
    with running_server(Sandbox(tokens=frozenset({TOKEN}))) as url:
        yield url


@pytest.fixture
def home(tmp_path, capsys):
    home = str(tmp_path / "h")
    assert main(["--home", home, "init", "p", "--source", "smart-export", "--folder", str(tmp_path)]) == 0
    capsys.readouterr()
    return home


def test_connect_prints_the_workspace_and_records_it(capsys, home, sandbox_url, monkeypatch, tmp_path):
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", TOKEN)
    code, out, err = run(capsys, "--home", home, "connect", "p", "--intercom-url", sandbox_url)
    assert code == 0, err
    assert "Intercom workspace helpmig sandbox (sbx0wksp), region US" in out
    assert "Brook Agent" in out and "Support" in out and "250 of 250 free" in out
    assert f"Recorded the destination of p: {sandbox_url}" in out

    code, out, _ = run(capsys, "--home", home, "status", "p")
    assert f"Intercom: {sandbox_url} (workspace helpmig sandbox, region US, checked " in out
    code, out, _ = run(capsys, "--home", home, "status", "p", "--json")
    status = json.loads(out)
    assert status["intercom_url"] == sandbox_url and status["destination"]["workspace_id"] == "sbx0wksp"

    code, out, _ = run(capsys, "--home", home, "connect", "p", "--json")  # the recorded URL is the default
    data = json.loads(out)
    assert code == 0 and data["base_url"] == sandbox_url
    assert [t["name"] for t in data["teams"]] == ["Support", "Billing"] and data["custom_attributes"]["contact"] == 0

    written = b"".join(p.read_bytes() for p in (tmp_path / "h").rglob("*") if p.is_file())
    assert TOKEN.encode() not in written  # neither the project file nor the log


def test_a_missing_token_exits_2_with_one_line(capsys, home, sandbox_url):
    code, out, err = run(capsys, "--home", home, "connect", "p", "--intercom-url", sandbox_url)
    assert code == 2 and out == ""
    assert err.startswith("helpmig: no Intercom access token (`helpmig secret set intercom_token` keeps it, "
                          "HELPMIG_INTERCOM_TOKEN sets it for one session") and err.count("\n") == 1


def test_a_rejected_token_exits_2_and_records_nothing(capsys, home, sandbox_url, monkeypatch):
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", "not-the-right-token")
    code, _, err = run(capsys, "--home", home, "connect", "p", "--intercom-url", sandbox_url)
    assert code == 2 and err.count("\n") == 1
    assert "Intercom rejected the token (401)" in err and "not-the-right-token" not in err
    _, out, _ = run(capsys, "--home", home, "status", "p")
    assert "Intercom: not connected yet" in out


def test_an_unreachable_host_exits_1(capsys, home, monkeypatch):
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", TOKEN)
    code, _, err = run(capsys, "--home", home, "connect", "p", "--intercom-url", "http://127.0.0.1:1")
    assert code == 1 and "cannot reach http://127.0.0.1:1" in err and err.count("\n") == 1


def test_a_bad_url_exits_2(capsys, home, monkeypatch):
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", TOKEN)
    code, _, err = run(capsys, "--home", home, "connect", "p", "--intercom-url", "api.intercom.io")
    assert code == 2 and "not an Intercom API URL" in err
