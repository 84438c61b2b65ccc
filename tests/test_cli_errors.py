"""Every error the command line says names the log, and with --json it is also the JSON
on stdout, where a script reads the result."""

from __future__ import annotations

import json
from pathlib import Path

from helpmig_tui import cli
from tests.support.cli import error_line, run


def test_bad_input_names_the_log_and_with_json_is_json(capsys, tmp_path):
    code, out, err = run(capsys, "--home", str(tmp_path), "status", "nope")
    assert code == 2 and out == "" and error_line(err).startswith("helpmig: ")
    code, out, err = run(capsys, "--home", str(tmp_path), "--json", "status", "nope")
    said = json.loads(out)
    assert code == 2 and said["exit_code"] == 2 and said["error"] in err and Path(said["log"]).is_file()
    assert said["log"] in err


def test_an_unexpected_error_names_the_log_which_holds_its_traceback(capsys, tmp_path, monkeypatch):
    def broken(_args):
        raise RuntimeError("the disk spoke in tongues")

    monkeypatch.setattr(cli, "cmd_projects", broken)
    code, out, err = run(capsys, "--home", str(tmp_path), "--json", "projects")
    line = error_line(err)
    assert code == 1 and line == ("helpmig: unexpected error: RuntimeError: the disk spoke in tongues "
                                  "(the details are in the log)")
    said = json.loads(out)
    assert said["exit_code"] == 1 and "Traceback" in Path(said["log"]).read_text()
    assert "Traceback" not in err


def test_a_command_after_a_failed_one_in_the_same_process_starts_afresh(capsys, tmp_path):
    run(capsys, "--home", str(tmp_path), "--json", "status", "nope")
    code, out, err = run(capsys, "--home", str(tmp_path), "projects")
    assert code == 0 and err == "" and "No projects yet" in out
