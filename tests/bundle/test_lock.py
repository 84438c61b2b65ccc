"""requirements.lock agrees with pyproject.toml's dependencies; a dependency added or
changed without regenerating the lock (python tools/lock.py) fails here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpmig_tui.lockfile import (
    CURRENT,
    DIGEST_PREFIX,
    LOCK_NAME,
    WINDOWS,
    LockError,
    Target,
    dependencies_digest,
    lock_problems,
    parse_lock,
    read_lock,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_lock_agrees_with_pyproject():
    assert lock_problems(ROOT / "pyproject.toml", read_lock(ROOT / LOCK_NAME)) == []


def test_every_pin_has_hashes_and_an_exact_version():
    lock = read_lock(ROOT / LOCK_NAME)
    assert lock.pins and all(pin.hashes and pin.version for pin in lock.pins)
    assert all(h.startswith("sha256:") for pin in lock.pins for h in pin.hashes)


@pytest.fixture
def pyproject(tmp_path) -> Path:
    path = tmp_path / "pyproject.toml"
    shutil.copy(ROOT / "pyproject.toml", path)
    return path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_new_dependency_without_a_new_lock_fails(pyproject):
    _edit(pyproject, '"packaging>=23",', '"packaging>=23",\n    "tabulate>=0.9",')
    problems = lock_problems(pyproject, read_lock(ROOT / LOCK_NAME))
    assert any("python tools/lock.py" in p for p in problems)
    assert any(p.startswith("tabulate is a dependency but is not in the lock") for p in problems)


def test_a_tightened_requirement_without_a_new_lock_fails(pyproject):
    _edit(pyproject, '"httpx>=0.28,<0.29"', '"httpx>=9"')
    problems = lock_problems(pyproject, read_lock(ROOT / LOCK_NAME))
    assert any(p.startswith("httpx is locked at") and ">=9" in p for p in problems)


def test_the_digest_ignores_order_spacing_and_comments(pyproject, tmp_path):
    before = dependencies_digest(pyproject)
    _edit(pyproject, '    # the wizard\n    "textual>=8.2,<9",', '    "textual >= 8.2, < 9",  # moved')
    assert dependencies_digest(pyproject) == before
    _edit(pyproject, '"pyodbc>=5.1"', '"pyodbc>=5.2"')
    assert dependencies_digest(pyproject) != before


LOCK = f"""\
{DIGEST_PREFIX}0
anyio==4.0 \\
    --hash=sha256:aa \\
    --hash=sha256:bb
    # via httpx
tzdata==2024.1 ; sys_platform == 'win32' \\
    --hash=sha256:cc
secretstorage==3.3 ; sys_platform == 'linux' --hash=sha256:dd
backports-tarfile==1.2 ; python_full_version < '3.12' --hash=sha256:ee
"""


def test_markers_are_read_for_the_target_not_the_build_machine():
    lock = parse_lock(LOCK)
    names = {target: {pin.name for pin in lock.for_target(target)}
             for target in (Target(WINDOWS, "3.11"), Target(WINDOWS, "3.13"))}
    assert names[Target(WINDOWS, "3.11")] == {"anyio", "tzdata", "backports-tarfile"}
    assert names[Target(WINDOWS, "3.13")] == {"anyio", "tzdata"}
    here = {pin.name for pin in lock.for_target(Target(CURRENT, "3.13"))}
    assert "tzdata" not in here and "anyio" in here


def test_a_pin_is_written_with_its_marker_for_installing_and_without_for_downloading():
    tzdata = next(pin for pin in parse_lock(LOCK).pins if pin.name == "tzdata")
    assert tzdata.line() == "tzdata==2024.1 ; sys_platform == 'win32' --hash=sha256:cc"
    assert tzdata.line(marker=False) == "tzdata==2024.1 --hash=sha256:cc"


@pytest.mark.parametrize("line", ["anyio>=4.0 --hash=sha256:aa", "anyio==4.0"])
def test_unpinned_or_unhashed_lines_are_refused(line):
    with pytest.raises(LockError, match="not pinned with == and hashes"):
        parse_lock(line + "\n")


def test_a_missing_lock_says_how_to_make_one(tmp_path):
    with pytest.raises(LockError) as caught:
        read_lock(tmp_path / LOCK_NAME)
    assert caught.value.hint == "run python tools/lock.py"
