"""Confirmation and versions: unconfirmed proposals, recorded changes, the loader's gate."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpmig_tui.mapping.model import AttributeTarget, ObjectOptions, StandardTarget
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.transforms import DateToUnix
from helpmig_tui.mapping.versions import (
    MapRequirementError,
    MapStateError,
    confirm,
    edit_field,
    edit_object,
    last_confirmed,
    latest,
    require_confirmed_map,
    require_confirmed_version,
    skip_field,
)
from helpmig_tui.mapping.workflow import allowed_targets, propose_for_project, retarget_object
from helpmig_tui.project import project_status
from helpmig_tui.state.models import FieldMap, MapChange, Run


def _complete(store, who="ann"):
    """Settle the hand-made source's gaps: the notes have no time, so they stay behind."""
    edit_field(store, "tickets", "customer_id", target=StandardTarget(field="contact", refers_to="customers"), who=who)
    retarget_object(store, "notes", K.SKIP, who=who)
    edit_object(store, "tickets", options=ObjectOptions(channel="email", parts_over_500="summarise"), who=who)
    skip_field(store, "customers", "cf_notes", who=who)


def test_a_proposal_starts_unconfirmed_and_the_gate_says_what_is_missing(store):
    version = propose_for_project(store, who="ann")
    assert version.version == 1 and version.status == "draft"
    assert all(not row.settled for row in version.map.rows())
    with pytest.raises(MapRequirementError) as err:
        require_confirmed_map(store)
    problems = err.value.problems
    assert problems[0] == "8 objects and 18 fields unconfirmed"
    assert problems[1:] == ["notes: part.created_at not mapped"]
    assert str(err.value).startswith("the field map is not ready: 8 objects and 18 fields unconfirmed; ")
    change = _changes(store)[-1]
    assert (change.action, change.actor, change.object, change.after["proposer"]) == ("reset", "ann", "*", "builtin")


def test_there_is_no_map_before_a_proposal(store):
    with pytest.raises(MapRequirementError, match="there is no field map yet"):
        require_confirmed_map(store)
    with pytest.raises(MapStateError, match="there is no field map yet"):
        confirm(store)


def test_confirming_above_a_threshold_leaves_the_weaker_rows(store):
    proposal = propose_for_project(store).map
    weak = sorted(row.key for row in proposal.rows() if row.confidence < 0.9)
    assert weak  # the hand-made source has fields only the names explain
    result = confirm(store, min_confidence=0.9, who="ann")
    assert sorted(result.left) == weak
    assert set(result.confirmed).isdisjoint(weak) and not result.sealed
    skipped = [k for k in result.confirmed if "." in k and latest(store).map.field_map(*k.split(".")).status == "skipped"]
    assert "messages.ticket_id" in skipped  # confirming a skip records it as skipped
    rows = [c for c in _changes(store) if c.action == "confirm"]
    assert len(rows) == len(result.confirmed)
    assert rows[0].actor == "ann" and rows[0].before["status"] == "proposed" and rows[0].after["status"] in (
        "confirmed", "skipped")


def test_a_complete_confirmed_map_becomes_a_version_with_time_hash_and_who(store):
    propose_for_project(store)
    _complete(store)
    result = confirm(store, who="ann")
    assert result.sealed and result.left == []
    version = result.version
    assert version.status == "confirmed" and version.confirmed_by == "ann" and version.confirmed_at is not None
    assert version.hash == version.map.hash() and len(version.hash) == 64
    mmap = require_confirmed_map(store)
    assert mmap.hash() == version.hash
    gate = require_confirmed_version(store)
    assert (gate.version, gate.hash, gate.status) == (version.version, version.hash, "confirmed")
    assert mmap.reference("tickets", "contact").refers_to == "customers"
    assert project_status(store).stage == "mapped" and project_status(store).map_status == "confirmed"


def test_an_edit_after_confirmation_opens_a_new_draft_until_it_is_confirmed_again(store):
    propose_for_project(store)
    _complete(store)
    first = confirm(store, who="ann").version
    edited = edit_field(store, "tickets", "opened", target=StandardTarget(field="created_at"),
                        transforms=[DateToUnix(timezone="Europe/Berlin")], who="bob")
    assert edited.version == first.version + 1 and edited.status == "draft"
    assert _status(store, first.version) == "confirmed"  # still the one in force
    with pytest.raises(MapRequirementError, match="1 field unconfirmed"):
        require_confirmed_map(store)
    change = _changes(store)[-1]
    assert (change.action, change.actor, change.object, change.field) == ("edit", "bob", "tickets", "opened")
    assert change.before["transforms"] == [] and change.after["transforms"][0]["timezone"] == "Europe/Berlin"
    assert change.after["status"] == "edited" and change.version == edited.version
    second = confirm(store, ["tickets.opened"], who="bob").version
    assert second.status == "confirmed" and second.hash != first.hash
    assert _status(store, first.version) == "superseded"
    assert last_confirmed(store, before=second.version).version == first.version


def test_the_gate_refuses_a_map_changed_since_the_sample_run(store):
    propose_for_project(store)
    _complete(store)
    sampled = confirm(store).version
    with store.session() as session:
        session.add(Run(kind="sample", status="done", map_version=sampled.version, map_hash=sampled.hash))
    assert require_confirmed_map(store).hash() == sampled.hash  # unchanged: fine
    edit_field(store, "customers", "name", target=AttributeTarget(name="st_display_name"))
    with pytest.raises(MapRequirementError) as err:
        require_confirmed_map(store)
    assert err.value.problems[0] == (
        f"the map changed since the sample run (version {sampled.version}, hash {sampled.hash[:12]}): confirm it again"
    )
    confirm(store, ["customers.name"])
    assert require_confirmed_map(store).field_map("customers", "name").target.name == "st_display_name"


def test_a_tampered_stored_map_is_refused(store):
    propose_for_project(store)
    _complete(store)
    confirm(store)
    with store.session() as session:
        row = session.scalars(select(FieldMap)).all()[-1]
        body = dict(row.body)
        body["timezone"] = "Asia/Tokyo"
        row.body = body
    with pytest.raises(MapRequirementError, match="does not match its hash"):
        require_confirmed_map(store)


def test_edits_are_checked_against_the_objects_kind(store):
    propose_for_project(store)
    with pytest.raises(MapStateError, match="conversation has no standard field 'email'"):
        edit_field(store, "tickets", "subject", target=StandardTarget(field="email"))
    with pytest.raises(MapStateError, match="tickets.nope is not in the map"):
        confirm(store, ["tickets.nope"])


def test_a_new_proposal_keeps_the_operators_decisions(store):
    propose_for_project(store)
    edit_field(store, "customers", "name", target=AttributeTarget(name="st_display_name"))
    confirm(store, ["tickets.subject"])
    again = propose_for_project(store)
    assert again.version == 2
    assert again.map.field_map("customers", "name").status == "edited"
    assert again.map.field_map("customers", "name").target.name == "st_display_name"
    assert again.map.field_map("tickets", "subject").status == "confirmed"
    assert again.map.field_map("tickets", "opened").status == "proposed"
    assert latest(store).version == 2 and _status(store, 1) == "superseded"


def test_a_record_object_can_be_sent_elsewhere_and_its_fields_are_proposed_for_it(store):
    propose_for_project(store)
    assert allowed_targets(store, "tickets") == [K.CONVERSATION, K.SKIP]
    version = retarget_object(store, "tickets", K.SKIP, who="ann")
    om = version.map.object_map("tickets")
    assert om.target is K.SKIP and om.status == "edited" and "chosen by ann" in om.reason
    assert version.map.fields_of("tickets") == [] and "tickets" not in version.map.coverage()
    with pytest.raises(MapStateError, match="tickets cannot become custom_object"):
        retarget_object(store, "tickets", K.CUSTOM_OBJECT)
    back = retarget_object(store, "tickets", K.CONVERSATION)
    assert [f.field for f in back.map.fields_of("tickets")] == ["subject", "customer_id", "opened"]


def test_an_audit_from_before_schema_3_asks_for_a_new_audit(store):
    from helpmig_tui.state.models import SourceObject

    with store.session() as session:
        session.get(SourceObject, "tickets").spec = {}
    with pytest.raises(MapStateError, match="taken by an older helpmig") as err:
        propose_for_project(store)
    assert err.value.hint == "run the audit again: helpmig audit P"
    assert latest(store) is None


def _status(store, version: int) -> str:
    with store.reader() as session:
        return session.get(FieldMap, version).status


def _changes(store) -> list[MapChange]:
    with store.reader() as session:
        return list(session.scalars(select(MapChange).order_by(MapChange.id)))
