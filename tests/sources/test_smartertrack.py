"""SmarterTrack on a generated database: counts, parts, people, lookups, skips, files, gaps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import FieldType, ObjectRole, SourceError
from connectors.samples import generate_smartertrack
from connectors.smartertrack import SmarterTrackSource
from tests.sources.helpers import copy_sample, no_secret, records

ROLES = {
    "tickets": ObjectRole.CONVERSATION,
    "messages": ObjectRole.PART,
    "comments": ObjectRole.PART,
    "customers": ObjectRole.CONTACT,
    "agents": ObjectRole.AGENT,
    "queues": ObjectRole.LOOKUP,
    "organizations": ObjectRole.COMPANY,
    "departments": ObjectRole.TEAM,
    "groups": ObjectRole.TEAM,
    "statuses": ObjectRole.LOOKUP,
    "priorities": ObjectRole.LOOKUP,
    "custom_fields": ObjectRole.LOOKUP,
    "kb_categories": ObjectRole.KB_CATEGORY,
    "kb_articles": ObjectRole.ARTICLE,
    "chats": ObjectRole.CONVERSATION,
    "chat_messages": ObjectRole.PART,
    "call_logs": ObjectRole.RECORD,
    "brands": ObjectRole.LOOKUP,
    "tags": ObjectRole.TAG,
}


def raw(manifest, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(manifest.database) as conn:
        return conn.execute(sql, args).fetchall()


def test_counts_and_roles_equal_the_ground_truth(st, st_manifest):
    schema = st.describe()
    assert {spec.name: spec.count for spec in schema.objects} == st_manifest.counts
    assert {spec.name: spec.role for spec in schema.objects} == ROLES
    assert schema.object("messages").parent == "tickets" and schema.object("messages").parent_field == "ticket_id"
    assert schema.object("chat_messages").parent == "chats"


def test_every_object_streams_its_count_in_keyset_pages(st, st_manifest):
    for name, count in st_manifest.counts.items():
        keys = [record.key for record in records(st, name, batch_size=7)]
        assert len(keys) == count, name
        assert len(set(keys)) == count, name
        assert keys == sorted(keys, key=lambda key: (len(key), key)), name  # integer keys, ascending


def test_messages_come_in_time_order_with_their_direction(st, st_manifest):
    huge = st_manifest.keys("over_500_parts", "tickets")[0]
    tickets = [record.key for record in records(st, "tickets")][:20] + [huge]
    thread = st.children("messages", tickets)
    assert len(thread[huge]) == 505
    expected = {
        str(mid): ("customer", "agent")[direction]
        for mid, direction in raw(st_manifest, "SELECT TicketMessageId, MessageDirection FROM st_TicketMessages")
    }
    for key, parts in thread.items():
        times = [part.data["sent_at"] for part in parts]
        assert times == sorted(times, key=lambda t: (t is not None, t)), key
        assert all(part.parent_key == key for part in parts)
        assert [part.data["direction"] for part in parts] == [expected[part.key] for part in parts]
    first = thread[huge][:4]
    assert [part.data["direction"] for part in first] == ["customer", "agent", "customer", "agent"]
    assert all(isinstance(part.data["sent_at"], datetime) and part.data["sent_at"].tzinfo is UTC for part in first)


def test_agents_customers_and_queues_are_told_apart(st, st_manifest):
    agents = {r.key: r for r in records(st, "agents")}
    customers = {r.key: r for r in records(st, "customers")}
    queues = {r.key: r for r in records(st, "queues")}
    queue_ids = {str(uid) for (uid,) in raw(st_manifest, "SELECT UserId FROM st_Users WHERE IsQueue = 1")}
    assert set(queues) == queue_ids
    assert not (set(agents) & set(customers)) and not (queue_ids & (set(agents) | set(customers)))
    in_groups = {str(uid) for (uid,) in raw(st_manifest, "SELECT UserId FROM st_UsersInGroups")}
    role_only = {
        str(uid) for (uid,) in raw(st_manifest, "SELECT UserId FROM st_UsersInRoles WHERE RoleId = 2")
    } - in_groups
    assert role_only and role_only <= set(agents)
    assert any(agent.data["is_primary_admin"] for agent in agents.values())
    users_role = {str(uid) for (uid,) in raw(st_manifest, "SELECT UserId FROM st_UsersInRoles WHERE RoleId = 4")}
    assert users_role and users_role <= set(customers)
    member = next(agent for agent in agents.values() if agent.key not in role_only)
    assert member.data["groups"] and member.data["roles"]
    assert "Password" not in str(st.describe().object("customers").field_names)
    assert all("password" not in name for name in st.describe().object("agents").field_names)


def test_lookups_are_resolved_into_names(st, st_manifest):
    rows = raw(
        st_manifest,
        """
        SELECT t.TicketId, COALESCE(NULLIF(s.DisplayName, ''), s.EnglishName), p.DisplayName, d.DisplayName, g.GroupName
        FROM st_Tickets t JOIN st_TicketStatuses s ON s.TicketStatusId = t.TicketStatusId
        JOIN st_TicketPriorities p ON p.TicketPriorityId = t.TicketPriorityId
        JOIN st_Departments d ON d.DepartmentId = t.DepartmentId JOIN st_Groups g ON g.GroupId = t.GroupId""",
    )
    expected = {str(row[0]): row[1:] for row in rows}
    tickets = records(st, "tickets")
    assert {
        (r.data["status"], r.data["priority"], r.data["department"], r.data["group"]) == expected[r.key]
        for r in tickets
    } == {True}
    statuses = {r.data["status"] for r in tickets}
    assert "Closed (Locked)" in statuses  # its DisplayName is empty: the English name stands in
    spec = st.describe().object("tickets").field("status")
    assert spec.type is FieldType.OPTIONS and spec.options == (
        "Open",
        "Waiting on customer",
        "Closed",
        "Closed (Locked)",
    )
    assert "Urgent!" in st.describe().object("tickets").field("priority").options
    comment_types = {r.data["type"] for r in records(st, "comments")}
    assert comment_types <= {"Comment", "Transfer", "Resolution"} and comment_types


def test_custom_fields_arrive_by_name(st, st_manifest):
    spec = st.describe().object("tickets")
    product = spec.field("cf_product")
    assert product.custom and product.label == "Product"
    values = {
        str(tid): value
        for tid, value in raw(
            st_manifest, "SELECT TicketId, DataContent FROM st_CustomDataFieldsInTickets WHERE CustomFieldId = 1"
        )
    }
    tickets = {r.key: r for r in records(st, "tickets")}
    assert {key: r.data["cf_product"] for key, r in tickets.items() if r.data["cf_product"]} == {
        key: value for key, value in values.items() if key in tickets
    }
    assert all(
        len(tickets[key].data["cf_contract_notes"]) > 255
        for key in st_manifest.keys("custom_field_over_255", "tickets")
    )
    assert all(
        len(tickets[key].data["cf_contract_notes"]) > 512
        for key in st_manifest.keys("custom_field_over_512", "tickets")
    )
    assert "cf_legacy_code" not in spec.field_names  # a definition nobody uses
    customers = st.describe().object("customers")
    assert {"cf_account_manager", "cf_vip"} <= set(customers.field_names)
    assert any(r.data["cf_vip"] == "True" for r in records(st, "customers"))


def test_deleted_spam_and_draft_rows_are_skipped_and_reported(st, st_manifest):
    st.describe()
    reported = {
        (f.object, f.code.removeprefix("source.skipped_")): f
        for f in st.findings
        if f.code.startswith("source.skipped_")
    }
    expected = {(obj, reason): keys for obj, reasons in st_manifest.skipped.items() for reason, keys in reasons.items()}
    assert set(reported) == set(expected)
    for ident, keys in expected.items():
        finding = reported[ident]
        assert finding.count == len(keys)
        assert list(finding.keys) == keys[:20]
    for obj, reasons in st_manifest.skipped.items():
        streamed = {r.key for r in records(st, obj)}
        assert not streamed & {key for keys in reasons.values() for key in keys}, obj


def test_include_deleted_reads_every_row(st_manifest):
    with SmarterTrackSource.from_options({**st_manifest.options, "include_deleted": True}, no_secret) as source:
        counts = {spec.name: spec.count for spec in source.describe().objects}
        assert counts["tickets"] == st_manifest.size
        skipped_messages = sum(len(keys) for keys in st_manifest.skipped["messages"].values())
        assert counts["messages"] == st_manifest.counts["messages"] + skipped_messages
        assert not [f for f in source.findings if f.code.startswith("source.skipped_")]
        flags = {r.key: (r.data["is_deleted"], r.data["is_spam"]) for r in records(source, "tickets")}
        assert {key for key, (deleted, _) in flags.items() if deleted} == set(st_manifest.skipped["tickets"]["deleted"])


def test_attachments_are_found_in_nested_folders_and_missing_ones_reported(st, st_manifest):
    refs = list(st.iter_attachments("messages"))
    assert len(refs) == st_manifest.attachment_counts["messages"]
    by_name = {f"{ref.record_key}/{ref.name}": ref for ref in refs}
    missing = {key for key, ref in by_name.items() if not ref.exists}
    assert missing == set(st_manifest.keys("missing_attachment", "messages"))
    assert all(
        by_name[key].size == 0 and by_name[key].exists for key in st_manifest.keys("zero_byte_attachment", "messages")
    )
    assert set(st_manifest.keys("restricted_attachment", "messages")) <= set(by_name)
    twin = by_name[st_manifest.keys("same_name_files", "messages")[0]]
    assert twin.size == 1500 and "decoy" not in twin.location  # matched by name and length
    root = Path(st_manifest.attachments)
    depths = {len(Path(ref.location).relative_to(root).parts) for ref in refs if ref.exists}
    assert max(depths) >= 4  # App_Data/Attachments/<year>/<month>/<file>
    crowded = st_manifest.keys("over_10_attachments", "messages")[0]
    [message] = st.get("messages", [crowded])
    per_message = st.attachments("messages", message)
    assert len(per_message) == 19 and per_message == [ref for ref in refs if ref.record_key == crowded]
    found = next(ref for ref in per_message if ref.exists and ref.size)
    with found.open() as stream:
        assert stream.read() == Path(found.location).read_bytes()
    for obj in ("tickets", "chats", "call_logs"):
        assert len(list(st.iter_attachments(obj))) == st_manifest.attachment_counts[obj], obj
    assert list(st.iter_attachments("customers")) == []


def test_without_an_attachments_folder_every_file_reads_as_missing(st_manifest):
    options = {key: value for key, value in st_manifest.options.items() if key != "attachments"}
    with SmarterTrackSource.from_options(options, no_secret) as source:
        refs = list(source.iter_attachments("messages"))
        assert refs and not any(ref.exists for ref in refs)
        assert [f.code for f in source.findings if f.code == "source.attachments_root_missing"] == [
            "source.attachments_root_missing"
        ]


def test_organizations_come_through_filters(st, st_manifest):
    orgs = {r.key: r for r in records(st, "organizations")}
    nodomain = orgs[st_manifest.keys("org_without_domain", "organizations")[0]]
    assert nodomain.data["domain"] is None and nodomain.data["domains"] == []
    shared = orgs[st_manifest.keys("org_shared_domain", "organizations")[0]]
    assert shared.data["domain"] == "gmail.com"
    customers = records(st, "customers")
    [user_filter] = raw(st_manifest, "SELECT UserId, OrganizationId FROM st_OrganizationFilters WHERE FilterType = 0")
    [email_filter] = raw(
        st_manifest, "SELECT FilterValue, OrganizationId FROM st_OrganizationFilters WHERE FilterType = 2"
    )
    by_domain = [
        c
        for c in customers
        if c.data["email"]
        and c.data["email"].endswith("@gmail.com")
        and c.data["email"] != email_filter[0]
        and c.key != str(user_filter[0])
    ]
    assert by_domain and {c.data["organization_id"] for c in by_domain} == {int(shared.key)}
    by_key = {c.key: c for c in customers}
    assert by_key[str(user_filter[0])].data["organization_id"] == user_filter[1]
    assert next(c for c in customers if c.data["email"] == email_filter[0]).data["organization_id"] == email_filter[1]
    assert by_key[str(user_filter[0])].data["organization"] == orgs[str(user_filter[1])].data["name"]


def test_kb_categories_keep_three_levels(st):
    categories = records(st, "kb_categories")
    assert {c.data["level"] for c in categories} == {1, 2, 3}
    deepest = next(c for c in categories if c.data["level"] == 3)
    assert deepest.data["path"].count(" / ") == 2


def test_get_children_and_since(st, st_manifest):
    every = records(st, "messages")
    chosen = [every[3].key, every[-1].key, "not-a-key", "999999"]
    assert [r.key for r in st.get("messages", chosen)] == sorted(chosen[:2], key=int)
    comments = st.children("comments", ["nope", every[0].parent_key])
    assert set(comments) == {"nope", every[0].parent_key} and comments["nope"] == []
    since = datetime(2023, 1, 1, tzinfo=UTC)
    recent = records(st, "messages", since=since)
    assert {r.key for r in recent} == {
        r.key for r in every if r.data["sent_at"] is not None and r.data["sent_at"] >= since
    }
    exact = next(r for r in every if r.data["sent_at"] and r.data["sent_at"].year == 2022)
    assert exact.key in {r.key for r in records(st, "messages", since=exact.data["sent_at"])}


def test_missing_optional_tables_and_columns_become_findings(st_manifest, tmp_path):
    path = copy_sample(st_manifest, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE st_Chats")
        conn.execute("DROP TABLE st_CustomDataFieldsForUsers")
        conn.execute("ALTER TABLE st_TicketMessages DROP COLUMN CcAddresses")
        conn.execute("ALTER TABLE st_Tickets DROP COLUMN AverageSurveyRating")
    with SmarterTrackSource.from_options({"sqlite": str(path)}, no_secret) as source:
        names = {spec.name for spec in source.describe().objects}
        assert "chats" not in names and "chat_messages" not in names
        assert source.describe().object("messages").count == st_manifest.counts["messages"]
        assert all(r.data["cc_addresses"] is None for r in records(source, "messages"))
        assert all(r.data["survey_rating"] is None for r in records(source, "tickets"))
        codes = {(f.code, f.object) for f in source.findings}
        missing = [f for f in source.findings if f.code == "source.column_missing"]
        assert missing and all(f.severity.value == "warning" for f in missing)  # the map must not trust them
        assert {
            ("source.object_unavailable", "chats"),
            ("source.object_unavailable", "chat_messages"),
            ("source.column_missing", "messages"),
            ("source.column_missing", "tickets"),
            ("source.object_unavailable", "customers custom fields"),
        } <= codes


def test_a_changed_table_prefix_is_a_setting(st_manifest, tmp_path):
    path = copy_sample(st_manifest, tmp_path)
    with sqlite3.connect(path) as conn:
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'st_%'"
        ).fetchall():
            conn.execute(f"ALTER TABLE {table} RENAME TO help_{table[3:]}")
    with SmarterTrackSource.from_options({"sqlite": str(path), "prefix": "help_"}, no_secret) as source:
        assert {spec.name: spec.count for spec in source.describe().objects} == st_manifest.counts
    with SmarterTrackSource.from_options({"sqlite": str(path)}, no_secret) as source:
        with pytest.raises(SourceError) as info:
            source.describe()
        assert info.value.code == "source.not_smartertrack" and "prefix" in info.value.hint
        check = source.check()
        assert not check.ok and "help_Tickets" in check.summary and check.details


def test_same_seed_same_desk_other_seed_other_desk(tmp_path):
    first = generate_smartertrack(tmp_path / "a", tickets=40, seed=1, large_body=1000)
    again = generate_smartertrack(tmp_path / "b", tickets=40, seed=1, large_body=1000)
    other = generate_smartertrack(tmp_path / "c", tickets=40, seed=2, large_body=1000)
    assert first.messy == again.messy and first.counts == again.counts
    dump = lambda path: list(sqlite3.connect(path).iterdump())  # noqa: E731
    assert dump(first.database) == dump(again.database)
    assert dump(first.database) != dump(other.database)
    assert first.counts["tickets"] + sum(len(k) for k in first.skipped["tickets"].values()) == 40
    written = first.write(tmp_path / "manifest.json")
    assert '"orphan_ticket"' in written.read_text(encoding="utf-8")


def test_columns_the_connector_does_not_read_are_listed_under_their_own_names(st_manifest, tmp_path):
    path = copy_sample(st_manifest, tmp_path)
    with sqlite3.connect(path) as conn:  # another version's name for the subject, and an integration's column
        conn.execute('ALTER TABLE st_Tickets RENAME COLUMN "Subject" TO "TicketSubject"')
        conn.execute('ALTER TABLE st_Tickets ADD COLUMN "ExternalRef" TEXT')
        conn.execute("UPDATE st_Tickets SET ExternalRef = 'EXT-' || TicketId")
    with SmarterTrackSource.from_options({"sqlite": str(path)}, no_secret) as source:
        tickets = source.describe().object("tickets")
        by_name = {f.name: f for f in tickets.fields}
        assert by_name["ticket_subject"].custom and by_name["ticket_subject"].label == "TicketSubject"
        assert by_name["external_ref"].type is FieldType.TEXT
        assert "ticket_status_id" not in by_name and "is_deleted" not in by_name  # read through joins and filters
        every = records(source, "tickets")
        subjects = {r.key: r.data["ticket_subject"] for r in every}
        assert subjects == dict(raw(st_manifest, "SELECT CAST(TicketId AS TEXT), Subject FROM st_Tickets "
                                                 "WHERE COALESCE(IsDeleted, 0) = 0 AND COALESCE(IsSpam, 0) = 0"))
        assert all(r.data["subject"] is None for r in every)
        assert {r.data["external_ref"] for r in every} == {f"EXT-{r.key}" for r in every}
