"""Which connector serves which platform, imported only when used.

Importing a connector pulls its dependencies (pyodbc, openpyxl, httpx); the registry
keeps `helpmig` starting fast and working when an optional piece is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import Source, SourceError

# platform -> (module, class, human name)
PLATFORMS: dict[str, tuple[str, str, str]] = {
    "smartertrack": ("connectors.smartertrack", "SmarterTrackSource", "SmarterTrack"),
    "trackit": ("connectors.trackit", "TrackItSource", "Track-It!"),
    "itsm365": ("connectors.itsm365", "Itsm365Source", "ITSM 365"),
    "infraon": ("connectors.infraon", "InfraonSource", "Infraon Desk"),
    "smart-export": ("connectors.smart_export", "SmartExportSource", "SMART Service Desk"),
}

SecretLookup = Callable[[str], "str | None"]


def platform_label(platform: str) -> str:
    return PLATFORMS[platform][2] if platform in PLATFORMS else platform


def source_class(platform: str) -> type[Source]:
    """The Source subclass for a platform; a clear SourceError when it is not available."""
    if platform not in PLATFORMS:
        raise SourceError(
            f"unknown source platform {platform!r}",
            hint="choose one of: " + ", ".join(PLATFORMS),
            code="source.unknown_platform",
        )
    module_name, class_name, label = PLATFORMS[platform]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            raise SourceError(
                f"the {label} connector is not built yet",
                code="source.not_built",
            ) from exc
        raise SourceError(
            f"the {label} connector needs the Python package {exc.name!r}, which is not installed",
            hint=f"pip install {exc.name}",
            code="source.missing_dependency",
        ) from exc
    return getattr(module, class_name)


def open_source(platform: str, options: Mapping[str, Any], secret: SecretLookup) -> Source:
    """Build a connector from a project's recorded options and a secret lookup."""
    cls = source_class(platform)
    return cls.from_options(options, secret)  # type: ignore[attr-defined]
