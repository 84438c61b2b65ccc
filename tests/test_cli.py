"""The command line: working commands, not-built commands, help, exit codes, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpmig_tui import __version__
from helpmig_tui.cli import build_parser, main
from tests.support.cli import error_line, run

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)


def test_every_design_command_exists():
    assert set(_commands()) == {"projects", "init", "status", "audit", "connect", "map", "sandbox", "demo", "plan",
                                "load", "validate", "delta", "rollback", "report", "findings", "secret", "bundle"}


@pytest.mark.parametrize("command", _commands())
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: helpmig {command}" in out and "--home" in out and "--json" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"helpmig {__version__}"


def test_init_status_projects(capsys, tmp_path):
    home = str(tmp_path / "h")
    code, out, err = run(capsys, "--home", home, "init", "demo1", "--source", "smartertrack", "--sqlite", "x.db")
    assert code == 0, err
    assert "Created project demo1" in out and "source file not found" in out

    code, out, _ = run(capsys, "status", "demo1", "--home", home, "--json")
    state = json.loads(out)
    assert code == 0
    assert state["name"] == "demo1" and state["platform"] == "smartertrack" and state["stage"] == "created"
    assert state["source"]["sqlite"] == str(Path("x.db").resolve())
    assert state["source_problem"].startswith("source file not found")
    assert state["next_step"] == "audit the source (helpmig audit demo1)" and state["resumable"] is False

    code, out, _ = run(capsys, "projects", "--home", home, "--json")
    assert [p["name"] for p in json.loads(out)] == ["demo1"]
    code, out, _ = run(capsys, "projects", "--home", home)
    assert "demo1" in out and "SmarterTrack" in out and "created" in out


def test_status_says_when_the_source_appears(capsys, tmp_path):
    home = str(tmp_path / "h")
    source = tmp_path / "st.db"
    run(capsys, "--home", home, "init", "p1", "--source", "smartertrack", "--sqlite", str(source))
    source.write_bytes(b"")
    code, out, _ = run(capsys, "--home", home, "status", "p1", "--json")
    assert json.loads(out)["source_problem"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["init", "bad name", "--source", "trackit", "--sqlite", "x.db"], "invalid project name"),
        (["init", "con", "--source", "trackit", "--sqlite", "x.db"], "invalid project name"),
        (["init", "p", "--source", "trackit"], "needs exactly one of"),
        (["init", "p", "--source", "trackit", "--sqlite", "a.db", "--server", "s"], "needs exactly one of"),
        (["init", "p", "--source", "trackit", "--server", "srv"], "--server needs --database"),
        (["init", "p", "--source", "trackit", "--odbc", "DRIVER={x};PWD=hunter22"], "holds a password"),
        (["init", "p", "--source", "itsm365"], "needs --url"),
        (["init", "p", "--source", "infraon", "--url", "ftp://x"], "must start with https://"),
        (["init", "p", "--source", "smart-export"], "needs --folder"),
        (["init", "p", "--source", "trackit", "--sqlite", "a.db", "--timezone", "Mars/Base"], "unknown time zone"),
        (["status", "ghost"], "no project file"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path):
    code, out, err = run(capsys, "--home", str(tmp_path), *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert "hunter22" not in err + out


def test_init_twice_is_refused(capsys, tmp_path):
    args = ["--home", str(tmp_path), "init", "p", "--source", "smart-export", "--folder", str(tmp_path)]
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 2 and "already exists" in err


def test_a_damaged_project_is_reported_not_raised(capsys, tmp_path):
    run(capsys, "--home", str(tmp_path), "init", "p", "--source", "smart-export", "--folder", str(tmp_path))
    state = tmp_path / "projects" / "p" / "state.sqlite"
    state.write_bytes(b"garbage" * 100)
    code, _, err = run(capsys, "--home", str(tmp_path), "status", "p")
    assert code == 2 and "not a SQLite database" in err and "Traceback" not in err
    code, out, _ = run(capsys, "--home", str(tmp_path), "projects")
    assert code == 0 and "cannot be read" in out


def test_the_issue_example_as_the_operator_types_it(tmp_path):
    """`helpmig --home H init demo1 --source smartertrack --sqlite x.db && helpmig --home H status demo1 --json`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    home = str(tmp_path / "h")
    cmd = [sys.executable, "-m", "helpmig_tui", "--home", home]
    first = subprocess.run([*cmd, "init", "demo1", "--source", "smartertrack", "--sqlite", "x.db"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([*cmd, "status", "demo1", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    state = json.loads(second.stdout)
    assert state["source"] == {"sqlite": str(tmp_path / "x.db")}
    assert state["source_problem"] == f"source file not found: {tmp_path / 'x.db'}"


def test_audit_of_an_unbuilt_connector_says_so(capsys, tmp_path, monkeypatch):
    from connectors import registry

    monkeypatch.setitem(registry.PLATFORMS, "infraon", ("connectors.not_here", "X", "Infraon Desk"))
    run(capsys, "--home", str(tmp_path), "init", "p", "--source", "infraon", "--url", "https://x.example")
    code, _, err = run(capsys, "--home", str(tmp_path), "audit", "p")
    assert code == 2 and error_line(err) == "helpmig: the Infraon Desk connector is not built yet"


def test_audit_runs_stores_and_reports(capsys, tmp_path, monkeypatch):
    from connectors import registry

    monkeypatch.setitem(registry.PLATFORMS, "smartertrack", ("tests.support.handmade", "HandmadeSource", "SmarterTrack"))
    home = str(tmp_path / "h")
    run(capsys, "--home", home, "init", "p", "--source", "smartertrack", "--sqlite", str(tmp_path / "st.db"))
    code, out, err = run(capsys, "--home", home, "audit", "p", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {o["name"]: o["count"] for o in data["objects"]}["tickets"] == 4
    assert any(f["code"] == "contact.email_duplicate" and f["count"] == 2 for f in data["findings"])
    assert "audit: checking values in tickets" in err
    assert Path(data["reports"]["scope"]).is_file() and Path(data["reports"]["findings"]).is_file()
    code, out, _ = run(capsys, "--home", home, "status", "p", "--json")
    status = json.loads(out)
    assert status["stage"] == "audited" and status["findings"]["blocker"] == 1
    code, out, _ = run(capsys, "--home", home, "audit", "p")
    assert code == 0 and "Findings: 1 blockers" in out and "[warning]" in out


def test_sandbox_serves_intercom_over_http(tmp_path):
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "helpmig_tui", "--home", str(tmp_path), "sandbox", "--port", str(port), "--rate-limit", "50"],
        env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert "Intercom sandbox on http://127.0.0.1:" in server.stderr.readline()
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/me", headers={"Authorization": "Bearer t", "Intercom-Version": "2.16"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["type"] == "admin"
        assert answer.headers["X-RateLimit-Limit"] == "50"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_sandbox_refuses_a_fault_rate_over_one(capsys, tmp_path):
    code, _, err = run(capsys, "--home", str(tmp_path), "sandbox", "--faults", "1.5")
    assert code == 2 and "--faults" in err


def test_init_names_the_export_encoding_in_any_spelling(capsys, tmp_path):
    from helpmig_tui.project import open_project
    from helpmig_tui.settings import resolve_paths

    code, _, err = run(capsys, "--home", str(tmp_path), "init", "ru", "--source", "smart-export", "--folder", str(tmp_path),
                       "--encoding", "Windows-1251")
    assert code == 0, err
    with open_project(resolve_paths(tmp_path), "ru") as store:
        assert store.project().source_options["encoding"] == "cp1251"
    code, _, err = run(capsys, "--home", str(tmp_path), "init", "x", "--source", "smart-export", "--folder", str(tmp_path),
                       "--encoding", "klingon-8")
    assert code == 2 and "unknown encoding 'klingon-8'" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--home", str(tmp_path), "init", "y", "--source", "smart-export", "--folder", str(tmp_path),
                       "--encoding", "cp437")  # a real codec, but not one an export is written in
    assert code == 2 and "encoding" in err and "cp1251" in err and err.count("\n") == 1


@pytest.mark.parametrize(("kind", "options", "command"), [
    ("rollback", {"scope": "all"}, "rollback p --all"), ("rollback", {"scope": "sample"}, "rollback p --sample"),
    ("load", {"sample": 5}, "load p --sample 5"), ("delta", {}, "delta p"), ("load", {}, "load p"),
    ("sample", {"sample": 5, "test_contact": "qa@acme.example"}, "load p --sample 5 --test-contact qa@acme.example")])
def test_status_names_the_command_that_resumes_the_interrupted_run(kind, options, command, capsys, tmp_path):
    """An interrupted rollback is picked up by a rollback of its scope: `load` would start a load."""
    from helpmig_tui.project import open_project
    from helpmig_tui.settings import resolve_paths
    from helpmig_tui.state.models import Run

    home = str(tmp_path / "h")
    assert run(capsys, "--home", home, "init", "p", "--source", "smartertrack", "--sqlite", "x.db")[0] == 0
    with open_project(resolve_paths(Path(home)), "p") as store, store.session() as session:
        session.add(Run(kind=kind, status="paused", options=options))
    code, out, _ = run(capsys, "--home", home, "status", "p")
    assert code == 0 and f"resume it with `helpmig {command}`" in out, out


@pytest.mark.parametrize("contact", ["notanemail", "a@b", "me @x.example", "@x.example"])
def test_a_test_contact_that_is_no_email_is_refused_before_the_run(contact, capsys, tmp_path):
    home = str(tmp_path / "h")
    assert run(capsys, "--home", home, "init", "p", "--source", "smartertrack", "--sqlite", "x.db")[0] == 0
    code, out, err = run(capsys, "--home", home, "load", "p", "--sample", "2", "--test-contact", contact, "--yes")
    assert code == 2 and error_line(err) == f"helpmig: --test-contact takes an email address (got {contact!r})"


async def test_the_engine_refuses_a_test_contact_that_is_no_email(tmp_path):
    """The wizard's sample dialog goes through the same session: refused before anything is written."""
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.pipeline.session import LoadRefused
    from helpmig_tui.settings import resolve_paths

    demo = prepare_demo(resolve_paths(tmp_path), "smartertrack", 5)
    before = demo.sandbox.state.counts()
    with pytest.raises(LoadRefused, match="the test contact takes an email address"):
        async with demo.session() as session:
            await session.load(LoadOptions(sample=2, test_contact="notanemail", accept_gates=True))
    assert demo.sandbox.state.counts() == before


def test_a_project_file_damaged_inside_is_said_once(capsys, tmp_path):
    run(capsys, "--home", str(tmp_path), "init", "p", "--source", "smart-export", "--folder", str(tmp_path))
    state = tmp_path / "projects" / "p" / "state.sqlite"
    data = bytearray(state.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # its header kept, every page after it garbage
    state.write_bytes(bytes(data))
    code, _, err = run(capsys, "--home", str(tmp_path), "status", "p")
    line = error_line(err)
    assert code == 2 and line.count("is damaged") == 1 and "restore" in line, line


def test_an_audit_of_no_project_says_so(capsys, tmp_path):
    code, _, err = run(capsys, "--home", str(tmp_path), "audit", "nope")
    assert code == 2 and "nope" in error_line(err) and not (tmp_path / "projects" / "nope").exists()


def test_a_source_that_is_a_folder_is_called_one(capsys, tmp_path):
    code, out, _ = run(capsys, "--home", str(tmp_path / "h"), "init", "p", "--source", "smartertrack",
                       "--sqlite", str(tmp_path))
    assert code == 0 and "the source is a folder, not a SQLite file" in out
    code, _, err = run(capsys, "--home", str(tmp_path / "h"), "audit", "p")
    assert code == 2 and "is a folder, not a SQLite file" in error_line(err)


async def test_the_engine_refuses_a_stored_fallback_contact_that_is_no_email(tmp_path):
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.pipeline.prepare import Resolutions
    from helpmig_tui.pipeline.session import LoadRefused
    from helpmig_tui.project import open_project
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 5)
    with open_project(paths, demo.project) as store:  # as an older helpmig's Plan step let it be saved
        resolutions = Resolutions.load(store)
        resolutions.fallback_contact = "help@localhost"
        resolutions.save(store)
    with pytest.raises(LoadRefused, match="the fallback contact takes an email address"):
        async with demo.session() as session:
            await session.load(LoadOptions(accept_gates=True))
