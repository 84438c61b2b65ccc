"""One run per project at a time: while a load of a project runs in another process, every
command that writes to Intercom or to the journal is refused in one line that names the
running command and its pid (the issue's case: a rollback during a load)."""

from __future__ import annotations

import json
import signal

import pytest

from connectors.intercom.sandbox import DEFAULT_TOKEN
from helpmig_tui.cli import main
from helpmig_tui.pipeline.runlock import RunLock
from tests.test_cli_stops import Loader, slow_intercom, slow_template  # noqa: F401 - the fixtures

WRITERS = [
    ("rollback", "--all", "--yes"),
    ("load", "--yes"),
    ("load", "--sample", "2", "--yes"),
    ("delta",),
    ("validate",),
    ("map", "--confirm", "all"),
    ("map", "--propose"),
    ("plan", "--fallback-contact", "help@example.com"),
    ("audit",),  # its findings are what the load's verdicts foresee
]


def test_every_writer_is_refused_while_a_load_runs_elsewhere(slow_intercom, capsys, monkeypatch):  # noqa: F811
    paths, demo = slow_intercom
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    loader = Loader(paths, demo.project)
    try:
        assert loader.started.wait(120), "the load never reached Intercom"
        pid = loader.process.pid
        for command, *options in WRITERS:
            code = main(["--home", str(paths.home), command, demo.project, *options])
            err = capsys.readouterr().err
            assert code == 2, (command, err)
            assert f"project {demo.project} is busy: `helpmig load` is running (pid {pid}, since" in err, err
            said = [line for line in err.splitlines() if "(still working" not in line]  # a heartbeat on a slow machine
            assert len(said) == 1, err
        assert main(["--home", str(paths.home), "status", demo.project, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["running"] == {"command": "load", "pid": pid}
        assert loader.process.poll() is None  # the load was left alone
    finally:
        loader.process.send_signal(signal.SIGTERM)
        code, err = loader.finish()
    assert code == 143 and "stopped safely" in err
    assert "failed" not in err.lower()


@pytest.mark.parametrize("holder", ["rollback", "validate", "map"])
def test_a_load_waits_for_no_one_it_is_refused(holder, slow_intercom, capsys, monkeypatch):  # noqa: F811
    """Any writer holding the project refuses the others, in this process as in another."""
    paths, demo = slow_intercom
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    with RunLock(paths.project_dir(demo.project), holder):
        code = main(["--home", str(paths.home), "load", demo.project, "--yes"])
    err = capsys.readouterr().err
    assert code == 2 and f"`helpmig {holder}` is running" in err
    assert demo.sandbox.state.counts()["contacts"] == 0  # nothing was sent
