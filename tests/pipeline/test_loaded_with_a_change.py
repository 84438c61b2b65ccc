"""What mapping changed on records that loaded is counted in the phase report: a fallback
source used where the preferred one is empty, not silently, and not for the others."""

from __future__ import annotations

import sqlite3

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.settings import resolve_paths


async def test_messages_with_no_html_body_load_their_text_and_the_report_counts_them(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", 12)
    db = next((tmp_path / "home").rglob("*.db"), None) or next((tmp_path / "home").rglob("*.sqlite"))
    with sqlite3.connect(db) as con:
        blanked = con.execute("UPDATE st_TicketMessages SET BodyHtml = NULL, BodyText = 'plain words ' || "
                              "TicketMessageId WHERE TicketMessageId % 3 = 0 AND COALESCE(IsDraft, 0) = 0 "
                              "AND BodyText IS NOT NULL").rowcount
    assert blanked
    async with demo.session() as session:
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done"
    bodies = [p["body"] for c in demo.sandbox.store.all("conversations") for p in c["parts"]] + \
             [c["source"]["body"] for c in demo.sandbox.store.all("conversations")]
    assert sum("plain words" in (b or "") for b in bodies) >= 1
    report = next(p for p in paths.reports_dir(demo.project).iterdir() if p.name.endswith("-conversations.md"))
    text = report.read_text(encoding="utf-8")
    assert "## Loaded with a change" in text
    row = next(line for line in text.splitlines() if "| fallback.used |" in line and line.startswith("| messages"))
    counted = int(row.split("|")[3])
    assert 1 <= counted <= blanked
