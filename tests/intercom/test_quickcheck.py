"""The sandbox's quick check never passes a body jsonschema refuses: every operation's
request examples, and thousands of bodies broken from them, judged by both."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.intercom.sandbox.contract import contract as the_contract
from connectors.intercom.sandbox.quickcheck import compile_check

ODD_VALUES = (None, 0, -1, 2**40, 1.5, float("nan"), True, False, "", "x", "admin", "y" * 70_000, [], [1], {}, {"a": 1})


def _operations() -> list[tuple[Any, Any, list[Any]]]:
    """(operation, its request validator, its request examples) for every operation with a body."""
    contract = the_contract()
    found = []
    for _, _, op in contract._routes:
        if contract.request_schema(op) is None:
            continue
        validator = contract._request_validator(op)
        body = contract._resolve(op.node["requestBody"])
        examples = body.get("content", {}).get("application/json", {}).get("examples", {})
        values = [contract._resolve(e).get("value") for e in examples.values() if isinstance(e, dict)]
        found.append((op, validator, [v for v in values if v is not None]))
    return found


def _broken(value: Any) -> list[Any]:
    """The value with one thing changed: a key dropped, a key added, a value replaced by an
    odd one, an item dropped or repeated, at every depth."""
    out: list[Any] = [odd for odd in ODD_VALUES]
    if isinstance(value, dict):
        out.append({**value, "zz_not_in_the_description": 1})
        for key, item in value.items():
            out.append({k: v for k, v in value.items() if k != key})
            out += [{**value, key: changed} for changed in _broken(item)]
    elif isinstance(value, list) and value:
        out += [value[1:], value + value[:1], value * 200]
        out += [[changed, *value[1:]] for changed in _broken(value[0])]
    return out


def test_every_operation_with_a_body_has_a_quick_check_that_agrees_with_its_examples():
    operations = _operations()
    assert len(operations) > 80
    contract = the_contract()
    for op, validator, examples in operations:
        quick = contract._quick[op.operation_id]
        assert quick is not None, op.operation_id
        for example in examples:
            assert quick(example) == validator.is_valid(example), (op.operation_id, example)


def test_the_quick_check_never_passes_a_body_jsonschema_refuses():
    contract = the_contract()
    judged = refused = 0
    for op, validator, examples in _operations():
        quick = contract._quick[op.operation_id]
        for example in examples:
            for body in _broken(copy.deepcopy(example)):
                judged += 1
                valid = validator.is_valid(body)
                refused += not valid
                if quick(body):
                    assert valid, (op.operation_id, body)
    assert judged > 5_000 and refused > 2_000  # the broken bodies do break the description


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
                    | st.sampled_from(["admin", "user", "comment", "note", "close", "contact", "lead"]),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["message_type", "type", "admin_id", "body", "email", "role",
                                                      "created_at", "name", "id", "intercom_user_id", "from",
                                                      "query", "field", "operator", "value", "custom_attributes"]),
                                      inner, max_size=5),
                    max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=JSON, index=st.integers(min_value=0))
def test_random_bodies_are_judged_as_jsonschema_judges_them_when_the_quick_check_passes(body, index):
    operations = _operations()
    op, validator, _ = operations[index % len(operations)]
    quick = the_contract()._quick[op.operation_id]
    if quick(body):
        assert validator.is_valid(body), (op.operation_id, body)


def test_a_schema_with_a_keyword_it_does_not_know_gets_no_quick_check():
    assert compile_check({"type": "string", "pattern": "^a"}, lambda ref: {}) is None
    assert compile_check({"properties": {"a": {"const": 1}}}, lambda ref: {}) is None
    assert compile_check({"enum": [1, 2]}, lambda ref: {}) is None
    check = compile_check({"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#/x"}}},
                          lambda ref: {"type": ["integer", "null"], "maximum": 3})
    assert check is not None
    assert [check(v) for v in ({"a": 2}, {"a": None}, {"a": 2.0}, {"a": True}, {"a": 4}, {}, [])] == \
        [True, True, True, False, False, False, False]


def test_a_body_nested_too_deep_for_the_quick_check_is_judged_by_jsonschema():
    """A search's query nests queries (the schema refers to itself): thousands deep, the
    quick check runs out of stack and jsonschema is asked instead."""
    contract = the_contract()
    op = contract.match("POST", "/conversations/search")
    contract._request_validator(op)
    body: dict[str, Any] = {"query": {"operator": "AND", "value": []}}
    node = body["query"]
    for _ in range(3_000):
        node["value"].append({"operator": "AND", "value": []})
        node = node["value"][0]
    try:
        contract._quick[op.operation_id](body)
        raise AssertionError("the quick check went 3,000 deep")
    except RecursionError:
        pass
    assert contract._fits(op, body) is False
    assert contract._fits(op, {"query": {"field": "state", "operator": "=", "value": "open"}}) is True
