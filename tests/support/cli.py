"""The command line in tests: `run` calls it in process and returns what it printed;
`serving` serves a demo's sandbox on loopback and records its URL in the project, as
`helpmig connect --intercom-url` does, so that commands (and child processes) reach it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from connectors.intercom.sandbox import running_server
from helpmig_tui.cli import main
from helpmig_tui.project import open_project
from helpmig_tui.state.models import Project


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def serving(demo) -> Iterator[str]:
    """The sandbox's URL while it is served."""
    with running_server(demo.sandbox) as url:
        with open_project(demo.paths, demo.project) as store, store.session() as session:
            session.get(Project, 1).intercom_url = url
        yield url
