"""A Windows-1251 SMART export with Russian headers, loaded through the whole engine into the
sandbox: text arrives as written, private comments are internal notes, technicians write as
admins, line breaks survive, and the counts add up."""

from __future__ import annotations

import csv
from collections import Counter

from connectors.intercom.sandbox import DEFAULT_TOKEN, SANDBOX_URL, Sandbox
from helpmig_tui.audit import run_audit
from helpmig_tui.audit_store import decide, findings, save_audit
from helpmig_tui.mapping.versions import confirm
from helpmig_tui.mapping.workflow import propose_for_project
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.prepare import Resolutions
from helpmig_tui.pipeline.session import Destination, PipelineSession
from helpmig_tui.project import create_project, open_project, open_source
from helpmig_tui.settings import Secrets
from tests.sources_rest.smart_folders import RU, write_customer_export


async def test_a_russian_cp1251_export_loads_as_written(tmp_path, paths):
    expected = write_customer_export(tmp_path / "export", encoding="cp1251", n=24)
    create_project(paths, "ru", "smart-export", {"folder": str(tmp_path / "export"), "timezone": "Europe/Moscow"}).close()
    sandbox = Sandbox()
    # one teammate under the technician's email, the other under another address (matched by name):
    # both must write their comments as admins
    technician_admins = {expected.technicians[0]: sandbox.add_admin("Техник 0", expected.technicians[0]),
                         expected.technicians[1]: sandbox.add_admin("Техник 1", "t.one@acme-intercom.example")}
    secrets = Secrets(env={}, use_keyring=False)
    with open_project(paths, "ru") as store:
        with open_source(store, secrets) as source:
            save_audit(store, run_audit(source))
        for row in findings(store):
            assert row.severity != "blocker" or row.code.startswith("checklist."), row.code
            if row.code.startswith("checklist."):
                decide(store, row.id, "acknowledged")
        propose_for_project(store)
        confirm(store, None)
        resolutions = Resolutions.load(store)
        resolutions.fallback_contact = "unknown.requester@client.example"
        resolutions.save(store)
    target = Destination(SANDBOX_URL, DEFAULT_TOKEN, sandbox.transport())
    async with PipelineSession(paths, "ru", target) as session:
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done", result.message
    for report in result.reports:  # in = created + updated + skipped + rejected + failed + in doubt + queued
        for progress in report.objects:
            assert progress.unexplained == 0, (report.phase, progress)

    # tickets with no requester email at all (and those with an invalid one) go to the operator's
    # fallback contact, with their comments: nothing is rejected
    empty = {tid for tid, t in expected.tickets.items() if not t["requester_email"]}
    assert empty
    rejected = {row[2].removeprefix("tickets:") for report in result.reports for row in report.rows
                if row[1] == "tickets" and row[4] == "rejected"}  # kind, object, key, number, status, ...
    assert rejected == set()
    fallback = next(c for c in sandbox.state.store.all("contacts") if c.get("email") == resolutions.fallback_contact)
    conversations = list(sandbox.state.store.all("conversations"))
    assert len(conversations) == len(expected.tickets)
    with_fallback = {c["source"]["body"].split("\n")[0].removeprefix(f"{RU.subject} ") for c in conversations
                     if fallback["id"] in [str(x["id"]) for x in c["contact_refs"]]}
    assert {str(int(tid) - 1000) for tid in empty | set(expected.no_requester)} == with_fallback
    by_subject = {c["source"]["subject"] or c.get("title"): c for c in conversations}
    bodies = [c["source"]["body"] for c in conversations]
    first = next(b for b in bodies if b.startswith(f"{RU.subject} 0\n"))
    assert first == "\n".join((f"{RU.subject} 0", *RU.steps))  # the opening body is text, its lines kept
    assert by_subject  # titles arrive (the subject is the conversation's title)

    parts = [p for c in conversations for p in c["parts"] if p.get("part_type") in ("note", "comment")]
    loaded = [p for p in parts if "Attachments" not in (p.get("body") or "")]
    comments = expected.comments
    assert len(loaded) == len(comments)
    kinds = Counter(p["part_type"] for p in loaded)
    assert kinds["note"] == sum(1 for c in comments if c["is_private"])
    for part in loaded:
        if part["part_type"] == "note":
            assert part["author"]["type"] == "admin"
    admin_ids = set(technician_admins.values())
    by_technicians = [c for c in comments if c["author_email"] in expected.technicians]
    written_by_admins = [p for p in loaded if p["author"]["type"] == "admin" and str(p["author"]["id"]) in admin_ids]
    assert len(written_by_admins) == len(by_technicians)  # technicians are admins, never contacts
    contacts = {c.get("email") for c in sandbox.state.store.all("contacts")}
    assert not contacts & set(expected.technicians)
    # a ticket's requester typed in capitals is the customer's one contact
    twins = [e for e in contacts if (e or "").casefold() == expected.case_duplicate.casefold()]
    assert len(twins) == 1 and expected.case_duplicate != expected.case_duplicate.casefold()
    twin = next(c["id"] for c in sandbox.state.store.all("contacts") if c.get("email") == twins[0])
    ticket = next(t for t, v in expected.tickets.items() if v["requester_email"] == expected.case_duplicate)
    opened = next(c for c in conversations if c["source"]["body"].startswith(f"{RU.subject} {int(ticket) - 1000}\n"))
    assert [str(x["id"]) for x in opened["contact_refs"]] == [twin]
    steps = [p["body"] for p in loaded if RU.steps[0] in p["body"]]
    assert steps and all("<br>" in body and "\n" not in body.replace("</p>\n<p>", "") for body in steps)
    assert all("Íîâûé" not in b and "Øàãè" not in b for b in bodies + [p["body"] for p in loaded])


async def _scope_and_load(tmp_path, paths, name: str, fallback: str | None):
    expected = write_customer_export(tmp_path / name, encoding="utf-8-sig", n=12, shapes=False)
    create_project(paths, name, "smart-export", {"folder": str(tmp_path / name), "timezone": "Europe/Moscow"}).close()
    sandbox = Sandbox()
    with open_project(paths, name) as store:
        with open_source(store, Secrets(env={}, use_keyring=False)) as source:
            save_audit(store, run_audit(source))
        for row in findings(store):
            if row.code.startswith("checklist."):
                decide(store, row.id, "acknowledged")
        propose_for_project(store)
        confirm(store, None)
        resolutions = Resolutions.load(store)
        resolutions.fallback_contact = fallback
        resolutions.save(store)
    async with PipelineSession(paths, name, Destination(SANDBOX_URL, DEFAULT_TOKEN, sandbox.transport())) as session:
        scope = await session.check_scope()
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done", result.message
    for report in result.reports:
        for progress in report.objects:
            assert progress.unexplained == 0, (report.phase, progress)
    rows = [row for report in result.reports for row in report.rows if row[4] == "rejected"]
    return expected, sandbox, scope, rows


def _listed(scope) -> list[dict[str, str]]:
    """The rows of reports/not-migrated.csv the scope check wrote."""
    with open(scope.path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_tickets_naming_no_requester_follow_the_fallback_rule_in_scope_and_load(tmp_path, paths):
    """No fallback: the scope check names them and the load rejects them (and their comments) with
    the same reason; a fallback: neither names them, and they load under the fallback contact."""
    expected, sandbox, scope, rows = await _scope_and_load(tmp_path, paths, "nofb", None)
    empty = {tid for tid, t in expected.tickets.items() if not t["requester_email"]}
    invalid = set(expected.no_requester) - empty
    assert empty and invalid
    named = {(r["key"], r["code"]) for r in _listed(scope) if r["object"] == "tickets"}
    assert named == {(t, "conversation.requester_missing") for t in empty} | {(t, "contact.email_invalid") for t in invalid}
    assert {(r[2].removeprefix("tickets:"), r[5]) for r in rows if r[1] == "tickets"} == named
    lost = {c["ticket_id"] for c in expected.comments} & (empty | invalid)
    assert lost and {r[2] for r in rows if r[1] == "comments"} and all(
        "its conversation" in r[6] for r in rows if r[1] == "comments")
    assert len(list(sandbox.state.store.all("conversations"))) == len(expected.tickets) - len(named)

    expected, sandbox, scope, rows = await _scope_and_load(tmp_path, paths, "fb", "nobody@client.example")
    assert not [r for r in _listed(scope) if r["object"] in ("tickets", "comments")]
    assert not [r for r in rows if r[1] in ("tickets", "comments")]
    conversations = list(sandbox.state.store.all("conversations"))
    assert len(conversations) == len(expected.tickets)
    fallback = next(c for c in sandbox.state.store.all("contacts") if c.get("email") == "nobody@client.example")
    assert sum(1 for c in conversations if fallback["id"] in [str(x["id"]) for x in c["contact_refs"]]) == len(
        expected.no_requester)
