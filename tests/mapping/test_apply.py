"""apply_map: every transform, the coercions, and bad values as flags or rejections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timezone, timedelta

import pytest

from connectors.base import Record
from helpmig_tui.mapping.apply import SOURCE_ID_ATTRIBUTE, MapError, apply_map, source_id
from helpmig_tui.mapping.model import (
    AttributeTarget,
    ColumnTarget,
    FieldMap,
    MigrationMap,
    NoteTarget,
    ObjectMap,
    ObjectOptions,
    SkipTarget,
    StandardTarget,
    TagTarget,
)
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.transforms import (
    DateToUnix,
    HtmlToText,
    Join,
    Lookup,
    Split,
    Truncate,
    ValueMap,
)

JAN_1_2024_UTC = 1704067200


def fm(obj, field, target, *transforms):
    return FieldMap(object=obj, field=field, target=target, transforms=list(transforms))


def one(kind, *fields, tz="UTC", options=None):
    return MigrationMap(
        platform="trackit", timezone=tz,
        objects=[ObjectMap(object="t", target=kind, options=options or ObjectOptions())],
        fields=[fm("t", *f) if isinstance(f, tuple) else f for f in fields],
    )


def ticket_map(*extra, tz="UTC", options=None):
    base = [
        ("opened", StandardTarget(field="created_at")),
        ("requester", StandardTarget(field="contact", refers_to="users")),
    ]
    return one(K.CONVERSATION, *base, *extra, tz=tz, options=options)


OK = {"opened": datetime(2024, 1, 1, tzinfo=UTC), "requester": 42}


def test_a_clean_ticket_maps_to_standard_fields_references_and_its_source_id():
    m = ticket_map(
        ("subject", StandardTarget(field="title")),
        ("agent", StandardTarget(field="assignee", refers_to="technicians", match="name")),
        ("key", SkipTarget()),
    )
    out = apply_map(m, "t", Record("t", "7", {**OK, "subject": "Printer", "agent": "Ann Lee", "key": "7"}))
    assert out.ok and out.rejected is None
    assert out.standard == {"created_at": JAN_1_2024_UTC, "title": "Printer"}
    assert out.references == {"contact": "42", "assignee": "Ann Lee"}
    assert out.source_id == "trackit:t:7" == source_id("trackit", "t", "7")
    assert out.attributes == {SOURCE_ID_ATTRIBUTE: "trackit:t:7"}
    assert m.reference("t", "assignee").match == "name"


def test_value_map_matches_case_insensitively_uses_its_default_and_flags_the_rest():
    vm = ValueMap(mapping={"Open": "open", "Resolved": "closed", "Public": ""})
    m = ticket_map(("status", StandardTarget(field="state"), vm))
    assert apply_map(m, "t", {**OK, "status": " resolved "}, key="1").standard["state"] == "closed"
    unmapped = apply_map(m, "t", {**OK, "status": "Escalated"}, key="2")
    assert unmapped.ok and "state" not in unmapped.standard
    assert [(f.field, f.code) for f in unmapped.flags] == [("status", "unmapped_value")]
    assert "'Escalated' is not in the value map" in unmapped.flags[0].message
    with_default = ticket_map(("status", StandardTarget(field="state"), ValueMap(mapping={"Open": "open"}, default="closed")))
    assert apply_map(with_default, "t", {**OK, "status": "Escalated"}, key="3").standard["state"] == "closed"
    dropped = apply_map(m, "t", {**OK, "status": "Public"}, key="4")
    assert "state" not in dropped.standard and dropped.flags == []


def test_a_value_outside_the_standard_options_is_flagged_not_sent():
    m = ticket_map(("status", StandardTarget(field="state"), ValueMap(mapping={"Open": "pending"})))
    out = apply_map(m, "t", {**OK, "status": "Open"}, key="1")
    assert out.ok and "state" not in out.standard and out.flags[0].code == "not_an_option"


def test_dates_become_unix_seconds_reading_naive_values_in_the_source_zone():
    m = ticket_map(("due", AttributeTarget(name="ti_due", data_type="datetime"), DateToUnix()), tz="Europe/Berlin")
    cases = {
        "2024-01-01 01:00:00": JAN_1_2024_UTC,  # naive, Berlin is UTC+1 in winter
        "2024-01-01T00:00:00Z": JAN_1_2024_UTC,
        "2024-01-01T02:00:00+02:00": JAN_1_2024_UTC,
        "2024.01.01 01:00:00": JAN_1_2024_UTC,  # Naumen's layout
        str(JAN_1_2024_UTC): JAN_1_2024_UTC,
        JAN_1_2024_UTC * 1000: JAN_1_2024_UTC,  # milliseconds
        datetime(2024, 1, 1, 1, 0): JAN_1_2024_UTC,
        datetime(2024, 1, 1, 3, 0, tzinfo=timezone(timedelta(hours=3))): JAN_1_2024_UTC,
        date(2024, 1, 1): JAN_1_2024_UTC - 3600,
    }
    for value, expected in cases.items():
        out = apply_map(m, "t", {**OK, "due": value}, key="1")
        assert out.attributes["ti_due"] == expected, value
    own_zone = ticket_map(("due", AttributeTarget(name="ti_due", data_type="datetime"),
                           DateToUnix(timezone="America/New_York", formats=["%d.%m.%Y %H:%M"])))
    assert apply_map(own_zone, "t", {**OK, "due": "31.12.2023 19:00"}, key="1").attributes["ti_due"] == JAN_1_2024_UTC


def test_an_unparseable_date_is_a_flag_on_an_optional_field_and_a_rejection_on_a_required_one():
    m = ticket_map(("due", AttributeTarget(name="ti_due", data_type="datetime"), DateToUnix()))
    optional = apply_map(m, "t", {**OK, "due": "next Tuesday"}, key="1")
    assert optional.ok and "ti_due" not in optional.attributes
    assert optional.flags[0].code == "date_unparseable" and "'next Tuesday'" in optional.flags[0].message
    m2 = one(K.CONVERSATION, ("opened", StandardTarget(field="created_at"), DateToUnix()),
             ("requester", StandardTarget(field="contact")))
    required = apply_map(m2, "t", {"opened": "31/02/2024", "requester": "5"}, key="9")
    assert not required.ok
    assert required.rejected == "conversation.created_at from opened: '31/02/2024' is not a date this map can read"
    assert apply_map(m2, "t", {"opened": True, "requester": "5"}, key="9").rejected.startswith("conversation.created_at")


def test_a_required_field_left_empty_rejects_the_record_with_the_fields_named():
    m = ticket_map()
    out = apply_map(m, "t", {"opened": None, "requester": "  "}, key="3")
    assert out.rejected == (
        "conversation.contact is missing (requester empty); conversation.created_at is missing (opened empty)"
    )
    unmapped = one(K.PART, ("text", StandardTarget(field="body")))
    assert apply_map(unmapped, "t", {"text": "hi"}, key="1").rejected == "part.created_at is missing (not mapped)"


def test_a_placeholder_contact_satisfies_the_requester_of_records_without_one():
    m = one(K.CONVERSATION, ("opened", StandardTarget(field="created_at")),
            options=ObjectOptions(placeholder_contact="problems@helpmig.invalid", tag="problem"))
    out = apply_map(m, "t", {"opened": "2024-01-01"}, key="1")
    assert out.ok and out.references == {"placeholder_contact": "problems@helpmig.invalid"}
    assert out.tags == ["problem"]
    assert m.coverage() == {}


def test_html_to_text_keeps_paragraphs_links_and_drops_scripts():
    m = ticket_map(("body", StandardTarget(field="body"), HtmlToText()))
    html = ("<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>Ann</b>,</p>"
            "<p>see <a href='https://kb.example.com/1'>the guide</a><br>thanks</p>"
            "<script>alert(1)</script><ul><li>one</li><li>two</li></ul><p>broken <i>markup")
    out = apply_map(m, "t", {**OK, "body": html}, key="1")
    assert out.standard["body"] == (
        "Hello Ann,\n\nsee the guide (https://kb.example.com/1)\nthanks\n\n- one\n\n- two\n\nbroken markup"
    )
    assert apply_map(m, "t", {**OK, "body": "<p> </p>"}, key="1").standard.get("body") is None


def test_truncate_cuts_flags_and_tags_only_what_is_too_long():
    m = ticket_map(("note", AttributeTarget(name="ti_note"),
                    Truncate(max_length=5, tag="helpmig-truncated", flag_attribute="ti_cut")))
    cut = apply_map(m, "t", {**OK, "note": "abcdefgh"}, key="1")
    assert cut.attributes["ti_note"] == "abcde" and cut.attributes["ti_cut"] is True
    assert cut.tags == ["helpmig-truncated"]
    assert cut.flags[0].code == "truncated" and "cut from 8 to 5 characters" in cut.flags[0].message
    short = apply_map(m, "t", {**OK, "note": "abc"}, key="2")
    assert short.attributes["ti_note"] == "abc" and short.tags == [] and short.flags == []


def test_join_and_split():
    contacts = one(K.CONTACT, ("first", StandardTarget(field="name"), Join(fields=["last", "middle"])),
                   ("labels", TagTarget(prefix="kw:"), Split(separator=";")))
    out = apply_map(contacts, "t", {"first": "Ann", "last": "Lee", "middle": None, "labels": "vip; ;eu;"}, key="1")
    assert out.standard["name"] == "Ann Lee"
    assert out.tags == ["kw:vip", "kw:eu"]
    only_last = apply_map(contacts, "t", {"first": None, "last": "Lee"}, key="2")
    assert "name" not in only_last.standard  # a join starts from this field's own value


def test_lookup_resolves_keys_and_reports_missing_tables_and_keys():
    m = ticket_map(("status_id", StandardTarget(field="state"), Lookup(object="statuses", field="IsOpen"),
                    ValueMap(mapping={"true": "open", "false": "closed"})))
    lookups = {"statuses": {"1": {"IsOpen": "true"}, "2": {"IsOpen": "false"}}}
    assert apply_map(m, "t", {**OK, "status_id": 2}, key="1", lookups=lookups).standard["state"] == "closed"
    missing_key = apply_map(m, "t", {**OK, "status_id": 9}, key="1", lookups=lookups)
    assert missing_key.flags[0].code == "lookup_missing"
    no_table = apply_map(m, "t", {**OK, "status_id": 1}, key="1")
    assert no_table.flags[0].code == "lookup_unavailable"


def test_attribute_types_are_coerced_and_bad_numbers_are_flagged():
    m = ticket_map(
        ("n", AttributeTarget(name="n", data_type="integer")),
        ("f", AttributeTarget(name="f", data_type="float")),
        ("b", AttributeTarget(name="b", data_type="boolean")),
        ("s", AttributeTarget(name="s", data_type="string")),
        ("o", AttributeTarget(name="o", data_type="options")),
    )
    out = apply_map(m, "t", {**OK, "n": "1,204", "f": "2.5", "b": "Yes", "s": ["a", "b"], "o": 3.0}, key="1")
    assert {k: out.attributes[k] for k in "nfbso"} == {"n": 1204, "f": 2.5, "b": True, "s": "a, b", "o": "3"}
    bad = apply_map(m, "t", {**OK, "n": "12 pcs", "f": "n/a", "b": "maybe"}, key="2")
    assert bad.ok and {"n", "f", "b"}.isdisjoint(bad.attributes)
    assert sorted(f.code for f in bad.flags) == ["not_a_boolean", "not_a_number", "not_a_number"]
    assert apply_map(m, "t", {**OK, "n": "1.5"}, key="3").flags[0].message == "n left out: '1.5' is not a whole number"


def test_notes_tags_columns_and_list_references():
    m = ticket_map(
        ("sla", NoteTarget(label="SLA")),
        ("due", NoteTarget(label="Due")),
        ("kind", TagTarget(prefix="type:")),
        ("labels", StandardTarget(field="tags")),
    )
    out = apply_map(m, "t", {**OK, "sla": {"response": "1h"}, "due": datetime(2024, 1, 2, tzinfo=UTC),
                             "kind": "Incident", "labels": ["a", "type:Incident", "a"]}, key="1")
    assert out.notes == ["SLA: {'response': '1h'}", "Due: 2024-01-02T00:00:00+00:00"]
    assert out.tags == ["type:Incident", "a"]  # de-duplicated, first place kept
    csv = one(K.CSV, ("a", ColumnTarget(name="A")), ("b", ColumnTarget(name="B")), ("c", SkipTarget()))
    row = apply_map(csv, "t", {"a": 1, "b": datetime(2024, 1, 1, tzinfo=UTC), "c": "x"}, key="1")
    assert row.columns == {"A": 1, "B": "2024-01-01T00:00:00+00:00"} and row.attributes == {}
    parts = one(K.PART, ("text", StandardTarget(field="body")), ("at", StandardTarget(field="created_at")),
                ("who", StandardTarget(field="author", refers_to="users")))
    assert apply_map(parts, "t", {"text": "hi", "at": 0, "who": [None, 5.0]}, key="1").references == {"author": "5"}


def test_invalid_emails_are_flagged_and_never_sent():
    m = one(K.CONTACT, ("mail", StandardTarget(field="email")), ("phone", StandardTarget(field="phone")))
    out = apply_map(m, "t", {"mail": "not an email", "phone": 4930123456}, key="1")
    assert "email" not in out.standard and out.standard["phone"] == "4930123456"
    assert out.flags[0].code == "not_an_email"


def test_apply_refuses_objects_the_map_does_not_have_and_mappings_without_keys():
    m = ticket_map()
    with pytest.raises(MapError, match="not in the map"):
        apply_map(m, "nope", {}, key="1")
    with pytest.raises(MapError, match="needs its key"):
        apply_map(m, "t", {})


def test_apply_is_deterministic_and_never_raises_on_hostile_values():
    m = ticket_map(
        ("a", AttributeTarget(name="a", data_type="integer")),
        ("b", AttributeTarget(name="b", data_type="datetime"), DateToUnix()),
        ("c", StandardTarget(field="body"), HtmlToText(), Truncate(max_length=3)),
        ("d", StandardTarget(field="state"), ValueMap(mapping={})),
    )
    hostile = [object(), float("nan"), "\x00", "<" * 50, ["<p>", None], {"x": [1]}, -1e300, "9" * 400]
    for value in hostile:
        record = {**OK, "a": value, "b": value, "c": value, "d": value}
        first = apply_map(m, "t", record, key="1")
        second = apply_map(m, "t", record, key="1")
        assert first.ok
        assert (first.standard, first.attributes, first.flags) == (second.standard, second.attributes, second.flags)


def test_a_part_whose_visibility_cannot_be_read_is_an_internal_note():
    from helpmig_tui.mapping.apply import VISIBILITY_FLAG

    vm = ValueMap(mapping={"true": "note", "false": ""})
    m = one(K.PART, ("at", StandardTarget(field="created_at")), ("text", StandardTarget(field="body")),
            ("private", StandardTarget(field="direction"), vm), options=ObjectOptions(part_type="comment"))
    base = {"at": datetime(2024, 1, 1, tzinfo=UTC), "text": "hello"}
    public = apply_map(m, "t", {**base, "private": False}, key="1")
    assert "direction" not in public.standard and not public.flags  # public: its author decides
    assert apply_map(m, "t", {**base, "private": "TRUE"}, key="2").standard["direction"] == "note"
    for n, spoiled in enumerate((None, "", "  ", "Äà", "maybe", 7)):
        out = apply_map(m, "t", {**base, "private": spoiled}, key=f"s{n}")
        assert out.ok and out.standard["direction"] == "note", spoiled
        assert [(f.field, f.code) for f in out.flags] == [("private", VISIBILITY_FLAG)]
    # a direction read without a value map: a value that is not customer/agent/note is not guessed
    plain = one(K.PART, ("at", StandardTarget(field="created_at")), ("text", StandardTarget(field="body")),
                ("dir", StandardTarget(field="direction")))
    assert apply_map(plain, "t", {**base, "dir": "Agent"}, key="a").standard["direction"] == "agent"
    assert apply_map(plain, "t", {**base, "dir": "Outbound?"}, key="b").standard["direction"] == "note"


def test_a_fallback_source_fills_only_what_the_preferred_one_left_empty_and_says_so():
    # the map lists the fallback first: order in the map must not matter
    m = ticket_map(
        ("text", StandardTarget(field="body", fallback=True)),
        ("html", StandardTarget(field="body")),
        ("email", StandardTarget(field="contact", match="email", fallback=True)),
    )
    both = apply_map(m, "t", {**OK, "html": "<p>rich</p>", "text": "plain", "email": "a@b.example"}, key="1")
    assert both.standard["body"] == "<p>rich</p>" and both.references["contact"] == "42"
    assert not [f for f in both.flags if f.code == "fallback.used"]

    only_text = apply_map(m, "t", {**OK, "html": "", "text": "plain", "requester": None,
                                   "email": "a@b.example"}, key="2")
    assert only_text.standard["body"] == "plain"
    assert only_text.references["contact"] == "a@b.example" and only_text.reference_fields["contact"] == "email"
    used = sorted(f.field for f in only_text.flags if f.code == "fallback.used")
    assert used == ["email", "text"]


def test_a_fallback_target_is_not_a_field_mapped_twice():
    m = ticket_map(("text", StandardTarget(field="body", fallback=True)), ("html", StandardTarget(field="body")))
    assert not m.doubled()
    assert StandardTarget(field="body", fallback=True).describe() == "body (fallback)"
    twice = ticket_map(("text", StandardTarget(field="body")), ("html", StandardTarget(field="body")))
    assert twice.doubled()
