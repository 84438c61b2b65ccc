"""Masking of secrets wherever text leaves the process: logs, reports, the screen, errors.

Every secret value the app resolves is registered here, and `redact()` replaces it (and
anything shaped like a credential: bearer tokens, accessKey=, PWD=) before text is
written anywhere. One mechanism serves every outlet, so a new outlet cannot forget one.

The shapes mask values, never words: in "no Intercom token: set HELPMIG_INTERCOM_TOKEN"
the word after "token:" is prose, and masking it would hide the fix and read like a leak.
After `key=` (ODBC strings, URLs, form bodies) or a quoted JSON value anything is a value;
after `key:` and a space in prose, only something that looks like a credential is (digits
or symbols in it, or long). Registered secrets are masked wherever they appear.
"""

from __future__ import annotations

import re
import threading

MASK = "****"
_MIN_SECRET = 4  # shorter values would mask ordinary words
_LONG_VALUE = 20  # a run of letters this long is a key, not a word

_lock = threading.Lock()
_values: set[str] = set()

_KEYS = r"accesskey|access_key|api_key|apikey|pwd|password|passwd|token|secret"
_WORD = re.compile(r"[A-Za-z][a-z]*")  # a word of prose: letters, at most a leading capital

_PATTERNS = (
    # Authorization: Bearer xyz / Basic xyz / ApiKey xyz
    re.compile(r"(?i)\b(bearer|basic|apikey)(\s+)([A-Za-z0-9._~+/=-]{8,})"),
    # Authorization: <raw token> (Infraon sends its token without a scheme)
    re.compile(r"(?i)\b(authorization)([\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b|apikey\b)([^\s\"',;]+)"),
    # key=value credentials in URLs, ODBC strings, form bodies and environment assignments
    # (HELPMIG_SQL_PASSWORD=...), and "key": "value" in JSON
    re.compile(rf"(?i)(\b|_)({_KEYS})(\s*=\s*|[\"']\s*:\s*[\"']|\s*:\s*)([^;&\s\"',}}]+)"),
)


def register(value: str | None) -> None:
    """Remember a secret value so every later redact() masks it."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _values.add(value)


def _is_word(value: str) -> bool:
    return _WORD.fullmatch(value) is not None and len(value) < _LONG_VALUE


def _key_value(match: re.Match[str]) -> str:
    lead, key, sep, value = match.groups()
    prose = ":" in sep and not sep.strip().startswith(("'", '"')) and not sep.rstrip().endswith(("'", '"'))
    if prose and (_is_word(value) or value.startswith(("HELPMIG_", "`", "--"))):
        return match.group(0)  # "token: set HELPMIG_..." is a sentence, not a credential
    return f"{lead}{key}{sep}{MASK}"
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
    bearer, authorization, key_value = _PATTERNS
    text = bearer.sub(lambda m: m.group(0) if _is_word(m.group(3)) else f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = authorization.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return key_value.sub(_key_value, text)


def mask(value: str | None) -> str:
    """How a secret is shown to its owner: enough to recognise it, never enough to use it."""
    if not value:
        return "(not set)"
    if len(value) <= 8:
        return MASK
    return f"{MASK}{value[-4:]}"
