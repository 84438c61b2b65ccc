"""The Windows bundle, built for real from the committed lock (needs the package
registry, so it is deselected by default; .ci/run runs it with `-m network`).

For win_amd64 and each supported Python: every locked pin that applies is in the zip as
a wheel Windows accepts (pyodbc, pydantic-core, SQLAlchemy and every other binary
one as cpXY-win_amd64), and an independent resolver (uv, told the target is Windows)
installs requirements.txt from the bundle's wheels alone to exactly the lock's set."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename

from helpmig_tui import __version__
from helpmig_tui.bundle import build_bundle, target_tags
from helpmig_tui.lockfile import LOCK_NAME, SUPPORTED_PYTHONS, WINDOWS, Target, read_lock

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
BINARY = ("pyodbc", "pydantic-core", "sqlalchemy")  # compiled code: one wheel per Python on Windows
WINDOWS_ONLY = ("tzdata", "pywin32-ctypes")  # pinned behind sys_platform == 'win32' markers


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("bundle")
    result = build_bundle(out, WINDOWS, list(SUPPORTED_PYTHONS))
    extracted = tmp_path_factory.mktemp("extracted")
    with zipfile.ZipFile(result.zip_path) as archive:
        archive.extractall(extracted)
    assert result.zip_path.name == f"helpmig-{__version__}-win_amd64.zip"
    return extracted / result.zip_path.stem, result.wheels


def _tags(name: str) -> frozenset[Tag]:
    return parse_wheel_filename(name)[3]


def test_every_wheel_is_for_windows_or_pure(bundle):
    _, wheels = bundle
    for name in wheels:
        platforms = {tag.platform for tag in _tags(name)}
        assert platforms <= {"any", "win_amd64"}, name


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_every_locked_pin_has_a_wheel_this_python_accepts(bundle, python):
    _, wheels = bundle
    target = Target(WINDOWS, python)
    accepted = set(target_tags(target))
    have: dict[str, list[str]] = {}
    for name in wheels:
        project, version, _, tags = parse_wheel_filename(name)
        if tags & accepted:
            have.setdefault(f"{project}=={version}", []).append(name)
    pins = read_lock(ROOT / LOCK_NAME).for_target(target)
    missing = [f"{pin.name}=={pin.version}" for pin in pins if f"{pin.name}=={pin.version}" not in have]
    assert missing == []
    names = {pin.name for pin in pins}
    assert set(WINDOWS_ONLY) <= names
    abi = f"cp{python.replace('.', '')}"
    for project in BINARY:
        pin = next(pin for pin in pins if pin.name == project)
        [wheel] = have[f"{project}=={pin.version}"]
        assert any(tag.platform == "win_amd64" and tag.interpreter == abi for tag in _tags(wheel)), wheel


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_an_independent_resolver_installs_it_offline_on_windows(bundle, python):
    folder, _ = bundle
    done = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "compile", "requirements.txt", "--offline", "--no-index",
         "--find-links", "wheels", "--python-platform", "x86_64-pc-windows-msvc", "--python-version", python,
         "--only-binary", ":all:", "--no-header", "--no-annotate", "--quiet"],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    resolved = {}
    for line in done.stdout.splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split(";")[0].strip().split("==")
            resolved[canonicalize_name(name)] = version
    pins = read_lock(ROOT / LOCK_NAME).for_target(Target(WINDOWS, python))
    assert resolved == {"helpmig": __version__, **{pin.name: pin.version for pin in pins}}
