"""`helpmig bundle` without a registry: a synthetic project and a local 'registry' of
small real wheels stand in for pip, so the layout, the scripts, the hashes and the
offline-install check are tested on every run (the real downloads: test_windows_bundle.py
and .ci/run)."""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from helpmig_tui import __version__
from helpmig_tui.bundle import BundleError, build_bundle, closure_problems, parse_pythons, platform_tag
from helpmig_tui.cli import main
from helpmig_tui.lockfile import CURRENT, DIGEST_PREFIX, LOCK_NAME, WINDOWS, Target, dependencies_digest
from tests.bundle.wheels import make_wheel, sha256

PYPROJECT = """\
[project]
name = "helpmig"
dependencies = ["alpha>=1", "beta[fast]>=2", "tzdata; sys_platform == 'win32'"]
"""


class Registry:
    """Wheels by file name; `download` copies what a pinned requirements file names for a target."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.asked: list[tuple[str, list[str]]] = []
        self.withhold: set[str] = set()

    def download(self, requirements: Path, dest: Path, target: Target) -> None:
        names = [line.split("==")[0] for line in requirements.read_text().splitlines() if line]
        self.asked.append((target.python, names))
        assert all(";" not in line for line in requirements.read_text().splitlines())  # no build-machine markers
        for wheel in self.folder.glob("*.whl"):
            project = wheel.name.split("-")[0].replace("_", "-")
            if project in names and project not in self.withhold:
                tag = wheel.name.rsplit("-", 3)[-3:]
                if target.windows and "win_amd64" not in tag[-1] and tag[-1] != "any.whl":
                    continue
                shutil.copy(wheel, dest / wheel.name)


@pytest.fixture
def project(tmp_path):
    """A source root with pyproject, a matching lock, helpmig's wheel and a registry."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    registry = Registry(tmp_path / "registry")
    registry.folder.mkdir()
    wheels = [
        make_wheel(registry.folder, "alpha", "1.5", requires=("gamma; sys_platform == 'win32'",)),
        make_wheel(registry.folder, "beta", "2.0", requires=("delta>=1; extra == 'fast'",)),
        make_wheel(registry.folder, "delta", "1.1"),
        make_wheel(registry.folder, "gamma", "3.0"),
        make_wheel(registry.folder, "tzdata", "2024.1"),
        *(make_wheel(registry.folder, "native", "1.0", f"cp3{m}-cp3{m}-win_amd64") for m in (11, 12, 13)),
    ]
    hashes = {w.name.split("-")[0]: sha256(w) for w in wheels}
    lock = [
        f"{DIGEST_PREFIX}{dependencies_digest(root / 'pyproject.toml')}",
        f"alpha==1.5 --hash={hashes['alpha']}",
        f"beta==2.0 --hash={hashes['beta']}",
        f"delta==1.1 --hash={hashes['delta']}",
        f"gamma==3.0 ; sys_platform == 'win32' --hash={hashes['gamma']}",
        f"tzdata==2024.1 ; sys_platform == 'win32' --hash={hashes['tzdata']}",
    ]
    (root / LOCK_NAME).write_text("\n".join(lock) + "\n", encoding="utf-8")
    own = make_wheel(tmp_path, "helpmig", __version__,
                     requires=("alpha>=1", "beta[fast]>=2", "tzdata; sys_platform == 'win32'"))

    def build_wheel(_root: Path, dest: Path) -> Path:
        return Path(shutil.copy(own, dest / own.name))

    return root, registry, build_wheel, own


def _build(project, out: Path, platform: str, pythons: list[str]):
    root, registry, build_wheel, _ = project
    return build_bundle(out, platform, pythons, root=root, download=registry.download, build_wheel=build_wheel)


def _members(zip_path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(zip_path) as archive:
        return {info.filename: info for info in archive.infolist()}


def test_the_windows_bundle_layout(project, tmp_path):
    result = _build(project, tmp_path / "out", WINDOWS, ["3.11", "3.12", "3.13"])
    top = f"helpmig-{__version__}-win_amd64"
    assert result.zip_path == tmp_path / "out" / f"{top}.zip"
    members = _members(result.zip_path)
    assert {name.split("/", 1)[0] for name in members} == {top}
    assert {f"{top}/{n}" for n in ("install.cmd", "helpmig.cmd", "README.txt", "requirements.txt")} <= set(members)
    wheels = sorted(name.rsplit("/", 1)[1] for name in members if name.endswith(".whl"))
    assert wheels == sorted(result.wheels)
    assert {"gamma-3.0-py3-none-any.whl", "tzdata-2024.1-py3-none-any.whl"} <= set(wheels)  # Windows-only pins
    with zipfile.ZipFile(result.zip_path) as archive:
        for name in ("install.cmd", "helpmig.cmd", "README.txt", "requirements.txt"):
            data = archive.read(f"{top}/{name}")
            assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), name  # CRLF for cmd.exe
            assert b"{{" not in data, name
        install = archive.read(f"{top}/install.cmd").decode()
        requirements = archive.read(f"{top}/requirements.txt").decode()
        own = archive.read(f"{top}/wheels/helpmig-{__version__}-py3-none-any.whl")
    assert "for %%V in (3.13 3.12 3.11) do" in install and "(3, 13), (3, 12), (3, 11)" in install
    assert '-m venv "%HERE%venv"' in install and "--no-index" in install and "--require-hashes" in install
    assert 'set "PIP_CONFIG_FILE=nul"' in install and "--isolated" in install
    lines = requirements.splitlines()
    assert f"helpmig=={__version__} --hash=sha256:{hashlib.sha256(own).hexdigest()}" in lines
    assert any(line.startswith("tzdata==2024.1 ; sys_platform == 'win32' --hash=") for line in lines)


def test_each_python_gets_its_downloads(project, tmp_path):
    _, registry, _, _ = project
    _build(project, tmp_path / "out", WINDOWS, ["3.11", "3.13"])
    assert [python for python, _ in registry.asked] == ["3.11", "3.13"]
    assert all("tzdata" in names and "gamma" in names for _, names in registry.asked)


def test_the_current_platform_bundle_has_shell_scripts(project, tmp_path):
    result = _build(project, tmp_path / "out", CURRENT, ["3.12"])
    top = f"helpmig-{__version__}-{platform_tag(CURRENT)}"
    members = _members(result.zip_path)
    for name in ("install.sh", "helpmig.sh"):
        info = members[f"{top}/{name}"]
        assert stat.S_IMODE(info.external_attr >> 16) == 0o755
    with zipfile.ZipFile(result.zip_path) as archive:
        install = archive.read(f"{top}/install.sh").decode()
        requirements = archive.read(f"{top}/requirements.txt").decode()
    assert "\r" not in install and "for version in 3.12;" in install and '"$here/venv"' in install
    assert "PIP_CONFIG_FILE=/dev/null" in install and "--no-index" in install
    assert "tzdata" not in requirements and "gamma" not in requirements  # Windows-only pins left out
    assert not any(name.endswith("install.cmd") for name in members)


def test_a_wheel_missing_for_one_target_stops_the_build(project, tmp_path):
    _, registry, _, _ = project
    registry.withhold.add("delta")
    with pytest.raises(BundleError, match="delta .needed by beta 2.0. has no wheel for Python 3.12 on win_amd64"):
        _build(project, tmp_path / "out", WINDOWS, ["3.12"])
    assert not (tmp_path / "out" / f"helpmig-{__version__}-win_amd64.zip").exists()


def test_a_stale_lock_stops_the_build(project, tmp_path):
    root = project[0]
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('"alpha>=1"', '"alpha>=1", "omega"'))
    with pytest.raises(BundleError, match="lock does not match pyproject.toml") as caught:
        _build(project, tmp_path / "out", WINDOWS, ["3.12"])
    assert "tools/lock.py" in caught.value.hint


def test_closure_checks_tags_versions_extras_and_python(tmp_path):
    make_wheel(tmp_path, "helpmig", "1.0", requires=("alpha>=2", "beta[x]", "native"))
    make_wheel(tmp_path, "alpha", "1.0")  # too old for alpha>=2
    make_wheel(tmp_path, "beta", "1.0", requires=("gamma; extra == 'x'",), requires_python=">=3.12")
    make_wheel(tmp_path, "native", "1.0", "cp312-cp312-win_amd64")
    problems = closure_problems(tmp_path, "helpmig", Target(WINDOWS, "3.11"))
    assert "helpmig needs alpha>=2, the bundle has 1.0 (Python 3.11 on win_amd64)" in problems
    assert "beta-1.0-py3-none-any.whl needs Python >=3.12, not 3.11" in problems
    assert "gamma (needed by beta 1.0) has no wheel for Python 3.11 on win_amd64" in problems
    assert "native (needed by helpmig 1.0) has no wheel for Python 3.11 on win_amd64" in problems
    make_wheel(tmp_path, "alpha", "2.0")
    make_wheel(tmp_path, "gamma", "1.0")
    assert closure_problems(tmp_path, "helpmig", Target(WINDOWS, "3.12")) == []


def test_python_versions():
    assert parse_pythons(None, WINDOWS) == ["3.11", "3.12", "3.13"]
    assert parse_pythons("3.13, 3.11", WINDOWS) == ["3.13", "3.11"]
    with pytest.raises(BundleError, match="unsupported Python version 3.10"):
        parse_pythons("3.10,3.12", WINDOWS)


def test_the_command_reports_a_failure_in_one_line(tmp_path, capsys):
    assert main(["bundle", "--out", str(tmp_path), "--python", "2.7"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("helpmig: unsupported Python version 2.7") and "\n" not in err


def test_an_installed_copy_says_the_bundle_needs_a_source_checkout(tmp_path, monkeypatch):
    from helpmig_tui import bundle

    installed = tmp_path / "venv" / "lib" / "site-packages" / "helpmig_tui"
    installed.mkdir(parents=True)
    monkeypatch.setattr(bundle, "__file__", str(installed / "bundle.py"))
    with pytest.raises(BundleError, match="runs from a source checkout") as caught:
        bundle.source_root()
    assert "pip install -e ." in caught.value.hint
