"""Scope rules as data: the map leaves private (agents-only) articles out, the scope check
names them before the load, the load counts them as skipped and sends none; an operator
who includes them gets them as drafts."""

from __future__ import annotations

import csv
import sqlite3

from connectors.base import FieldType, ObjectRole
from helpmig_tui.demo import prepare_demo
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence
from helpmig_tui.mapping.model import ScopeRule
from helpmig_tui.mapping.propose import propose_object
from helpmig_tui.mapping.versions import confirm, include_left_out, latest
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths


def _private(home) -> dict[str, str]:
    """key -> a title made unique, for the private articles the default read returns."""
    db = next(home.rglob("*.db"), None) or next(home.rglob("*.sqlite"))
    with sqlite3.connect(db) as con:
        con.execute("UPDATE st_KbArticles SET Subject = Subject || ' #' || KbArticleId")
        return {str(k): t for k, t in con.execute("SELECT KbArticleId, Subject FROM st_KbArticles WHERE IsPrivate = 1 "
                                                 "AND COALESCE(IsDraft, 0) = 0 AND COALESCE(IsDeleted, 0) = 0")}


async def test_private_articles_are_named_before_the_load_and_never_sent(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", 40)
    private = _private(tmp_path / "home")
    assert private
    with open_project(demo.paths, demo.project) as store:
        rules = latest(store).map.object_map("kb_articles").options.skip_when
    assert [(r.field, r.code) for r in rules] == [("is_private", "article.private")]
    async with demo.session() as session:
        await session.plan()
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done"
    titles = {a["title"] for a in demo.sandbox.store.all("articles")}
    assert titles and not titles & set(private.values())
    with open(paths.reports_dir(demo.project) / "not-migrated.csv", encoding="utf-8") as handle:
        listed = [row for row in csv.DictReader(handle) if row["code"] == "article.private"]
    assert {r["key"] for r in listed} == set(private) and {r["status"] for r in listed} == {"skipped"}
    articles = next(o for r in result.reports for o in r.objects if o.object == "kb_articles")
    assert articles.skipped >= len(private)
    assert articles.read == articles.created + articles.updated + articles.skipped + articles.rejected


async def test_an_operator_who_includes_them_gets_drafts(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", 40)
    private = set(_private(tmp_path / "home").values())
    with open_project(demo.paths, demo.project) as store:
        version = include_left_out(store, "kb_articles:article.private")
        assert version.map.object_map("kb_articles").options.skip_when == []
        assert confirm(store, ["kb_articles"]).sealed
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
    states = {a["title"]: a["state"] for a in demo.sandbox.store.all("articles")}
    assert private <= set(states) and {states[t] for t in private} == {"draft"}


def _article(*fields: tuple[str, FieldType]) -> ObjectEvidence:
    return ObjectEvidence("solutions", ObjectRole.ARTICLE, tuple(FieldEvidence(n, t) for n, t in fields))


def test_an_unseen_article_schema_gets_the_rule_from_its_flag_and_a_rule_on_a_missing_field_goes():
    internal = propose_object(_article(("title", FieldType.STRING), ("internal_only", FieldType.BOOLEAN)), None, "x")
    assert internal.options.skip_when[0].field == "internal_only"
    assert internal.options.skip_when[0].matches({"internal_only": True})
    assert not internal.options.skip_when[0].matches({"internal_only": 0})
    public = propose_object(_article(("title", FieldType.STRING), ("IsPublic", FieldType.BOOLEAN)), None, "x")
    rule = public.options.skip_when[0]
    assert rule.matches({"IsPublic": "False"}) and rule.matches({"IsPublic": 0}) and not rule.matches({"IsPublic": 1})
    assert not rule.matches({"IsPublic": None})  # unknown is not private: the article stays
    none = propose_object(_article(("title", FieldType.STRING), ("body", FieldType.HTML)), None, "x")
    assert none.options.skip_when == []


def test_scope_rules_compare_trimmed_case_folded_text():
    rule = ScopeRule(field="v", values=["Yes", "1"], code="c", reason="r")
    assert rule.matches({"v": " yes "}) and rule.matches({"v": 1.0}) and rule.matches({"v": True}) is False


async def test_the_scope_is_checked_again_when_the_fallback_contact_changes(tmp_path):
    """A scope check made before the operator named a fallback contact said the tickets with no
    requester "will be rejected"; the load checks the scope again, and says no such thing."""
    from helpmig_tui.audit_store import findings
    from helpmig_tui.pipeline.prepare import Resolutions

    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", 20)
    no_requester = ("tickets", "contact.email_missing")

    def named() -> set[tuple[str, str]]:
        with open_project(demo.paths, demo.project) as store:
            return {(f.object, f.code) for f in findings(store) if f.code.startswith(("contact.", "conversation."))}

    with open_project(demo.paths, demo.project) as store:
        resolutions = Resolutions.load(store)
        fallback, resolutions.fallback_contact = resolutions.fallback_contact, None
        resolutions.save(store)
    async with demo.session() as session:
        await session.check_scope()
    assert no_requester in named()
    with open_project(demo.paths, demo.project) as store:
        resolutions = Resolutions.load(store)
        resolutions.fallback_contact = fallback
        resolutions.save(store)
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
    assert no_requester not in named()
