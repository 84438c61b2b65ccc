"""Connector options described as data, so the wizard can build a connection form.

Each connector lists its `OptionField`s in a class attribute `option_fields`. Plain
options are recorded in the project; a field with `secret=True` is never recorded:
its `name` is the name the connector passes to the secret lookup.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.base import SourceError


class OptionKind(enum.StrEnum):
    TEXT = "text"
    URL = "url"
    PATH = "path"  # a folder or file on this machine
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"  # one of `choices`
    TIME_ZONE = "time_zone"  # an IANA name, e.g. Europe/Moscow
    JSON = "json"  # a nested dict (layouts), edited as JSON/TOML by the wizard
    SECRET = "secret"  # typed in or read from the keyring; never stored in the project


@dataclass(frozen=True)
class OptionField:
    """One field of a connector's connection form."""

    name: str
    label: str
    kind: OptionKind = OptionKind.TEXT
    required: bool = False
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    advanced: bool = False  # folded away in the wizard unless asked for

    @property
    def secret(self) -> bool:
        return self.kind is OptionKind.SECRET


def plain_fields(fields: Sequence[OptionField]) -> tuple[OptionField, ...]:
    return tuple(f for f in fields if not f.secret)


def secret_names(fields: Sequence[OptionField]) -> tuple[str, ...]:
    return tuple(f.name for f in fields if f.secret)


def resolve_options(platform: str, fields: Sequence[OptionField], options: Mapping[str, Any]) -> dict[str, Any]:
    """Options with defaults filled in; unknown, misplaced-secret or missing keys are a SourceError."""
    known = {f.name: f for f in plain_fields(fields)}
    secrets = set(secret_names(fields))
    misplaced = sorted(set(options) & secrets)
    if misplaced:
        raise SourceError(
            f"{platform}: {', '.join(misplaced)} is a secret and cannot be a recorded option",
            hint="give it through the secret store, the environment or the prompt",
            code="source.bad_options",
        )
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise SourceError(
            f"{platform}: unknown option(s) {', '.join(unknown)}",
            hint="known options: " + ", ".join(known),
            code="source.bad_options",
        )
    resolved: dict[str, Any] = {}
    for name, spec in known.items():
        value = options.get(name, spec.default)
        if spec.required and (value is None or value == ""):
            raise SourceError(f"{platform}: option {name!r} ({spec.label}) is required", code="source.bad_options")
        if value is not None and spec.kind is OptionKind.CHOICE and value not in spec.choices:
            raise SourceError(
                f"{platform}: option {name!r} must be one of {', '.join(spec.choices)}, not {value!r}",
                code="source.bad_options",
            )
        if value is not None and spec.kind is OptionKind.INTEGER:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise SourceError(f"{platform}: option {name!r} must be a whole number", code="source.bad_options") from None
        if spec.kind is OptionKind.BOOLEAN and isinstance(value, str):
            value = value.strip().lower() in {"1", "true", "yes", "on"}
        if spec.kind is OptionKind.JSON and value is not None and not isinstance(value, Mapping):
            raise SourceError(f"{platform}: option {name!r} must be a mapping", code="source.bad_options")
        resolved[name] = value
    return resolved
