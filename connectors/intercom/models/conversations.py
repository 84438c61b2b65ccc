"""Conversations: create from a contact, replies and notes, state parts, updates, reads."""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.intercom.models.base import IntercomModel, RequestModel
from connectors.intercom.models.tags import Tag

MAX_ATTACHMENTS = 10  # per message, URLs and files each
MAX_PARTS_RETURNED = 500  # GET returns the 500 most recent parts
MAX_PARTS = 500  # parts in one conversation, the opening message included


class AttachmentFile(RequestModel):
    """A file sent inline, base64-encoded (replies only; create takes URLs only)."""

    content_type: str
    data: str
    name: str

    @classmethod
    def from_bytes(cls, name: str, content_type: str, content: bytes) -> AttachmentFile:
        return cls(name=name, content_type=content_type, data=base64.b64encode(content).decode("ascii"))


class ConversationFrom(RequestModel):
    type: Literal["user", "lead", "contact"] = "user"
    id: str


class ConversationCreate(RequestModel):
    """A contact-initiated conversation; `created_at` backdates it. The body is text, not HTML."""

    from_: ConversationFrom = Field(alias="from")
    body: str
    subject: str | None = None
    attachment_urls: list[str] | None = Field(default=None, max_length=MAX_ATTACHMENTS)
    created_at: int | None = None
    brand_id: str | None = None


class ConversationCreated(IntercomModel):
    """The `message` answer of a create: `conversation_id` is the conversation, `id` the message."""

    type: str | None = None
    id: str
    created_at: int | None = None
    body: str | None = None
    message_type: str | None = None
    conversation_id: str


class _ReplyBase(RequestModel):
    body: str | None = None
    created_at: int | None = None
    attachment_urls: list[str] | None = Field(default=None, max_length=MAX_ATTACHMENTS)
    attachment_files: list[AttachmentFile] | None = Field(default=None, max_length=MAX_ATTACHMENTS)


class AdminReply(_ReplyBase):
    """A reply (`comment`) or internal `note` by an admin. Comments may notify the customer."""

    type: Literal["admin"] = "admin"
    admin_id: str
    message_type: Literal["comment", "note", "quick_reply"] = "comment"
    skip_notifications: bool | None = None


class ContactReply(_ReplyBase):
    """A reply by the contact, identified by exactly one of its three ids."""

    type: Literal["user"] = "user"
    message_type: Literal["comment"] = "comment"
    body: str
    intercom_user_id: str | None = None
    user_id: str | None = None  # the contact's external_id
    email: str | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> ContactReply:
        given = [key for key in ("intercom_user_id", "user_id", "email") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError("a contact reply needs exactly one of intercom_user_id, user_id, email")
        return self


class CloseConversation(RequestModel):
    message_type: Literal["close"] = "close"
    type: Literal["admin"] = "admin"
    admin_id: str
    body: str | None = None


class OpenConversation(RequestModel):
    message_type: Literal["open"] = "open"
    admin_id: str


class AssignConversation(RequestModel):
    """`assignee_id` "0" unassigns; `type` says whether the assignee is an admin or a team."""

    message_type: Literal["assignment"] = "assignment"
    type: Literal["admin", "team"] = "admin"
    admin_id: str
    assignee_id: str
    body: str | None = None


ManageConversation = CloseConversation | OpenConversation | AssignConversation


class ConversationUpdate(RequestModel):
    """Custom attribute values need the attribute to exist first (conversation attributes)."""

    title: str | None = None
    custom_attributes: dict[str, Any] | None = None
    read: bool | None = None
    company_id: str | None = None


class PartAuthor(IntercomModel):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    email: str | None = None


class PartAttachment(IntercomModel):
    type: str | None = None
    name: str | None = None
    url: str | None = None
    content_type: str | None = None
    filesize: int | None = None


class ConversationPart(IntercomModel):
    type: str = "conversation_part"
    id: str
    part_type: str | None = None
    body: str | None = None
    created_at: int | None = None
    author: PartAuthor | None = None
    assigned_to: dict[str, Any] | None = None
    attachments: list[PartAttachment] = []
    external_id: str | None = None
    redacted: bool | None = None


class ConversationParts(IntercomModel):
    type: str | None = None
    conversation_parts: list[ConversationPart] = []
    total_count: int | None = None


class ContactRef(IntercomModel):
    type: str | None = None
    id: str
    external_id: str | None = None


class ConversationContacts(IntercomModel):
    type: str | None = None
    contacts: list[ContactRef] = []


class ConversationTags(IntercomModel):
    type: str | None = None
    tags: list[Tag] = []


class ConversationSource(IntercomModel):
    type: str | None = None
    id: str | None = None
    delivered_as: str | None = None
    subject: str | None = None
    body: str | None = None
    author: PartAuthor | None = None
    attachments: list[PartAttachment] = []


class Conversation(IntercomModel):
    type: str = "conversation"
    id: str
    title: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    state: str | None = None
    open: bool | None = None
    read: bool | None = None
    admin_assignee_id: int | None = None
    team_assignee_id: int | None = None
    snoozed_until: int | None = None
    source: ConversationSource | None = None
    contacts: ConversationContacts | None = None
    tags: ConversationTags | None = None
    custom_attributes: dict[str, Any] = {}
    conversation_parts: ConversationParts | None = None

    @property
    def parts(self) -> list[ConversationPart]:
        return self.conversation_parts.conversation_parts if self.conversation_parts else []


class _Read(BaseModel):
    """Reads only the fields it declares; the rest of the answer is skipped while parsing."""

    model_config = ConfigDict(extra="ignore")


class AnsweredPart(_Read):
    id: str
    part_type: str | None = None
    body: str | None = None
    created_at: int | None = None


class AnsweredParts(_Read):
    conversation_parts: list[AnsweredPart] = []


class ConversationAnswer(_Read):
    """What a reply or a state change answers (the whole conversation), read only as far
    as a writer looks: the state, the assignees and each part's id, type, time and body.
    Building the full `Conversation` for every reply of a long thread costs time that
    grows with the thread (each answer carries every part so far)."""

    id: str
    state: str | None = None
    open: bool | None = None
    admin_assignee_id: int | None = None
    team_assignee_id: int | None = None
    conversation_parts: AnsweredParts | None = None

    @property
    def parts(self) -> list[AnsweredPart]:
        return self.conversation_parts.conversation_parts if self.conversation_parts else []
