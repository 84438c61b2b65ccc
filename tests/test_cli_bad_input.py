"""Bad input and machine conditions an operator walk met: each is refused up front with
one line on stderr and exit 2, and nothing is written (the project's files least of all)."""

from __future__ import annotations

import os
import socket
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import error_line, run

P = "p1"


@pytest.fixture
def home(tmp_path, capsys):
    """A home with one project (its source need not exist for these commands)."""
    home = tmp_path / "h"
    code, _, err = run(capsys, "--home", str(home), "init", P, "--source", "smartertrack", "--sqlite", "x.db")
    assert code == 0, err
    return home


def _refused(capsys, *argv: str) -> str:
    """The line of a command refused as bad input (after a warning that the log went elsewhere, if any)."""
    code, out, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert all(line.startswith("helpmig: ") for line in lines) and "unexpected" not in err, err
    assert len(lines) == 1 or (len(lines) == 2 and "cannot write the log" in lines[0]), err
    return lines[-1]


# -- report --bundle ------------------------------------------------------------------------------

def test_a_bundle_never_replaces_the_projects_state_file(home, capsys):
    state = home / "projects" / P / "state.sqlite"
    before = state.read_bytes()
    err = _refused(capsys, "--home", str(home), "report", P, "--bundle", str(state))
    assert "inside the project's own folder" in err
    assert state.read_bytes() == before
    err = _refused(capsys, "--home", str(home), "report", P, "--bundle", str(home / "projects" / P / "reports" / "b.zip"))
    assert "inside the project's own folder" in err


def test_a_bundle_replaces_only_an_earlier_bundle_of_the_project(home, tmp_path, capsys):
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    err = _refused(capsys, "--home", str(home), "report", P, "--bundle", str(other))
    assert "not an earlier evidence bundle" in err and other.read_text() == "keep me"
    out = tmp_path / "evidence.zip"
    assert run(capsys, "--home", str(home), "report", P, "--bundle", str(out))[0] == 0
    assert run(capsys, "--home", str(home), "report", P, "--bundle", str(out))[0] == 0  # its own: replaced


def test_a_bundle_given_a_folder_goes_into_it_under_its_default_name(home, tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    code, out, err = run(capsys, "--home", str(home), "report", P, "--bundle", str(folder))
    assert code == 0, err
    [written] = folder.glob(f"helpmig-evidence-{P}-*.zip")
    assert "manifest.json" in zipfile.ZipFile(written).namelist() and str(written) in out


def test_a_bundle_in_a_folder_that_cannot_be_written_is_bad_input(home, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = _refused(capsys, "--home", str(home), "report", P, "--bundle", str(blocker / "b.zip"))
    assert "is a file, not a folder" in err
    assert not (home / "projects" / P / "reports" / "summary.md").exists()  # refused before anything was written


# -- numbers argparse refuses before the command starts -------------------------------------------

@pytest.mark.parametrize(("argv", "said"), [
    (["validate", P, "--sample", "-3"], "--sample: at least 1 record per object, not -3"),
    (["load", P, "--sample", "0"], "--sample: at least 1 record per object, not 0"),
    (["validate", P, "--sample", "x"], "--sample: a whole number of records per object, not 'x'"),
    (["demo", "--headless", "--tickets", "-5"], "--tickets: from 1 to 200000 tickets, not -5"),
    (["demo", "--headless", "--tickets", "99999999999999999999"], "from 1 to 200000 tickets"),
    (["sandbox", "--port", "99999"], "--port: from 1 to 65535, not 99999"),
    (["sandbox", "--port", "-1"], "--port: from 1 to 65535, not -1"),
    (["sandbox", "--rate-limit", "-1"], "--rate-limit: at least 0 requests, not -1"),
    (["sandbox", "--workspace-rate-limit", "-10"], "--workspace-rate-limit: at least 0 requests, not -10"),
    (["sandbox", "--latency-ms", "-5"], "--latency-ms: at least 0 milliseconds, not -5"),
])
def test_numbers_out_of_range_are_refused_by_the_parser(argv, said, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        run(capsys, "--home", str(tmp_path / "h"), *argv)
    captured = capsys.readouterr()
    assert exc.value.code == 2 and said in captured.err, captured.err
    assert "sandbox on" not in captured.err and not captured.out and not (tmp_path / "h" / "projects").exists()


def test_a_sandbox_port_in_use_is_one_line(tmp_path, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        err = _refused(capsys, "--home", str(tmp_path), "sandbox", "--port", str(port))
    assert f"port {port} on 127.0.0.1 is in use" in err and "sandbox on" not in err


# -- the Intercom token --------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["connect", "plan"])
def test_a_token_of_blanks_is_named_empty(command, home, capsys, monkeypatch):
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", "  \t ")
    err = _refused(capsys, "--home", str(home), command, P)
    assert "the Intercom token is empty" in err and "HELPMIG_INTERCOM_TOKEN" in err


# -- the machine: home, project file --------------------------------------------------------------

def test_a_project_file_that_is_a_folder_is_named(tmp_path, capsys):
    (tmp_path / "projects" / "X" / "state.sqlite").mkdir(parents=True)
    err = _refused(capsys, "--home", str(tmp_path), "status", "X")
    assert f"the project file {tmp_path / 'projects' / 'X' / 'state.sqlite'} is a folder" in err
    code, out, _ = run(capsys, "--home", str(tmp_path), "projects")
    assert code == 0 and "is a folder" in out


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a folder no one can create in (Linux /proc)")
def test_a_home_that_cannot_be_created_is_a_known_condition(capsys):
    err = _refused(capsys, "--home", "/proc/helpmig-home", "init", P, "--source", "smartertrack", "--sqlite", "x.db")
    assert "the home /proc/helpmig-home cannot be created" in err


# -- what is read: option values, files -----------------------------------------------------------

@pytest.mark.skipif(os.name == "nt", reason="Windows names are UTF-16: no bytes to be undecodable")
def test_a_source_path_that_is_not_utf8_is_named_and_no_folder_is_left(tmp_path, capsys):
    latin1 = os.fsdecode(str(tmp_path).encode() + b"/lat1-\xe9t\xe9.db")  # what Python makes of such a name
    home = tmp_path / "h"
    err = _refused(capsys, "--home", str(home), "init", P, "--source", "smartertrack", "--sqlite", latin1)
    assert "lat1-\\xe9t\\xe9.db is not valid UTF-8" in err
    assert not (home / "projects").exists()


@pytest.mark.parametrize("name", ["comments.xlsx", "export.xlsx"])  # an object's own file; a workbook searched for sheets
def test_an_export_workbook_that_is_no_workbook_is_named(name, tmp_path, capsys):
    from connectors.samples.smart_export_sample import write_smart_export

    folder = tmp_path / "export"
    write_smart_export(folder, size=5, seed=1)
    (folder / "comments.csv").unlink()
    (folder / name).write_bytes(b"Ticket;Comment\n1;not a zip at all\n")
    home = str(tmp_path / "h")
    assert run(capsys, "--home", home, "init", P, "--source", "smart-export", "--folder", str(folder))[0] == 0
    err = _refused(capsys, "--home", home, "audit", P)
    assert f"{name} cannot be read as an Excel workbook" in err


@pytest.mark.parametrize("home", ["", "  "])
def test_an_empty_home_is_refused_not_replaced_by_the_default(home, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HELPMIG_HOME", str(tmp_path / "default"))  # where an empty --home used to land
    with pytest.raises(SystemExit) as exc:
        run(capsys, "--home", home, "init", "p", "--source", "smartertrack", "--sqlite", "x.db")
    assert exc.value.code == 2 and "--home: an empty name" in capsys.readouterr().err
    assert not (tmp_path / "default").exists()


@pytest.mark.skipif(os.name == "nt", reason="on Windows these are this machine's own paths")
@pytest.mark.parametrize("path", [r"C:\data\SmarterTrack.db", "d:/exports/st.db", r"\\helpdesk01\backups\st.db"])
def test_a_windows_path_on_another_system_is_named_as_one(path, capsys, tmp_path):
    code, _, err = run(capsys, "--home", str(tmp_path), "init", "p", "--source", "smartertrack", "--sqlite", path)
    assert code == 2 and "is a Windows path, and this machine is not Windows" in error_line(err)
    assert not (tmp_path / "projects" / "p").exists()
