"""The audit primitives pushed down to SQL answer exactly what the streaming defaults answer."""

from __future__ import annotations

import pytest

from connectors.base import Source
from connectors.sql.objects import LONG_TEXT
from connectors.sql.pushdown import SHORT_TEXT

DUPLICATES = {
    "smartertrack": [
        ("customers", "email"),
        ("tickets", "customer_email"),
        ("tickets", "subject"),
        ("agents", "email"),
        ("tickets", "customer_id"),
    ],
    "trackit": [("hd_users", "email"), ("requesters", "email"), ("tickets", "requester_email"), ("tickets", "number")],
}
ORPHANS = {
    "smartertrack": [
        ("tickets", "customer_id", "customers"),
        ("messages", "parent", "tickets"),
        ("comments", "parent", "tickets"),
        ("kb_articles", "category_id", "kb_categories"),
        ("kb_categories", "parent_id", "kb_categories"),
        ("tickets", "agent_id", "agents"),
        ("chat_messages", "parent", "chats"),
        ("groups", "department_id", "departments"),
    ],
    "trackit": [
        ("tickets", "requester_id", "requesters"),
        ("notes", "parent", "tickets"),
        ("tickets", "technician_id", "technicians"),
        ("tickets", "status_id", "statuses"),
    ],
}
CHILDREN = {
    "smartertrack": [("tickets", "messages"), ("tickets", "comments"), ("chats", "chat_messages")],
    "trackit": [("tickets", "notes")],
}


@pytest.fixture(params=["smartertrack", "trackit"])
def source(request, st, ti):
    return st if request.param == "smartertrack" else ti


def test_profiles_agree_with_streaming_for_every_object(source):
    for spec in source.describe().objects:
        pushed = source.profile(spec.name)
        streamed = Source.profile(source, spec.name)
        assert (pushed.count, pushed.first_created, pushed.last_created) == (
            streamed.count,
            streamed.first_created,
            streamed.last_created,
        ), spec.name
        assert pushed.count == spec.count
        for field in spec.fields:
            mine, theirs = pushed.fields[field.name], streamed.fields[field.name]
            where = f"{spec.name}.{field.name}"
            assert (mine.filled, mine.min_value, mine.max_value, mine.samples) == (
                theirs.filled,
                theirs.min_value,
                theirs.max_value,
                theirs.samples,
            ), where
            if isinstance(theirs.samples[0] if theirs.samples else None, list):
                continue  # lists (memberships, options) have no length or domain in SQL
            assert mine.max_length == theirs.max_length, where
            if field.type in LONG_TEXT and (theirs.max_length or 0) > SHORT_TEXT:
                # bodies: never a small domain, not worth a DISTINCT over millions
                assert (mine.distinct, mine.top_values) == (None, []), where
                continue
            assert (mine.distinct, mine.top_values) == (theirs.distinct, theirs.top_values), where


def test_duplicates_agree_with_streaming(source):
    for name, field in DUPLICATES[source.platform]:
        for casefold in (True, False):
            pushed = source.duplicate_values(name, field, casefold=casefold, sample=3)
            assert pushed == Source.duplicate_values(source, name, field, casefold=casefold, sample=3), (name, field)
    assert any(source.duplicate_values(name, field) for name, field in DUPLICATES[source.platform])


def test_orphans_agree_with_streaming(source):
    for name, field, target in ORPHANS[source.platform]:
        assert source.orphan_keys(name, field, target, sample=5) == Source.orphan_keys(
            source, name, field, target, sample=5
        ), (name, field)


def test_child_counts_and_childless_parents_agree_with_streaming(source):
    for parent, child in CHILDREN[source.platform]:
        for over in (0, 3, 500):
            assert source.child_counts(child, over=over) == Source.child_counts(source, child, over=over), (child, over)
        assert source.childless_keys(parent, child, sample=4) == Source.childless_keys(source, parent, child, sample=4)


def test_the_planted_cases_are_what_the_primitives_find(st, st_manifest, ti, ti_manifest):
    assert st.duplicate_values("customers", "email")[0][2] == tuple(
        st_manifest.keys("duplicate_email_case", "customers")
    )
    assert st.orphan_keys("tickets", "customer_id", "customers") == (
        2,
        tuple(st_manifest.keys("orphan_ticket", "tickets")),
    )
    assert st.orphan_keys("messages", "parent", "tickets") == (2, tuple(st_manifest.keys("orphan_message", "messages")))
    assert st.orphan_keys("kb_articles", "category_id", "kb_categories") == (
        1,
        tuple(st_manifest.keys("article_missing_category", "kb_articles")),
    )
    assert st.childless_keys("tickets", "messages") == (
        2,
        tuple(st_manifest.keys("ticket_without_messages", "tickets")),
    )
    assert set(st.child_counts("messages", over=500)) == set(st_manifest.keys("over_500_parts", "tickets"))
    assert set(ti.child_counts("notes", over=500)) == set(ti_manifest.keys("over_500_parts", "tickets"))
    profile = st.profile("tickets")
    assert profile.fields["cf_contract_notes"].max_length == 600
    assert profile.fields["opened_at"].min_value.year == 1900 and profile.fields["opened_at"].max_value.year == 2099
    assert profile.fields["opened_at"].filled == st_manifest.counts["tickets"] - 1  # one null opening date


def test_unknown_objects_and_fields_are_key_errors(st):
    with pytest.raises(KeyError, match="no object 'nope'"):
        st.profile("nope")
    with pytest.raises(KeyError, match="no field 'nope'"):
        st.duplicate_values("customers", "nope")
    with pytest.raises(KeyError):
        st.child_counts("tickets")


def test_a_text_column_holding_a_pick_list_gets_its_domain_counted(st_manifest, tmp_path):
    import sqlite3

    from connectors.smartertrack import SmarterTrackSource
    from tests.sources.helpers import copy_sample, no_secret

    path = copy_sample(st_manifest, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute('ALTER TABLE st_Tickets ADD COLUMN "Site" TEXT')
        conn.execute("UPDATE st_Tickets SET Site = CASE TicketId % 3 WHEN 0 THEN 'Leeds' WHEN 1 THEN 'York' ELSE 'Hull' END")
    with SmarterTrackSource.from_options({"sqlite": str(path)}, no_secret) as source:
        pushed = source.profile("tickets").fields
        streamed = Source.profile(source, "tickets").fields
    assert pushed["site"].distinct == 3 == streamed["site"].distinct
    assert pushed["site"].top_values == streamed["site"].top_values
    assert pushed["site"].max_length == 5
