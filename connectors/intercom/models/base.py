"""Shared bases: responses keep unknown fields, requests refuse them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class IntercomModel(BaseModel):
    """A response object. Fields Intercom adds later are kept (in `model_extra`), not lost."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestModel(BaseModel):
    """A request body. Unknown fields are a programming error, caught before sending."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def payload(self) -> dict[str, Any]:
        """The JSON body: unset and None fields are left out."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class Deleted(IntercomModel):
    """`{id, object, deleted}`, the answer of most deletes; `already_gone` when a retry found it gone."""

    id: str | None = None
    object: str | None = None
    deleted: bool = True
    already_gone: bool = False
