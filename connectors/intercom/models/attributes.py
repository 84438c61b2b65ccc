"""Custom data attributes (contacts, companies) and conversation attributes (API 2.16)."""

from __future__ import annotations

import unicodedata
from typing import Literal

from connectors.intercom.models.base import IntercomModel, RequestModel

DataAttributeType = Literal["string", "integer", "float", "boolean", "datetime", "date", "options"]
ConversationAttributeType = Literal["string", "integer", "list", "decimal", "boolean", "datetime", "relationship", "files"]
MAX_CUSTOM_DATA_ATTRIBUTES = 250  # per workspace, archived ones excluded


def attribute_name_problem(name: str) -> str | None:
    """Why Intercom would refuse this data attribute name, or None.

    Intercom's message says names "must only contain alphanumeric characters, currency
    symbols, and hyphens"; its own examples also use spaces ("Mithril Shirt") and
    underscores ("paid_subscriber"), so those pass too.
    """
    if not name or not name.strip():
        return "Name can't be blank"
    for char in name:
        if char.isalnum() or char in " _-" or unicodedata.category(char) == "Sc":
            continue
        return "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens"
    return None


class DataAttributeOption(RequestModel):
    value: str


class DataAttributeCreate(RequestModel):
    name: str
    model: Literal["contact", "company"]
    data_type: DataAttributeType
    description: str | None = None
    options: list[DataAttributeOption] | None = None  # required, at least two, for "options"
    messenger_writable: bool | None = None


class DataAttributeUpdate(RequestModel):
    """Archive or unarchive; `options` replaces an options attribute's list (two at least)."""

    archived: bool | None = None
    description: str | None = None
    messenger_writable: bool | None = None
    options: list[DataAttributeOption] | None = None


class DataAttribute(IntercomModel):
    type: str = "data_attribute"
    id: int | None = None  # standard attributes have none
    model: str | None = None
    name: str
    full_name: str | None = None
    label: str | None = None
    description: str | None = None
    data_type: str | None = None
    options: list[str] | None = None
    api_writable: bool | None = None
    custom: bool | None = None
    archived: bool | None = None


class ConversationAttributeOption(RequestModel):
    label: str


class ConversationAttributeCreate(RequestModel):
    name: str
    data_type: ConversationAttributeType
    description: str | None = None
    required: bool | None = None
    visible_to_team_ids: list[str] | None = None
    multiline: bool | None = None  # string
    options: list[ConversationAttributeOption] | None = None  # list
    reference: dict[str, str] | None = None  # relationship: {type: one|many, object_type_id}


class ConversationAttributeChoice(IntercomModel):
    """One option of a list conversation attribute, as Intercom answers it."""

    id: str | None = None
    label: str
    archived: bool | None = None


class ConversationAttribute(IntercomModel):
    type: str = "conversation_attribute"
    id: int
    name: str
    description: str | None = None
    data_type: str | None = None
    required: bool | None = None
    archived: bool | None = None
    options: list[ConversationAttributeChoice] | None = None

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.options or () if not o.archived]
