"""The default object and field maps per platform (assets/maps/<platform>.toml).

They encode the seeds' "Object mapping" tables with the connectors' real object and field
names. A source object finds its default entry by name, by alias, and failing that by
role when the platform has exactly one entry of that role; a field by name or alias.
Names compare without case, underscores or spacing (DateOpenedUtc = date_opened_utc).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assets import asset
from connectors.base import ObjectRole
from helpmig_tui.mapping.model import (
    AttributeTarget,
    AttributeType,
    ColumnTarget,
    FieldTarget,
    NoteTarget,
    ObjectOptions,
    SkipTarget,
    StandardTarget,
    TagTarget,
)
from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.transforms import Transform

PLATFORMS = ("smartertrack", "trackit", "itsm365", "infraon", "smart-export")
ValueFamily = Literal["state", "priority"]


class DefaultMapError(Exception):
    """A default map file is missing or malformed (a packaging or editing mistake)."""


def norm(name: str) -> str:
    return "".join(words(name))


class DefaultField(BaseModel):
    """One field entry: exactly one target key, optional value map and transforms."""

    model_config = ConfigDict(extra="forbid")

    standard: str | None = None
    refers_to: str | None = None
    match: Literal["key", "email", "name"] = "key"
    attribute: str | None = None
    type: AttributeType | None = None  # None: the proposer types it from the values
    tag: str | None = None
    note: str | None = None
    column: str | None = None
    skip: bool = False
    transforms: list[Transform] = Field(default_factory=list)
    value_map: ValueFamily | dict[str, str] | None = None  # after the transforms; a family
    default: str | None = None  # ("state", "priority") is completed from the audit's values
    aliases: list[str] = Field(default_factory=list)
    yield_to: list[str] = Field(default_factory=list)  # when one of these fields exists, this one is skipped
    reason: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> DefaultField:
        given = [k for k in ("standard", "attribute", "tag", "note", "column") if getattr(self, k) is not None]
        given += ["skip"] if self.skip else []
        if len(given) != 1:
            raise ValueError(f"give exactly one target (standard, attribute, tag, note, column or skip); got {given or 'none'}")
        return self

    def target(self) -> FieldTarget:
        if self.standard is not None:
            return StandardTarget(field=self.standard, refers_to=self.refers_to, match=self.match)
        if self.attribute is not None:
            return AttributeTarget(name=self.attribute, data_type=self.type or "string")
        if self.tag is not None:
            return TagTarget(prefix=self.tag)
        if self.note is not None:
            return NoteTarget(label=self.note)
        if self.column is not None:
            return ColumnTarget(name=self.column)
        return SkipTarget()


class DefaultObject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: TargetKind
    role: ObjectRole
    seed: str = ""  # the seed's row, quoted in reasons ("Ticket → Conversation, 1:1")
    aliases: list[str] = Field(default_factory=list)
    choices: list[TargetKind] = Field(default_factory=list)
    options: ObjectOptions = Field(default_factory=ObjectOptions)
    reason: str = ""
    fields: dict[str, DefaultField] = Field(default_factory=dict)

    def find_field(self, name: str) -> DefaultField | None:
        if name in self.fields:
            return self.fields[name]
        wanted = norm(name)
        for key, entry in self.fields.items():
            if norm(key) == wanted or any(norm(alias) == wanted for alias in entry.aliases):
                return entry
        return None


class DefaultMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    label: str
    attribute_prefix: str
    timezone: str = "UTC"
    objects: dict[str, DefaultObject]

    def find_object(self, name: str, role: ObjectRole) -> tuple[str, DefaultObject] | None:
        """The default entry for a source object: by name, alias, then unique role."""
        if name in self.objects:
            return name, self.objects[name]
        wanted = norm(name)
        for key, entry in self.objects.items():
            if norm(key) == wanted or any(norm(alias) == wanted for alias in entry.aliases):
                return key, entry
        same_role = [(key, entry) for key, entry in self.objects.items() if entry.role is role]
        return same_role[0] if len(same_role) == 1 else None


@lru_cache(maxsize=8)
def load_default_map(platform: str) -> DefaultMap:
    """The shipped default map of a platform."""
    if platform not in PLATFORMS:
        raise DefaultMapError(f"no default map for platform {platform!r} (known: {', '.join(PLATFORMS)})")
    resource = asset("maps", f"{platform}.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DefaultMapError(f"the default map assets/maps/{platform}.toml is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefaultMapError(f"assets/maps/{platform}.toml is not valid TOML: {exc}") from None
    try:
        return DefaultMap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DefaultMapError(f"assets/maps/{platform}.toml: {where}: {first['msg']}") from None
