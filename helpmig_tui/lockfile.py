"""The lock file: every runtime dependency pinned, with hashes, for every platform.

`requirements.lock` at the source root is pip's requirements format with environment
markers (one universal resolution, made by `python tools/lock.py`), headed by a digest of
pyproject.toml's `[project].dependencies`. The offline bundle installs exactly these
pins; `lock_problems()` says when pyproject and the lock have drifted apart, so a new
dependency cannot ship without a new lock.

Markers are evaluated for a target described here, not for the machine building the
bundle: pip's `--platform` changes the wheel tags it accepts but still evaluates
`sys_platform == 'win32'` on the build machine, which would leave tzdata or
pywin32-ctypes out of a Windows bundle built on Linux.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK_NAME = "requirements.lock"
DIGEST_PREFIX = "# pyproject-dependencies: sha256:"
REGENERATE = "python tools/lock.py"
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
WINDOWS = "win_amd64"
CURRENT = "current"
_HASH = re.compile(r"--hash[= ](\w+:[0-9a-fA-F]+)")


class LockError(Exception):
    """The lock cannot be used as it is. `hint` says what to run."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Target:
    """A platform and a Python version the bundle installs on."""

    platform: str  # WINDOWS or CURRENT
    python: str  # "3.12"

    @property
    def windows(self) -> bool:
        return self.platform == WINDOWS

    @property
    def version(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)

    def __str__(self) -> str:
        return f"Python {self.python} on {self.platform}"

    def environment(self) -> dict[str, str]:
        """The values environment markers see on the target."""
        if self.windows:
            return {
                "implementation_name": "cpython",
                "implementation_version": f"{self.python}.0",
                "os_name": "nt",
                "platform_machine": "AMD64",
                "platform_python_implementation": "CPython",
                "platform_release": "",
                "platform_system": "Windows",
                "platform_version": "",
                "python_full_version": f"{self.python}.0",
                "python_version": self.python,
                "sys_platform": "win32",
            }
        env = dict(default_environment())
        if self.version != sys.version_info[:2]:
            env.update(python_version=self.python, python_full_version=f"{self.python}.0",
                       implementation_version=f"{self.python}.0")
        return env


def reference_targets() -> list[Target]:
    """Where the lock must hold: Windows and this machine, each supported Python."""
    return [Target(platform, python) for platform in (WINDOWS, CURRENT) for python in SUPPORTED_PYTHONS]


@dataclass(frozen=True)
class Pin:
    """One locked package: `name==version ; marker` and the hashes of its files."""

    name: str  # canonical
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]
    requirement: str  # as written in the lock, without hashes

    def applies(self, env: Mapping[str, str]) -> bool:
        return self.marker is None or self.marker.evaluate(dict(env))

    def line(self, *, marker: bool = True) -> str:
        """The pin as a requirements line pip checks with --require-hashes. Without its
        marker for downloads: pip would evaluate it on the build machine, not the target."""
        head = self.requirement if marker else f"{self.name}=={self.version}"
        return " ".join([head, *(f"--hash={h}" for h in self.hashes)])


@dataclass(frozen=True)
class Lock:
    pins: tuple[Pin, ...]
    digest: str  # of the dependencies it was made from; "" when the header is missing

    def for_target(self, target: Target) -> list[Pin]:
        env = target.environment()
        return [pin for pin in self.pins if pin.applies(env)]


def dependencies(pyproject: Path) -> list[Requirement]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [Requirement(text) for text in data["project"].get("dependencies", [])]


def dependencies_digest(pyproject: Path) -> str:
    """A digest of `[project].dependencies` that ignores order, spacing and comments."""
    canonical = sorted(str(req) for req in dependencies(pyproject))
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append((current + stripped).strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse_lock(text: str) -> Lock:
    digest = ""
    for raw in text.splitlines():
        if raw.startswith(DIGEST_PREFIX):
            digest = raw[len(DIGEST_PREFIX):].strip()
    pins = []
    for line in _logical_lines(text):
        hashes = tuple(_HASH.findall(line))
        spec = _HASH.sub("", line).strip()
        req = Requirement(spec)
        versions = [s.version for s in req.specifier if s.operator == "=="]
        if len(versions) != 1 or not hashes:
            raise LockError(f"the lock line {spec!r} is not pinned with == and hashes", hint=f"run {REGENERATE}")
        pins.append(Pin(canonicalize_name(req.name), versions[0], req.marker, hashes, spec))
    return Lock(tuple(pins), digest)


def read_lock(path: Path) -> Lock:
    try:
        return parse_lock(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockError(f"no lock file at {path}", hint=f"run {REGENERATE}") from None


def lock_problems(pyproject: Path, lock: Lock, targets: list[Target] | None = None) -> list[str]:
    """Where the lock and pyproject's dependencies disagree; [] when they agree."""
    problems = []
    if lock.digest != dependencies_digest(pyproject):
        problems.append(f"the lock was made from other dependencies than pyproject.toml's (run {REGENERATE})")
    for target in targets or reference_targets():
        env = target.environment()
        pinned = {pin.name: pin for pin in lock.for_target(target)}
        for req in dependencies(pyproject):
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            pin = pinned.get(canonicalize_name(req.name))
            if pin is None:
                problems.append(f"{req.name} is a dependency but is not in the lock for {target}")
            elif not req.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{req.name} is locked at {pin.version}, outside {req.specifier} ({target})")
    return sorted(set(problems), key=problems.index)
