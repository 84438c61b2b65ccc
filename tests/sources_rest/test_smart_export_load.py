"""A Windows-1251 SMART export with Russian headers, loaded through the whole engine into the
sandbox: text arrives as written, private comments are internal notes, technicians write as
admins, line breaks survive, and the counts add up."""

from __future__ import annotations

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

    # tickets with no requester email at all are rejected with their reason (the fallback contact for
    # them is the pipeline's, issue 14); the audit named them before the load (test_smart_export_folders)
    empty = {tid for tid, t in expected.tickets.items() if not t["requester_email"]}
    rejected = {row[2].removeprefix("tickets:") for report in result.reports for row in report.rows
                if row[1] == "tickets" and row[4] == "rejected"}  # kind, object, key, number, status, ...
    assert rejected == empty
    conversations = list(sandbox.state.store.all("conversations"))
    assert len(conversations) == len(expected.tickets) - len(empty)
    by_subject = {c["source"]["subject"] or c.get("title"): c for c in conversations}
    bodies = [c["source"]["body"] for c in conversations]
    first = next(b for b in bodies if b.startswith(f"{RU.subject} 0\n"))
    assert first == "\n".join((f"{RU.subject} 0", *RU.steps))  # the opening body is text, its lines kept
    assert by_subject  # titles arrive (the subject is the conversation's title)

    parts = [p for c in conversations for p in c["parts"] if p.get("part_type") in ("note", "comment")]
    loaded = [p for p in parts if "Attachments" not in (p.get("body") or "")]
    comments = [c for c in expected.comments if c["ticket_id"] not in empty]
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
    steps = [p["body"] for p in loaded if RU.steps[0] in p["body"]]
    assert steps and all("<br>" in body and "\n" not in body.replace("</p>\n<p>", "") for body in steps)
    assert all("Íîâûé" not in b and "Øàãè" not in b for b in bodies + [p["body"] for p in loaded])
