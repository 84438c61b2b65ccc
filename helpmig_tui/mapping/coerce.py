"""Turning a transformed value into what its Intercom target accepts.

Intercom checks types (an integer attribute refuses "12 pcs"), so every value is
coerced here, once, and a value that cannot be coerced raises `TransformProblem`
with the reason, which `apply_map` reports instead of sending a request that fails.
"""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from helpmig_tui.mapping.html_text import message_html
from helpmig_tui.mapping.standard import ValueType
from helpmig_tui.mapping.transforms import TransformProblem, short_repr, to_unix

TRUE = {"true", "1", "yes", "y", "on", "t", "x", "checked", "да"}
MAX_INT_DIGITS = 18  # a whole number longer than this is no integer attribute's (64-bit)
FALSE = {"false", "0", "no", "n", "off", "f", "", "unchecked", "нет"}


def as_text(value: Any) -> str:
    """Text for any value: lists joined with commas, datetimes as ISO 8601."""
    if isinstance(value, list):
        return ", ".join(as_text(v) for v in value if v is not None and v != "")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise TransformProblem("not_a_boolean", f"{short_repr(value)} is not yes/no")


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise TransformProblem("not_a_number", f"{short_repr(value)} is not a whole number") from None
    if not number.is_finite() or number.adjusted() > MAX_INT_DIGITS:
        raise TransformProblem("not_a_number", f"{short_repr(value)} is not a whole number Intercom can hold")
    if number != number.to_integral_value():
        raise TransformProblem("not_a_number", f"{short_repr(value)} is not a whole number")
    return int(number)


def as_float(value: Any) -> float:
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            number = float(Decimal(str(value).strip().replace(",", "")))
    except (InvalidOperation, ValueError, OverflowError):
        raise TransformProblem("not_a_number", f"{short_repr(value)} is not a number") from None
    if not math.isfinite(number):  # NaN and infinities: no JSON number holds them
        raise TransformProblem("not_a_number", f"{short_repr(value)} is not a finite number")
    return number


def as_key(value: Any) -> str:
    """A reference value as the key string the loader looks up (5.0 -> "5")."""
    if isinstance(value, list):
        value = next((v for v in value if v not in (None, "")), None)
        if value is None:
            raise TransformProblem("empty_reference", "the reference list is empty")
    return as_text(value).strip()


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def coerce_standard(kind: ValueType, value: Any, zone: tzinfo, options: tuple[str, ...] = ()) -> Any:
    """A value for a standard field of this value type."""
    if kind is ValueType.DATETIME:
        return to_unix(value, zone)
    if kind is ValueType.INTEGER:
        return as_int(value)
    if kind is ValueType.BOOLEAN:
        return as_bool(value)
    if kind is ValueType.LIST:
        items = value if isinstance(value, list) else [value]
        return [as_text(v).strip() for v in items if not is_empty(v)]
    if kind is ValueType.REFERENCE:
        return as_key(value)
    if kind is ValueType.MESSAGE:
        return message_html(as_text(value))
    text = as_text(value).strip()
    if kind is ValueType.OPTIONS:
        if text.casefold() not in options:
            raise TransformProblem("not_an_option", f"{short_repr(text)} is not one of {', '.join(options)}")
        return text.casefold()
    if kind is ValueType.EMAIL and ("@" not in text or " " in text):
        raise TransformProblem("not_an_email", f"{short_repr(text)} is not an email address")
    return text


def coerce_attribute(data_type: str, value: Any, zone: tzinfo) -> Any:
    """A value for a custom attribute of this Intercom data type."""
    if data_type == "integer":
        return as_int(value)
    if data_type == "float":
        return as_float(value)
    if data_type == "boolean":
        return as_bool(value)
    if data_type in ("datetime", "date"):
        return to_unix(value, zone)
    return as_text(value)
