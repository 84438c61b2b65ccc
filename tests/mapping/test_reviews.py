"""What the proposer cannot settle alone goes to the operator: a renamed title column blocks
confirmation until resolved, and two sources for one title are never both accepted."""

from __future__ import annotations

import sqlite3

import pytest

from connectors.samples import generate_trackit
from connectors.trackit import TrackItSource
from helpmig_tui.audit import run_audit
from helpmig_tui.audit_store import save_audit
from helpmig_tui.mapping.model import SkipTarget, StandardTarget
from helpmig_tui.mapping.summary import proposal_lines
from helpmig_tui.mapping.versions import MapRequirementError, confirm, edit_field, latest, require_confirmed_map
from helpmig_tui.mapping.workflow import propose_for_project
from helpmig_tui.project import create_project, open_project

TICKETS = 40


@pytest.fixture
def renamed(paths, tmp_path):
    """A Track-It! project whose installation calls the subject column TKT_SUBJ, audited."""
    manifest = generate_trackit(tmp_path / "ti", tickets=TICKETS, seed=3, large_body=2000, attachment_files=False)
    with sqlite3.connect(manifest.database) as db:
        db.execute('ALTER TABLE tasks RENAME COLUMN "TASK" TO "TKT_SUBJ"')
    create_project(paths, "renamed", "trackit", dict(manifest.options)).close()
    with open_project(paths, "renamed") as store, TrackItSource.from_options(manifest.options, lambda _n: None) as source:
        result = run_audit(source)
        save_audit(store, result)
    return "renamed", result


def test_the_audit_warns_of_the_missing_column(renamed):
    _, result = renamed
    finding = next(f for f in result.findings if f.code == "source.column_missing" and "TASK" in f.message)
    assert finding.severity.value == "warning" and "tickets.subject stays empty" in finding.message


def test_a_renamed_title_column_blocks_confirmation_until_resolved(paths, renamed):
    project, _ = renamed
    with open_project(paths, project) as store:
        mmap = propose_for_project(store).map
        subject, stand_in = mmap.field_map("tickets", "subject"), mmap.field_map("tickets", "tkt_subj")
        assert isinstance(subject.target, SkipTarget) and subject.reason.startswith(f"empty in all {TICKETS} records")
        assert stand_in.target == StandardTarget(field="title") and stand_in.confidence < 0.9
        assert stand_in.reason.startswith(f"stands in for subject (subject is empty in all {TICKETS} records)")
        review = next(r for r in mmap.reviews if r.target == "title")
        assert review.kind == "gap" and review.fields[:2] == ["subject", "tkt_subj"]
        assert any(line.startswith("  tickets: title has no source of its own") for line in proposal_lines(latest(store)))

        # bulk confirmation, with or without a threshold, passes the two rows by
        for threshold in (0.0, None):
            result = confirm(store, None, min_confidence=threshold)
            assert not result.sealed and {"tickets.subject", "tickets.tkt_subj"} <= set(result.left)
        with pytest.raises(MapRequirementError) as err:
            require_confirmed_map(store)
        assert (f"tickets: title has no source of its own (subject is empty in all {TICKETS} records); "
                "tkt_subj looks like it; confirm or edit tickets.subject, tickets.tkt_subj one by one") in str(err.value)

        # one row decided is not enough; both are
        assert not confirm(store, ["tickets.tkt_subj"]).sealed
        result = confirm(store, ["tickets.subject"])
        assert result.sealed and result.left == []
        loaded = require_confirmed_map(store)
        assert loaded.field_map("tickets", "tkt_subj").target == StandardTarget(field="title")

        # an edit that gives the title a second source opens a draft that cannot be confirmed
        edit_field(store, "tickets", "subject", target=StandardTarget(field="title"))
        result = confirm(store, None)
        assert not result.sealed
        with pytest.raises(MapRequirementError) as err:
            require_confirmed_map(store)
        assert "tickets: title comes from subject and tkt_subj: keep one" in str(err.value)


def test_an_empty_required_source_is_a_blocker_that_names_its_candidates(paths, tmp_path):
    manifest = generate_trackit(tmp_path / "ti", tickets=TICKETS, seed=3, large_body=2000, attachment_files=False)
    with sqlite3.connect(manifest.database) as db:  # the open date moved to an unnamed column
        db.execute('ALTER TABLE tasks RENAME COLUMN "REQDATE" TO "F17"')
    create_project(paths, "dates", "trackit", dict(manifest.options)).close()
    with open_project(paths, "dates") as store, TrackItSource.from_options(manifest.options, lambda _n: None) as source:
        save_audit(store, run_audit(source))
        mmap = propose_for_project(store).map
        review = next(r for r in mmap.reviews if r.target == "created_at")
        assert review.fields == ["opened_at"] and review.candidates[0] == "f17"  # the unknown column first
        assert {"due_at", "closed_at"} <= set(review.candidates)  # every field whose values are dates
        assert mmap.coverage() == {"tickets": ["created_at"]}
        confirm(store, None)
        with pytest.raises(MapRequirementError) as err:
            require_confirmed_map(store)
        assert "tickets: conversation.created_at not mapped" in str(err.value)
        assert (f"tickets: created_at has no non-empty source (opened_at is empty in all {TICKETS} records); "
                "candidates: f17, ") in str(err.value)
