"""Masking of secrets wherever text leaves the process: logs, reports, the screen, errors.

Every secret value the app resolves is registered here, and `redact()` replaces it (and
anything shaped like a credential: bearer tokens, accessKey=, PWD=) before text is
written anywhere. One mechanism serves every outlet, so a new outlet cannot forget one.
"""

from __future__ import annotations

import re
import threading

MASK = "****"
_MIN_SECRET = 4  # shorter values would mask ordinary words

_lock = threading.Lock()
_values: set[str] = set()

_PATTERNS = (
    # Authorization: Bearer xyz / Basic xyz / ApiKey xyz
    re.compile(r"(?i)\b(bearer|basic|apikey)(\s+)([A-Za-z0-9._~+/=-]{8,})"),
    # Authorization: <raw token> (Infraon sends its token without a scheme)
    re.compile(r"(?i)\b(authorization)([\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b|apikey\b)([^\s\"',;]+)"),
    # key=value credentials in URLs, ODBC strings and form bodies, and "key": "value" in JSON
    re.compile(
        r"(?i)\b(accesskey|access_key|api_key|apikey|pwd|password|passwd|token|secret)"
        r"([\"']?\s*[=:]\s*[\"']?)([^;&\s\"',}]+)"
    ),
)


def register(value: str | None) -> None:
    """Remember a secret value so every later redact() masks it."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _values.add(value)


def forget_all() -> None:
    """Drop registered values (tests only need this between cases)."""
    with _lock:
        _values.clear()


def known() -> list[str]:
    """The secret values registered so far (for a check that nothing written holds one)."""
    with _lock:
        return sorted(_values)


def redact(text: str) -> str:
    """`text` with every registered secret and credential-shaped value masked."""
    if not text:
        return text
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


def mask(value: str | None) -> str:
    """How a secret is shown to its owner: enough to recognise it, never enough to use it."""
    if not value:
        return "(not set)"
    if len(value) <= 8:
        return MASK
    return f"{MASK}{value[-4:]}"
