"""The command line in tests: `run` calls it in process and returns what it printed;
`error_line` is an error's one line without the log's path it names (checked);
`serving` serves a demo's sandbox on loopback and records its URL in the project, as
`helpmig connect --intercom-url` does, so that commands (and child processes) reach it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.intercom.sandbox import running_server
from helpmig_tui.cli import main
from helpmig_tui.project import open_project
from helpmig_tui.state.models import Project


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


_LOG = re.compile(r"(?: \(log: (?P<alone>[^()]+)\)|; log: (?P<after>[^()]+)\))$")


def error_line(err: str) -> str:
    """The one line on stderr without its log's path, once the path is checked."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    found = _LOG.search(lines[0])
    assert found, f"the error does not name the log: {lines[0]}"
    assert Path(found["alone"] or found["after"]).is_file(), lines[0]
    return lines[0][:found.start()] + (")" if found["after"] else "")


@contextmanager
def serving(demo) -> Iterator[str]:
    """The sandbox's URL while it is served."""
    with running_server(demo.sandbox) as url:
        with open_project(demo.paths, demo.project) as store, store.session() as session:
            session.get(Project, 1).intercom_url = url
        yield url
