"""The proposer's evidence comes from the stored audit: structure and profiles survive."""

from __future__ import annotations

from connectors.base import FieldType, ObjectRole
from helpmig_tui.audit import run_audit
from helpmig_tui.audit_store import save_audit
from helpmig_tui.mapping.evidence import evidence_from_schema, evidence_from_store
from helpmig_tui.project import create_project
from tests.support.handmade import make_source


def test_evidence_from_the_store_matches_the_live_schema(paths, tmp_path):
    source = make_source()
    with create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "st.db"), "timezone": "Europe/Berlin"}) as store:
        save_audit(store, run_audit(source))
        stored = evidence_from_store(store)
    live = evidence_from_schema(source.describe())
    assert stored.platform == "smartertrack" and stored.timezone == "Europe/Berlin"
    assert [o.name for o in stored.objects] == sorted(o.name for o in live.objects)
    messages = stored.object("messages")
    assert messages.role is ObjectRole.PART
    assert (messages.parent, messages.parent_field, messages.created_field) == ("tickets", "ticket_id", "at")
    assert messages.field("body").type is FieldType.HTML
    assert messages.count == 304 and messages.field("body").filled == 304
    customers = stored.object("customers")
    assert customers.field("org_id").references == "orgs"
    email = customers.field("email")
    assert email.type is FieldType.EMAIL and "ann@acme.com" in email.samples
    assert dict(email.top_values)["ann@acme.com"] == 1
    assert customers.fill_rate(email) == 0.8
    assert customers.field("cf_notes").custom and customers.field("cf_notes").longest == 300
