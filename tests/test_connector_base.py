"""The shared connector types: profiling in constant memory, specs, attachments."""

from datetime import UTC, datetime

import pytest

from connectors.base import (
    SMALL_DOMAIN,
    AttachmentRef,
    FieldSpec,
    FieldType,
    ObjectRole,
    ObjectSpec,
    Record,
    profile_records,
)

SPEC = ObjectSpec(
    name="tickets",
    role=ObjectRole.CONVERSATION,
    fields=(
        FieldSpec("id", FieldType.INTEGER),
        FieldSpec("status", FieldType.OPTIONS),
        FieldSpec("subject"),
        FieldSpec("opened", FieldType.DATETIME),
    ),
    created_field="opened",
)


def _batches(n: int):
    batch = []
    for i in range(n):
        batch.append(
            Record(
                "tickets",
                str(i),
                {
                    "id": i,
                    "status": "open" if i % 3 else "closed",
                    "subject": "" if i % 10 == 0 else f"subject {i}",
                    "opened": datetime(2020, 1, 1 + i % 28, tzinfo=UTC),
                },
            )
        )
        if len(batch) == 7:
            yield batch
            batch = []
    if batch:
        yield batch


def test_profile_counts_fill_distinct_and_range():
    prof = profile_records(SPEC, _batches(100))
    assert prof.count == 100
    assert prof.fields["subject"].filled == 90
    assert prof.fields["status"].distinct == 2
    assert dict(prof.fields["status"].top_values) == {"open": 66, "closed": 34}
    assert prof.fields["id"].distinct is None  # more than a small domain
    assert prof.fields["id"].min_value == 0 and prof.fields["id"].max_value == 99
    assert prof.first_created == datetime(2020, 1, 1, tzinfo=UTC)
    assert prof.last_created == datetime(2020, 1, 28, tzinfo=UTC)
    assert prof.fields["subject"].max_length == len("subject 99")
    assert len(prof.fields["subject"].samples) == 5


def test_profile_drops_domain_tracking_past_small_domain():
    prof = profile_records(SPEC, _batches(SMALL_DOMAIN * 3))
    assert prof.fields["subject"].distinct is None
    assert prof.fields["subject"].top_values == []


def test_spec_lookup_errors_name_the_object():
    with pytest.raises(KeyError, match="tickets has no field 'nope'"):
        SPEC.field("nope")
    assert SPEC.field_names == ("id", "status", "subject", "opened")


def test_missing_attachment_says_where():
    ref = AttachmentRef(name="a.pdf", size=None, content_type="application/pdf", record_key="1", location="D:/x/a.pdf")
    assert not ref.exists
    with pytest.raises(FileNotFoundError, match="D:/x/a.pdf"):
        ref.open()



def _memory_source(objects):
    from connectors.base import ConnectionCheck, Source, SourceSchema

    class MemorySource(Source):
        platform = "memory"

        @classmethod
        def from_options(cls, options, secret):
            return cls()

        def check(self):
            return ConnectionCheck(True, "memory")

        def describe(self):
            return SourceSchema("memory", tuple(spec for spec, _ in objects.values()))

        def iter_records(self, object, since=None, batch_size=500):
            rows = objects[object][1]
            for i in range(0, len(rows), 2):
                yield rows[i : i + 2]

    return MemorySource()


def test_streaming_duplicates_orphans_and_child_counts():
    users = ObjectSpec("users", ObjectRole.CONTACT, (FieldSpec("email", FieldType.EMAIL),))
    parts = ObjectSpec("messages", ObjectRole.PART, (FieldSpec("body"),), parent="tickets")
    tickets = ObjectSpec("tickets", ObjectRole.CONVERSATION, (FieldSpec("user_id"),))
    src = _memory_source(
        {
            "users": (users, [Record("users", "1", {"email": "A@x.com"}), Record("users", "2", {"email": "a@x.com "}),
                              Record("users", "3", {"email": "b@x.com"}), Record("users", "4", {"email": None})]),
            "tickets": (tickets, [Record("tickets", "10", {"user_id": "1"}), Record("tickets", "11", {"user_id": "9"}),
                                  Record("tickets", "12", {"user_id": None})]),
            "messages": (parts, [Record("messages", "m1", {}, parent_key="10"), Record("messages", "m2", {}, parent_key="10"),
                                 Record("messages", "m3", {}, parent_key="99")]),
        }
    )
    assert src.duplicate_values("users", "email") == [("a@x.com", 2, ("1", "2"))]
    assert src.orphan_keys("tickets", "user_id", "users") == (1, ("11",))
    assert src.orphan_keys("messages", "parent", "tickets") == (1, ("m3",))
    assert src.child_counts("messages") == {"10": 2, "99": 1}
    assert src.childless_keys("tickets", "messages") == (2, ("11", "12"))
    assert list(src.iter_attachments("tickets")) == []
