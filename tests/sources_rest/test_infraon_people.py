"""Who wrote an Infraon entry, in the shapes tenants may send, and what the entry is."""

from __future__ import annotations

import pytest

from connectors.infraon.entries import DEFAULT_SYSTEM_TYPES, EntryRule, describe, has_text, parse_type_list
from connectors.infraon.people import Directory, Person, author_of, person, requester_of, teams_of, technicians_of


@pytest.mark.parametrize(("item", "expected"), [
    ({"created_by": {"full_name": "Tech 0", "email": "t0@x.example"}}, Person(None, "Tech 0", "t0@x.example", None)),
    ({"creator_info": {"id": 7, "name": "R", "email": "r@x.example", "user_type": "requester"}},
     Person("7", "R", "r@x.example", "requester")),
    ({"created_by": 12, "author": {"profile_id": 12, "display_name": "T", "email_id": "t@x.example"}},
     Person("12", "T", "t@x.example", "technician")),
    ({"created_by": 12}, Person("12", None, None, None)),
    ({"created_by": None, "author_email": "a@x.example"}, Person(None, None, "a@x.example", None)),
    ({"sender": {"requester_id": "r-1"}}, Person("r-1", None, None, "requester")),
    ({}, Person()),
])
def test_the_writer_is_found_where_tenants_put_it(item, expected):
    assert author_of(item, ["created_by.full_name"], ["created_by.email", "author_email"]) == expected


def test_a_writer_matches_by_id_only_when_the_entry_says_whose_id_it_is():
    technicians, requesters = Directory("technician"), Directory("requester")
    technicians.add("7", "Shared@X.example")
    requesters.add("7", "someone@x.example")
    requesters.add("8", "shared@x.example")
    assert technicians.match(Person("7", side="technician")) == "7"
    assert technicians.match(Person("7", side="requester")) is None  # same number, other people
    assert requesters.match(Person("7", side="requester")) == "7"
    assert technicians.match(Person(email=" SHARED@x.example ")) == "7"
    assert requesters.match(Person(email="nobody@x.example")) is None


def test_entries_get_their_side_and_changes_follow_the_rule():
    technicians, requesters = Directory("technician"), Directory("requester")
    technicians.add("1", "t@x.example")
    requesters.add("9", "r@x.example")
    rule = EntryRule(parse_type_list(", ".join(DEFAULT_SYSTEM_TYPES)))
    cases = [
        ({"type": "Reply", "is_private": False, "content": "<p>hi</p>"}, Person(email="t@x.example"), "message", "agent"),
        ({"type": "Email", "is_private": False, "content": "<p>hi</p>"}, Person("9", side="requester"), "message",
         "customer"),
        ({"type": "Add Notes", "content": "<p>n</p>"}, Person(email="t@x.example"), "note", "note"),
        ({"type": "Reply", "is_private": True, "content": "x"}, Person(email="t@x.example"), "note", "note"),
        ({"type": "priority change", "content": "<p> </p>"}, Person(email="t@x.example"), "system", "note"),
        ({"type": "Reply", "is_private": False, "content": "x"}, Person("77", side="technician"), "message",
         "agent"),  # unknown technician
        ({"type": "Reply", "is_private": False, "content": "x"}, Person(), "message", "customer"),
        # a flag that cannot be read leaves the side unknown: the map makes it an internal note
        ({"type": "Reply", "content": "x"}, Person(email="t@x.example"), "message", None),
    ]
    for data, who, kind, direction in cases:
        assert describe(data, who, technicians, requesters, rule, listed_as_note=False) == kind
        assert data["direction"] == direction, data
    system = {"type": "Status Change", "content": "<p></p>"}
    describe(system, Person(), technicians, requesters, rule, listed_as_note=False)
    assert system["content"] == "<p>Status Change</p>"


@pytest.mark.parametrize(("html", "text"), [("<p></p>", False), ("<p> &nbsp;<br/>\n</p>", False), ("", False),
                                           (None, False), ("<p>ok</p>", True), ("<img src='x'>", False), ("0", True)])
def test_text_is_seen_through_markup_and_spaces(html, text):
    assert has_text(html) is text


def test_people_are_taken_from_incident_options_and_items():
    options = {"users": [{"profile_id": 1, "full_name": "A", "email": "a@x.example"}, "junk"],
               "teams": [{"team_id": 5, "name": "L1", "staffs": [{"profile_id": 2, "name": "B", "email": "b@x.example"}],
                          "owner": [{"profile_id": 1}]}, {"id": 6, "team_name": "L2"}, "junk"]}
    rows = technicians_of(options, [{"profile_id": 3, "full_name": "C"}, {"email": "d@x.example"}])
    assert [r["profile_id"] for r in rows] == ["1", "2", "3", "d@x.example"]
    assert teams_of(options) == [{"team_id": "5", "name": "L1"}, {"team_id": "6", "name": "L2"}]
    assert technicians_of(None) == [] and teams_of({}) == []
    assert requester_of({"requester": {"id": 4, "name": "R", "email": "r@x.example", "organization_name": "O"}}) == {
        "requester_id": "4", "full_name": "R", "email": "r@x.example", "phone": None, "organization_name": "O"}
    assert requester_of({"requester_email": "Walk@In.example", "requester_name": "W"})["requester_id"] == "walk@in.example"
    assert requester_of({"requester": {}}) is None
    assert person([1, 2]) == Person() and person(True) == Person()
