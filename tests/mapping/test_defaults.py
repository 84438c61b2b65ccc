"""The shipped default maps: valid for every platform, and true to the seeds."""

from __future__ import annotations

import pytest

from connectors.base import ObjectRole
from helpmig_tui.mapping.defaults import PLATFORMS, DefaultMapError, load_default_map, norm
from helpmig_tui.mapping.model import target_problem
from helpmig_tui.mapping.standard import TargetKind as K


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_default_map_loads_and_every_field_fits_its_object(platform):
    defaults = load_default_map(platform)
    assert defaults.platform == platform
    assert defaults.attribute_prefix
    for name, entry in defaults.objects.items():
        if entry.choices:
            assert entry.target in entry.choices, name
        for field, spec in entry.fields.items():
            assert target_problem(entry.target, spec.target()) is None, f"{name}.{field}"
            for preferred in spec.yield_to:
                assert entry.find_field(preferred) is not None, f"{name}.{field} yields to unknown {preferred}"
        keys = [norm(k) for k in entry.fields] + [norm(a) for f in entry.fields.values() for a in f.aliases]
        assert len(keys) == len(set(keys)), f"{name}: a field name or alias is listed twice"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_default_map_covers_the_required_fields_of_its_conversations(platform):
    defaults = load_default_map(platform)
    for name, entry in defaults.objects.items():
        if entry.target is K.CONVERSATION and entry.role is ObjectRole.CONVERSATION:
            standard = {f.standard for f in entry.fields.values() if f.standard}
            assert {"contact", "created_at", "title"} <= standard, name


def test_the_seeds_lossy_objects_offer_the_operator_a_choice():
    itsm = load_default_map("itsm365")
    for name in ("problems", "change_requests"):
        assert itsm.objects[name].target is K.CUSTOM_OBJECT
        assert {K.CUSTOM_OBJECT, K.CONVERSATION} <= set(itsm.objects[name].choices)
    smart = load_default_map("smart-export")
    assert smart.objects["releases"].target is K.CONVERSATION and smart.objects["releases"].options.tag == "release"
    assert smart.objects["assets"].target is K.CONTACT  # seed: asset -> contact with attributes
    assert load_default_map("trackit").objects["assets"].target is K.COMPANY  # seed: asset -> company
    st = load_default_map("smartertrack")
    assert st.objects["call_logs"].options.custom_object_type == "Call"
    assert st.objects["chats"].options.channel == "chat"
    inventory = {p: [n for n, o in load_default_map(p).objects.items() if o.target is K.INVENTORY] for p in PLATFORMS}
    assert all(inventory.values()), inventory


def test_objects_are_found_by_name_alias_or_their_only_role():
    st = load_default_map("smartertrack")
    assert st.find_object("tickets", ObjectRole.CONVERSATION)[0] == "tickets"
    assert st.find_object("Ticket_Messages", ObjectRole.PART)[0] == "messages"  # alias, any case
    assert st.find_object("whatever", ObjectRole.AGENT)[0] == "agents"  # the only agent entry
    assert st.find_object("whatever", ObjectRole.CONVERSATION) is None  # tickets and chats: ambiguous
    entry = st.objects["tickets"]
    assert entry.find_field("OpenedAt") is entry.fields["opened_at"]
    assert entry.find_field("customerEmail") is entry.fields["customer_email"]


def test_an_unknown_platform_has_no_default_map():
    with pytest.raises(DefaultMapError, match="no default map for platform 'zendesk'"):
        load_default_map("zendesk")
