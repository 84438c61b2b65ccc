"""The optional LLM proposer: any OpenAI-compatible chat-completions endpoint.

It refines the built-in proposal object by object (one request each). Its answer must
parse, entry by entry, into `FieldProposal`, the same pydantic shapes as the map; a
failed, slow or invalid answer keeps the built-in proposal for the fields concerned and
says so in their reason. Where the built-in proposal rests on strong evidence (the
platform's default map, the record's structure) and the LLM disagrees, the built-in one
stays and the LLM's idea is noted. The key goes only into the Authorization header.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpmig_tui import redact
from helpmig_tui.mapping.evidence import SourceEvidence
from helpmig_tui.mapping.llm_prompt import messages, object_prompt
from helpmig_tui.mapping.model import FieldMap, FieldTarget, MigrationMap, target_problem
from helpmig_tui.mapping.propose import Progress
from helpmig_tui.mapping.standard import COLUMN_KINDS, TargetKind
from helpmig_tui.mapping.transforms import Transform
from helpmig_tui.settings import LlmSettings

STRONG = 0.9  # built-in proposals at or above this keep their target when the LLM disagrees
LLM_CAP = 0.8  # an LLM-only proposal is never above this: the operator looks at it
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


class FieldProposal(BaseModel):
    """One field as the LLM proposes it."""

    model_config = ConfigDict(extra="ignore")

    field: str
    target: FieldTarget
    transforms: list[Transform] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = ""


class LlmError(Exception):
    """The endpoint could not give a usable answer; the message is short and secret-free."""


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or "entry"
    return f"{where}: {first['msg']}"[:120]


class LlmProposer:
    """Asks the configured endpoint; `transport` lets tests put a fake endpoint behind it."""

    def __init__(self, settings: LlmSettings, api_key: str | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        headers = {"Accept": "application/json"}
        if api_key:
            redact.register(api_key)
            headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx.Client(timeout=settings.timeout_s, headers=headers, transport=transport)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> LlmProposer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the conversation with the endpoint ------------------------------------------

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        try:
            return self.client.post(self.url, json=body)
        except httpx.TimeoutException:
            raise LlmError(f"no answer within {self.settings.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise LlmError(redact.redact(f"cannot reach {self.settings.base_url}: {type(exc).__name__}")) from None

    def ask(self, payload: dict[str, Any]) -> list[Any]:
        """The list of field entries the endpoint answers for one object."""
        body = {"model": self.settings.model, "messages": messages(payload), "temperature": 0,
                "response_format": {"type": "json_object"}}
        response = self._post(body)
        if response.status_code in (400, 422):  # some servers refuse response_format: ask once without
            body.pop("response_format")
            response = self._post(body)
        if response.status_code >= 400:
            raise LlmError(f"the endpoint answered HTTP {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
            answer = json.loads(_FENCE.sub("", content))
        except (ValueError, KeyError, IndexError, TypeError):
            raise LlmError("the answer is not the JSON asked for") from None
        entries = answer.get("fields") if isinstance(answer, dict) else answer
        if not isinstance(entries, list):
            raise LlmError("the answer has no list of fields")
        return entries

    # -- merging into the built-in proposal --------------------------------------------

    def refine(self, evidence: SourceEvidence, mmap: MigrationMap, progress: Progress | None = None) -> MigrationMap:
        objects = [om for om in mmap.active_objects() if om.target not in COLUMN_KINDS and mmap.fields_of(om.object)]
        fields: dict[str, FieldMap] = {}
        for done, om in enumerate(objects):
            if progress:
                progress(f"asking the LLM about {om.label or om.object}", done, len(objects))
            ev = evidence.object(om.object)
            if ev is None:
                continue
            try:
                entries = self.ask(object_prompt(evidence.platform, ev, om, mmap))
            except LlmError as exc:
                for fm in mmap.fields_of(om.object):
                    fields[fm.key] = fm.model_copy(update={"reason": f"LLM failed ({exc}); built-in: {fm.reason}"})
                continue
            by_field: dict[str, Any] = {}
            for entry in entries:
                if isinstance(entry, dict) and isinstance(entry.get("field"), str):
                    by_field.setdefault(entry["field"], entry)
            for fm in mmap.fields_of(om.object):
                fields[fm.key] = self._merge(fm, om.target, by_field.get(fm.field))
        if progress:
            progress("LLM review done", len(objects), len(objects))
        refined = mmap.with_rows(fields=list(fields.values()))
        return refined.model_copy(update={"proposer": "llm"})

    @staticmethod
    def _merge(fm: FieldMap, kind: TargetKind, entry: Any) -> FieldMap:
        if entry is None:
            return fm.model_copy(update={"reason": f"LLM gave no answer for this field; built-in: {fm.reason}"})
        try:
            proposal = FieldProposal.model_validate(entry)
        except ValidationError as exc:
            return fm.model_copy(update={"reason": f"LLM answer invalid ({_first_error(exc)}); built-in: {fm.reason}"})
        problem = target_problem(kind, proposal.target)
        if problem:
            return fm.model_copy(update={"reason": f"LLM answer does not fit ({problem}); built-in: {fm.reason}"})
        llm_reason = " ".join(proposal.reason.split())[:200] or "no reason given"
        if proposal.target == fm.target:
            return fm.model_copy(update={
                "transforms": proposal.transforms or fm.transforms,
                "confidence": round(max(fm.confidence, min(proposal.confidence, 0.95)), 2),
                "reason": f"LLM agrees: {llm_reason}; built-in: {fm.reason}",
            })
        if fm.confidence >= STRONG:
            return fm.model_copy(update={
                "reason": f"{fm.reason} (LLM suggested {proposal.target.describe()}: {llm_reason})"})
        return fm.model_copy(update={
            "target": proposal.target, "transforms": proposal.transforms,
            "confidence": round(min(proposal.confidence, LLM_CAP), 2),
            "reason": f"LLM: {llm_reason} (built-in proposed {fm.target.describe()})",
        })
