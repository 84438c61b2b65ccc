"""A conversation's priority, where the map targets Intercom's priority, lands as a tag
(API 2.16 returns the priority but cannot write it); "none" or a value Intercom does not
know puts none on."""

from __future__ import annotations

from helpmig_tui.mapping.apply import MappedRecord
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.conversations import PRIORITY_TAG, conversation_tags


def _ticket(priority, tags=()) -> MappedRecord:
    return MappedRecord("tickets", "1", TargetKind.CONVERSATION, "tickets:1", standard={"priority": priority},
                        tags=list(tags))


def test_the_priority_rides_as_one_tag_beside_the_maps_tags():
    assert conversation_tags(_ticket(" Urgent ", ["Billing"])) == ["Billing", f"{PRIORITY_TAG}urgent"]
    assert conversation_tags(_ticket("low")) == [f"{PRIORITY_TAG}low"]


def test_no_priority_tag_for_none_or_an_unknown_level():
    for value in (None, "", "none", "P1 - whenever", 3):
        assert conversation_tags(_ticket(value, ["Billing"])) == ["Billing"], value
