"""Export headers in the customer's language, read with the mapping proposer's vocabulary.

A SMART Service Desk export names its columns as whoever set up the export chose
("Тема", "Email заявителя", "Дата создания"). The connector finds its layout's own names
itself; the headers left over are matched here, with the words of `vocabulary.py`, and
handed back as {layout field: header index}. Connectors cannot import the engine, so the
engine gives the connector this matcher when it opens a source (`with_vocabulary`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from connectors.base import Source
from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.vocabulary import _same  # one notion of "the same word" for names and headers
from helpmig_tui.mapping.vocabulary import COLUMN_WORDS, NOISE, SYNONYMS

K = TargetKind
MIN_SCORE = 0.75
# the proposer's noise ("ticket" before a field's name) but the words a column concept uses
_IGNORED = NOISE - {word for phrases in COLUMN_WORDS.values() for phrase in phrases for word in phrase.split()}
_FILLER = {"по", "для", "в", "на", "и", "к", "с", "of", "the", "to", "de", "du", "der", "die", "das"}


def _std(kind: TargetKind, field: str) -> tuple[str, ...]:
    return SYNONYMS[kind][field]


def _col(concept: str) -> tuple[str, ...]:
    return COLUMN_WORDS[concept]


# Per object, per layout field: alternatives, each a list of concepts (phrase lists) that
# must all be named by the header.
FIELD_WORDS: dict[str, dict[str, list[list[tuple[str, ...]]]]] = {
    "tickets": {
        "ticket_id": [[_col("id")], [_col("ticket"), _col("id")]],
        "subject": [[_std(K.CONVERSATION, "title")]],
        "description": [[_std(K.CONVERSATION, "body")]],
        "status": [[_std(K.CONVERSATION, "state")]],
        "priority": [[_col("priority")]],
        "type": [[_col("type")]],
        "category": [[_col("category")]],
        "requester_email": [[_std(K.CONVERSATION, "contact"), _col("email")]],
        "requester_name": [[_std(K.CONVERSATION, "contact")], [_std(K.CONVERSATION, "contact"), _col("name")]],
        "assignee_email": [[_std(K.CONVERSATION, "assignee"), _col("email")], [_std(K.CONVERSATION, "assignee")]],
        "team": [[_std(K.CONVERSATION, "team")]],
        "organization": [[_std(K.CONVERSATION, "company")]],
        "created_at": [[_std(K.CONVERSATION, "created_at")]],
        "updated_at": [[_col("updated")]],
        "closed_at": [[_col("closed")]],
        "channel": [[_col("channel")]],
        "tags": [[_std(K.CONVERSATION, "tags")]],
    },
    "comments": {
        "comment_id": [[_col("id")], [_col("comment"), _col("id")]],
        "ticket_id": [[_col("ticket")], [_col("ticket"), _col("id")]],
        "body": [[_std(K.PART, "body")]],
        "created_at": [[_std(K.PART, "created_at")]],
        "author_email": [[_std(K.PART, "author"), _col("email")]],
        "author_name": [[_std(K.PART, "author")], [_std(K.PART, "author"), _col("name")]],
        "is_private": [[_std(K.PART, "direction")]],
        "is_html": [[_col("html")]],
    },
    "users": {
        "user_id": [[_col("id")], [_col("user"), _col("id")]],
        "email": [[_std(K.CONTACT, "email")], [_col("email")]],
        "name": [[_std(K.CONTACT, "name")]],
        "phone": [[_std(K.CONTACT, "phone")]],
        "organization": [[_std(K.CONTACT, "company")]],
        "role": [[_col("role")]],
        "active": [[_col("active")]],
        "login": [[_col("login")]],
        "department": [[_col("department")]],
    },
    "organizations": {
        "org_id": [[_col("id")], [_col("organization"), _col("id")]],
        "name": [[_std(K.COMPANY, "name")]],
        "domain": [[_std(K.COMPANY, "website")]],
    },
    "kb_articles": {
        "article_id": [[_col("id")], [_col("article"), _col("id")]],
        "title": [[_std(K.ARTICLE, "title")]],
        "body": [[_std(K.ARTICLE, "body")]],
        "category": [[_col("category")]],
        "summary": [[_col("summary")]],
        "is_public": [[_col("public")]],
        "created_at": [[_std(K.CONVERSATION, "created_at")]],
        "updated_at": [[_col("updated")]],
    },
    "attachments": {
        "attachment_id": [[_col("id")]],
        "ticket_id": [[_col("ticket")], [_col("ticket"), _col("id")]],
        "comment_id": [[_col("comment")], [_col("comment"), _col("id")]],
        "file_path": [[_col("file")]],
        "file_name": [[_col("file name")]],
        "created_at": [[_std(K.CONVERSATION, "created_at")]],
    },
}


def _covered(tokens: list[str], phrase: str) -> set[int] | None:
    """The tokens a phrase names, or None when one of its words is missing."""
    used: set[int] = set()
    for word in phrase.split():
        hits = [i for i, t in enumerate(tokens) if _same(word, t)]
        if not hits:
            return None
        used.update(hits)
    return used


def header_score(header: str, alternatives: list[list[tuple[str, ...]]]) -> float:
    """0..1: how wholly the header names one of the field's alternatives (0: it does not)."""
    tokens = [t for t in words(header) if t not in _IGNORED and t not in _FILLER and not t.isdigit()]
    if not tokens:
        return 0.0
    best = 0.0
    for concepts in alternatives:
        used: set[int] = set()
        for phrases in concepts:
            spans = [c for c in (_covered(tokens, p) for p in phrases) if c is not None]
            if not spans:
                break
            used |= max(spans, key=len)
        else:
            best = max(best, 0.55 + 0.45 * len(used) / len(tokens))
    return best


def match_headers(obj: str, fields: Sequence[str], headers: Sequence[str]) -> dict[str, int]:
    """{layout field: index into `headers`} for the headers that name a field wholly enough;
    each field and each header at most once, the best-named pairs first."""
    known = FIELD_WORDS.get(obj, {})
    pairs = []
    for f in fields:
        if f not in known:
            continue
        for i, header in enumerate(headers):
            score = header_score(header, known[f])
            if score >= MIN_SCORE:
                pairs.append((score, f, i))
    found: dict[str, int] = {}
    taken: set[int] = set()
    for _score, f, i in sorted(pairs, key=lambda p: (-p[0], p[2])):
        if f not in found and i not in taken:
            found[f] = i
            taken.add(i)
    return found


def with_vocabulary(source: Source) -> Source:
    """A source that reads headers people wrote learns the proposer's words; others pass through."""
    # only that connector reads headers; not imported yet, the source is not one of it (and
    # importing it for the check would cost every other source's start-up)
    exports = sys.modules.get("connectors.smart_export")
    if exports is not None and isinstance(source, exports.SmartExportSource):
        source.header_matcher = match_headers
    return source
