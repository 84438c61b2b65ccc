"""The optional LLM proposer: any OpenAI-compatible chat-completions endpoint, as an advisor.

It reviews the built-in proposal object by object (one request each), with redacted
samples. It never blocks and never decides alone:

- one overall deadline (60 s by default) for all its requests, and a circuit breaker: after
  the first failure no further object is asked; the built-in proposal stands and each row
  says why;
- its answer must parse, entry by entry, into `FieldProposal` (the map's own shapes), and
  pass the checks the built-in proposal passes: the target fits the object, the values fit
  the target's type, an empty field is no source, one source per single-valued target;
- agreement never raises a row's confidence; a change it makes stays below the bulk band
  (0.8) and is recorded as `Advice` (before, after, the LLM's reason), as is every change it
  asked for and did not get, with the reason it was declined.

The key goes only into the Authorization header.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpmig_tui import redact
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.field_checks import attribute_type, fits, is_empty, looks, shape_of, value_evidence
from helpmig_tui.mapping.llm_prompt import messages, object_prompt, personal_values
from helpmig_tui.mapping.model import (
    LLM_FAILED,
    LLM_NOT_ASKED,
    Advice,
    AttributeTarget,
    FieldMap,
    FieldTarget,
    MigrationMap,
    ObjectMap,
    StandardTarget,
    target_problem,
)
from helpmig_tui.mapping.propose import Progress
from helpmig_tui.mapping.standard import COLUMN_KINDS, TargetKind, ValueType, single_valued, standard_field
from helpmig_tui.mapping.transforms import Transform, ValueMap
from helpmig_tui.settings import LlmSettings

STRONG = 0.9  # built-in proposals at or above this keep their target when the LLM disagrees
LLM_CAP = 0.8  # a row the LLM changed is never above this: the operator looks at it
DEADLINE_S = 60.0  # all requests of one proposal together
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)
COMPATIBLE = {("integer", "float"), ("date", "datetime"), ("datetime", "date")}


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


def _text(target: FieldTarget, transforms: list[Transform]) -> str:
    described = ", ".join(t.describe() for t in transforms)
    return target.describe() + (f" [{described}]" if described else "")


class LlmProposer:
    """Asks the configured endpoint; `transport` lets tests put a fake endpoint behind it,
    `clock` lets them run the deadline in virtual time."""

    def __init__(self, settings: LlmSettings, api_key: str | None = None,
                 transport: httpx.BaseTransport | None = None, *, deadline_s: float = DEADLINE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        self.deadline_s = deadline_s
        self.clock = clock
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

    def _post(self, body: dict[str, Any], timeout: float) -> httpx.Response:
        try:
            return self.client.post(self.url, json=body, timeout=timeout)
        except httpx.TimeoutException:
            raise LlmError(f"no answer within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise LlmError(redact.redact(f"cannot reach {self.settings.base_url}: {type(exc).__name__}")) from None

    def ask(self, payload: dict[str, Any], timeout: float | None = None) -> list[Any]:
        """The list of field entries the endpoint answers for one object."""
        started = self.clock()
        limit = self.settings.timeout_s if timeout is None else timeout
        body = {"model": self.settings.model, "messages": messages(payload), "temperature": 0,
                "response_format": {"type": "json_object"}}
        response = self._post(body, limit)
        if response.status_code in (400, 422):  # some servers refuse response_format: ask once without
            body.pop("response_format")
            left = limit - (self.clock() - started)
            if left <= 0:
                raise LlmError(f"no answer within {limit:g} s")
            response = self._post(body, left)
        if self.clock() - started > limit:
            raise LlmError(f"no answer within {limit:g} s")
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
        known = personal_values(evidence)
        started = self.clock()
        broken: str | None = None
        fields: dict[str, FieldMap] = {}
        advice: list[Advice] = []
        for done, om in enumerate(objects):
            if progress:
                progress(f"asking the LLM about {om.label or om.object}", done, len(objects))
            ev = evidence.object(om.object)
            if ev is None:
                continue
            left = self.deadline_s - (self.clock() - started)
            if broken is not None or left <= 0:
                why = broken or f"the {self.deadline_s:g} s allowed for the LLM had passed"
                for fm in mmap.fields_of(om.object):
                    fields[fm.key] = fm.model_copy(update={"reason": f"{LLM_NOT_ASKED} ({why}); built-in: {fm.reason}"})
                continue
            try:
                entries = self.ask(object_prompt(evidence.platform, ev, om, mmap, known),
                                   timeout=min(self.settings.timeout_s, left))
            except LlmError as exc:
                broken = f"it failed on {om.object}: {exc}"
                for fm in mmap.fields_of(om.object):
                    fields[fm.key] = fm.model_copy(update={"reason": f"{LLM_FAILED} ({exc}); built-in: {fm.reason}"})
                continue
            rows, notes = _merge_object(om, ev, mmap.fields_of(om.object), entries)
            for fm in rows:
                fields[fm.key] = fm
            advice += notes
        if progress:
            progress("LLM review done", len(objects), len(objects))
        refined = mmap.with_rows(fields=list(fields.values()))
        return refined.model_copy(update={"proposer": "llm", "advice": advice})


def _merge_object(om: ObjectMap, ev: ObjectEvidence, rows: list[FieldMap],
                  entries: list[Any]) -> tuple[list[FieldMap], list[Advice]]:
    """The object's rows after the LLM's answer, and its advice (applied and declined)."""
    by_field: dict[str, Any] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("field"), str):
            by_field.setdefault(entry["field"], entry)
    out: dict[str, FieldMap] = {}
    wanted: dict[str, FieldProposal] = {}
    advice: list[Advice] = []
    for fm in rows:
        entry = by_field.get(fm.field)
        if entry is None:
            out[fm.field] = fm.model_copy(update={"reason": f"LLM gave no answer for this field; built-in: {fm.reason}"})
            continue
        try:
            proposal = FieldProposal.model_validate(entry)
        except ValidationError as exc:
            out[fm.field] = fm.model_copy(update={"reason": f"LLM answer invalid ({_first_error(exc)}); built-in: {fm.reason}"})
            continue
        llm_reason = " ".join(proposal.reason.split())[:200] or "no reason given"
        if proposal.target == fm.target:
            out[fm.field] = fm.model_copy(update={"reason": f"LLM agrees: {llm_reason}; built-in: {fm.reason}"})
            continue
        problem = target_problem(om.target, proposal.target)
        f = ev.field(fm.field)
        if problem is None and f is not None:
            problem = _value_problem(om.target, ev, f, proposal)
        if problem is None and fm.confidence >= STRONG:
            problem = f"the built-in proposal rests on evidence ({fm.confidence:.2f})"
        if problem is not None:
            out[fm.field] = fm.model_copy(update={"reason": f"{fm.reason} (LLM suggested {proposal.target.describe()}, "
                                                            f"declined: {problem})"})
            advice.append(Advice(object=om.object, field=fm.field, before=_text(fm.target, fm.transforms),
                                 after=_text(proposal.target, proposal.transforms), reason=llm_reason, applied=False,
                                 why=problem))
            continue
        wanted[fm.field] = proposal
    # one source per single-valued target: what stays of the built-in first, then the LLM's surest
    holders = {fm.target.field: fm.field for fm in rows
               if isinstance(fm.target, StandardTarget) and fm.field not in wanted and single_valued(om.target, fm.target.field)}
    for name, proposal in sorted(wanted.items(), key=lambda kv: -kv[1].confidence):
        fm = next(r for r in rows if r.field == name)
        llm_reason = " ".join(proposal.reason.split())[:200] or "no reason given"
        target = proposal.target
        if isinstance(target, StandardTarget) and single_valued(om.target, target.field):
            holder = holders.get(target.field)
            if holder is not None and holder != name:
                why = f"{target.field} already comes from {holder}"
                out[name] = fm.model_copy(update={"reason": f"{fm.reason} (LLM suggested {target.describe()}, declined: {why})"})
                advice.append(Advice(object=om.object, field=name, before=_text(fm.target, fm.transforms),
                                     after=_text(target, proposal.transforms), reason=llm_reason, applied=False, why=why))
                continue
            holders[target.field] = name
        out[name] = fm.model_copy(update={
            "target": target, "transforms": proposal.transforms,
            "confidence": round(min(proposal.confidence, LLM_CAP), 2),
            "reason": f"LLM: {llm_reason} (built-in proposed {fm.target.describe()})",
        })
        advice.append(Advice(object=om.object, field=name, before=_text(fm.target, fm.transforms),
                             after=_text(target, proposal.transforms), reason=llm_reason, applied=True))
    return [out[fm.field] for fm in rows], advice


def _value_problem(kind: TargetKind, ev: ObjectEvidence, f: FieldEvidence, proposal: FieldProposal) -> str | None:
    """Why the field's values do not suit the LLM's target, or None: the checks the built-in
    proposal passes."""
    target = proposal.target
    sh = shape_of(f, ev.count)
    if isinstance(target, StandardTarget):
        if is_empty(f, ev):
            return f"{f.name} is empty in every record"
        std = standard_field(kind, target.field)
        if std is None:
            return f"{kind.value} has no standard field {target.field}"
        if std.value is ValueType.OPTIONS:
            if not any(isinstance(t, ValueMap) for t in proposal.transforms):
                return f"{target.field} takes {', '.join(std.options)}: a value map is needed"
            return None
        if std.value in (ValueType.REFERENCE, ValueType.LIST):
            return None
        ok, _, why = fits(std, f, looks(f))
        if not ok:
            return why
        if sh.seen and value_evidence(std, f, sh) is None:
            return f"the values do not look like a {std.value.value}"
        return None
    if isinstance(target, AttributeTarget) and sh.seen:
        seen = attribute_type(f, sh)
        wanted = target.data_type
        typed = {"integer", "float", "boolean", "datetime", "date"}
        if wanted in typed and seen != wanted and (wanted, seen) not in COMPATIBLE:
            return f"values look {seen}, not {wanted}"
    return None
