"""A demo prepared once and copied for each test: `prepare_demo` (generate, audit, propose,
confirm, seed the sandbox) costs more than half a second; a copy of its home, reopened as
`helpmig demo` reopens a demo project (`reopen_demo`: its source and its sandbox's workspace
from the copied files), costs a few milliseconds and is the same project, the test's own."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpmig_tui.demo import Demo, prepare_demo, reopen_demo
from helpmig_tui.project import list_projects, open_project
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import Project


def demo_template(folder: Path, platform: str, tickets: int, **sandbox_options) -> Path:
    """A home holding one prepared demo project (closed), to copy from."""
    home = folder / "home"
    prepare_demo(resolve_paths(home), platform, tickets, **sandbox_options).close()
    return home


def copy_demo(template: Path, home: Path) -> Demo:
    """The template's demo in a home of its own: its files copied, the paths its project
    records (the generated source) pointed at the copies, then reopened."""
    shutil.copytree(template, home)
    paths = resolve_paths(home)
    (project,) = (p.name for p in list_projects(paths))
    with open_project(paths, project) as store, store.session() as session:
        row = session.get(Project, 1)
        row.source_options = {k: v.replace(str(template), str(home)) if isinstance(v, str) else v
                              for k, v in row.source_options.items()}
    demo = reopen_demo(paths, project)
    assert demo is not None, "the template is a demo project that can be reopened"
    return demo
