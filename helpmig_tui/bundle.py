"""The offline install bundle (`helpmig bundle`): everything a server without internet
needs to install helpmig into a virtual environment beside the bundle.

Built on any machine that reaches the package registry, from a source checkout:
helpmig's own wheel, every dependency's wheel for the target platform and each Python
version (exactly the lock's pins, their hashes checked on download and again on
install), the install and launch scripts (`install.cmd`/`helpmig.cmd` for Windows,
`install.sh`/`helpmig.sh` for the machine it runs on), a short README and a
requirements.txt with the hashes, zipped as `helpmig-<version>-<platform>.zip`.

Before zipping, the wheelhouse is checked for each target as an installer would see
it: every requirement of every wheel (markers evaluated for the target) is met by a
wheel whose tags the target accepts, so a bundle that would fail on the server fails
here instead.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from assets import asset
from helpmig_tui import __version__
from helpmig_tui.lockfile import (
    CURRENT,
    LOCK_NAME,
    SUPPORTED_PYTHONS,
    WINDOWS,
    Lock,
    LockError,
    Pin,
    Target,
    lock_problems,
    read_lock,
)

PLATFORMS = (WINDOWS, CURRENT)
WINDOWS_FILES = ("install.cmd", "helpmig.cmd", "README-windows.txt")
POSIX_FILES = ("install.sh", "helpmig.sh", "README-posix.txt")
EXECUTABLE = 0o755


class BundleError(LockError):
    """The bundle cannot be built; the message says why, `hint` what to do."""


Download = Callable[[Path, Path, Target], None]  # (requirements file, wheel dir, target)
BuildWheel = Callable[[Path, Path], Path]  # (source root, wheel dir) -> helpmig's wheel


@dataclass
class BundleResult:
    zip_path: Path
    platform: str  # the platform tag in the name: win_amd64, linux_x86_64, ...
    pythons: list[str]
    wheels: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.zip_path.stat().st_size


def platform_tag(platform: str) -> str:
    """The name a bundle's platform has in its file name."""
    if platform == WINDOWS:
        return WINDOWS
    return re.sub(r"[^A-Za-z0-9]+", "_", sysconfig.get_platform())


def parse_pythons(text: str | None, platform: str) -> list[str]:
    """`3.11,3.12` -> ["3.11", "3.12"]; by default every supported one for Windows and the
    running Python for this machine."""
    if not text:
        return list(SUPPORTED_PYTHONS) if platform == WINDOWS else [f"{sys.version_info[0]}.{sys.version_info[1]}"]
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [p for p in chosen if p not in SUPPORTED_PYTHONS]
    if unknown or not chosen:
        raise BundleError(f"unsupported Python version {', '.join(unknown) or repr(text)}",
                          hint=f"choose from {', '.join(SUPPORTED_PYTHONS)}")
    return sorted(set(chosen), key=chosen.index)


def target_tags(target: Target) -> list[Tag]:
    """The wheel tags an installer on the target accepts, best first."""
    version = target.version
    platforms = [WINDOWS] if target.windows else None  # None: this machine's own platform tags
    interpreter = f"cp{version[0]}{version[1]}"
    return [*cpython_tags(version, platforms=platforms), *compatible_tags(version, interpreter, platforms)]


def pip_target_args(target: Target) -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", target.python]
    if target.windows:
        args += ["--platform", WINDOWS]
    return args


def _pip(args: list[str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join(line for line in done.stderr.strip().splitlines()[-3:] if line.strip())
        raise BundleError(f"{what} failed: {tail or 'pip exited with ' + str(done.returncode)}",
                          hint="the bundle is built where the package registry is reachable")


def pip_download(requirements: Path, dest: Path, target: Target) -> None:
    """Download exactly the pinned wheels for `target`, checking their hashes."""
    _pip(["download", "--quiet", "--disable-pip-version-check", "--no-deps", "--require-hashes",
          "--dest", str(dest), "-r", str(requirements), *pip_target_args(target)], f"downloading wheels for {target}")


def pip_wheel(root: Path, dest: Path) -> Path:
    """Build helpmig's own wheel from the source checkout."""
    before = set(dest.glob("helpmig-*.whl"))
    _pip(["wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "--wheel-dir", str(dest), str(root)],
         "building helpmig's wheel")
    built = sorted(set(dest.glob("helpmig-*.whl")) - before) or sorted(dest.glob(f"helpmig-{__version__}-*.whl"))
    if not built:
        raise BundleError("pip built no helpmig wheel")
    return built[-1]


def source_root() -> Path:
    """The source checkout helpmig runs from; the bundle is built from there."""
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or 'name = "helpmig"' not in pyproject.read_text(encoding="utf-8"):
        raise BundleError("helpmig bundle runs from a source checkout of helpmig (pyproject.toml not found)",
                          hint="clone the repository, pip install -e . there, then run helpmig bundle")
    return root


# -- checking the wheelhouse --------------------------------------------------------------


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: str
    tags: frozenset[Tag]

    @classmethod
    def of(cls, path: Path) -> Wheel:
        name, version, _, tags = parse_wheel_filename(path.name)
        return cls(path, name, str(version), frozenset(tags))

    def metadata(self) -> tuple[list[Requirement], SpecifierSet]:
        """(Requires-Dist, Requires-Python) from the wheel's METADATA."""
        with zipfile.ZipFile(self.path) as archive:
            member = next(n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
            headers = HeaderParser().parsestr(archive.read(member).decode("utf-8"))
        requires = [Requirement(text) for text in headers.get_all("Requires-Dist") or []]
        return requires, SpecifierSet(headers.get("Requires-Python") or "")


def _pick(wheels: Iterable[Wheel], target: Target) -> dict[str, Wheel]:
    """Per project, the wheel an installer on `target` would choose (best tag first)."""
    rank = {tag: n for n, tag in enumerate(target_tags(target))}
    best: dict[str, tuple[int, Wheel]] = {}
    for wheel in wheels:
        score = min((rank[tag] for tag in wheel.tags if tag in rank), default=None)
        if score is not None and (wheel.name not in best or score < best[wheel.name][0]):
            best[wheel.name] = (score, wheel)
    return {name: wheel for name, (_, wheel) in best.items()}


def closure_problems(wheel_dir: Path, root_name: str, target: Target) -> list[str]:
    """What an offline install of `root_name` on `target` would miss; [] when nothing."""
    chosen = _pick([Wheel.of(p) for p in wheel_dir.glob("*.whl")], target)
    env = target.environment()
    problems: list[str] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str], str]] = [(canonicalize_name(root_name), frozenset(), "the bundle")]
    while todo:
        name, extras, wanted_by = todo.pop()
        wheel = chosen.get(name)
        if wheel is None:
            problems.append(f"{name} (needed by {wanted_by}) has no wheel for {target}")
            continue
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        requires, python = wheel.metadata()
        if not python.contains(f"{target.python}.0", prereleases=True):
            problems.append(f"{wheel.path.name} needs Python {python}, not {target.python}")
        for req in requires:
            if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": extra}) for extra in (extras or {""})
            ):
                continue
            dep = canonicalize_name(req.name)
            found = chosen.get(dep)
            if found is not None and not req.specifier.contains(found.version, prereleases=True):
                problems.append(f"{name} needs {req.name}{req.specifier}, the bundle has {found.version} ({target})")
                continue
            todo.append((dep, frozenset(req.extras), f"{name} {wheel.version}"))
    return sorted(set(problems))


# -- the files beside the wheels ----------------------------------------------------------


def render(template: str, values: dict[str, str]) -> str:
    """Fill `{{name}}` placeholders; an unknown name is an error, not a blank."""

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\{\{(\w+)\}\}", fill, template)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_requirements(pins: Iterable[Pin], own_wheel: Path) -> str:
    """requirements.txt for the installer: helpmig's wheel and the pins, all with hashes;
    markers stay, so the installing Python decides what applies to it."""
    lines = [
        "# Installed by install.cmd / install.sh with --no-index --require-hashes: every file is checked.",
        f"helpmig=={Wheel.of(own_wheel).version} --hash=sha256:{_sha256(own_wheel)}",
        *(pin.line() for pin in pins),
    ]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str, *, windows: bool) -> None:
    path.write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n" if windows else "\n").encode("utf-8"))


def write_scripts(folder: Path, platform: str, pythons: list[str], tag: str) -> list[Path]:
    """install/launch scripts and README from assets/bundle, for `platform`."""
    windows = platform == WINDOWS
    newest_first = sorted(pythons, key=lambda v: Target(platform, v).version, reverse=True)
    values = {
        "version": __version__,
        "platform": tag,
        "pythons": ", ".join(reversed(newest_first)),
        "pythons_newest_first": " ".join(newest_first),
        "python_tuples": ", ".join(f"({v.replace('.', ', ')})" for v in newest_first),
    }
    written = []
    for name in WINDOWS_FILES if windows else POSIX_FILES:
        text = render(asset("bundle", name).read_text(encoding="utf-8"), values)
        out = folder / ("README.txt" if name.startswith("README") else name)
        _write(out, text, windows=windows)
        written.append(out)
    return written


def _zip(folder: Path, zip_path: Path) -> None:
    """The folder as one top-level directory in the zip; scripts keep their executable bit."""
    tmp = zip_path.with_name(zip_path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_dir():
                continue
            info = zipfile.ZipInfo.from_file(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
            mode = EXECUTABLE if path.suffix == ".sh" else 0o644
            info.external_attr = (0o100000 | mode) << 16
            with path.open("rb") as handle:
                archive.writestr(info, handle.read())
    tmp.replace(zip_path)


# -- building ------------------------------------------------------------------------------


def build_bundle(
    out: Path,
    platform: str = WINDOWS,
    pythons: list[str] | None = None,
    *,
    root: Path | None = None,
    lock: Lock | None = None,
    download: Download = pip_download,
    build_wheel: BuildWheel = pip_wheel,
    progress: Callable[[str], None] = lambda _line: None,
) -> BundleResult:
    """Build `out/helpmig-<version>-<platform>.zip`; raises BundleError with the reason."""
    if platform not in PLATFORMS:
        raise BundleError(f"unknown platform {platform!r}", hint=f"choose {' or '.join(PLATFORMS)}")
    pythons = pythons or parse_pythons(None, platform)
    root = root or source_root()
    if lock is None:
        lock = read_lock(root / LOCK_NAME)
    targets = [Target(platform, python) for python in pythons]
    stale = lock_problems(root / "pyproject.toml", lock, targets)
    if stale:
        raise BundleError("the lock does not match pyproject.toml: " + "; ".join(stale[:3]),
                          hint="run python tools/lock.py and commit requirements.lock")
    tag = platform_tag(platform)
    name = f"helpmig-{__version__}-{tag}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helpmig-bundle-") as tmp:
        folder = Path(tmp) / name
        wheels = folder / "wheels"
        wheels.mkdir(parents=True)
        progress("building helpmig's wheel")
        own = build_wheel(root, wheels)
        needed: dict[str, Pin] = {}
        for target in targets:
            pins = lock.for_target(target)
            needed.update((pin.requirement, pin) for pin in pins)
            requirements = Path(tmp) / f"pins-{target.python}.txt"
            requirements.write_text("\n".join(pin.line(marker=False) for pin in pins) + "\n", encoding="utf-8")
            progress(f"downloading {len(pins)} wheels for {target}")
            download(requirements, wheels, target)
        problems = [p for target in targets for p in closure_problems(wheels, "helpmig", target)]
        if problems:
            raise BundleError("the bundle would not install offline: " + "; ".join(problems[:5]),
                              hint="regenerate the lock (python tools/lock.py) or drop that Python version")
        ordered = sorted(needed.values(), key=lambda pin: pin.name)
        _write(folder / "requirements.txt", install_requirements(ordered, own), windows=platform == WINDOWS)
        write_scripts(folder, platform, pythons, tag)
        wheel_names = sorted(p.name for p in wheels.glob("*.whl"))
        zip_path = out / f"{name}.zip"
        progress(f"writing {zip_path}")
        _zip(folder, zip_path)
    return BundleResult(zip_path=zip_path, platform=tag, pythons=pythons, wheels=wheel_names)
