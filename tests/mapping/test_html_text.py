"""Text keeps its shape: line breaks survive into the conversation's text and into replies and
notes as paragraphs; HTML keeps bold, links and lists and loses everything unsafe."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from helpmig_tui.mapping.apply import apply_map
from helpmig_tui.mapping.html_text import html_to_text, looks_like_html, message_html, sanitize_html, text_to_html
from helpmig_tui.mapping.model import FieldMap, MigrationMap, ObjectMap, StandardTarget
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.transforms import HtmlToText

STEPS = "Printer fails.\r\nSteps:\r\n1. Open the tray\r\n2. Press <Reset> & wait\r\n\r\n\r\n\r\nThanks, Ann"


def test_plain_text_keeps_its_line_breaks_through_html_to_text():
    assert html_to_text(STEPS) == "Printer fails.\nSteps:\n1. Open the tray\n2. Press <Reset> & wait\n\nThanks, Ann"
    assert html_to_text("a < b and c > d") == "a < b and c > d"  # comparisons are not markup
    assert html_to_text("<p>one</p><p>two<br>three</p>") == "one\n\ntwo\nthree"


def test_plain_text_becomes_paragraphs_and_line_breaks_escaped():
    assert text_to_html(STEPS) == (
        "<p>Printer fails.<br>Steps:<br>1. Open the tray<br>2. Press &lt;Reset&gt; &amp; wait</p>\n<p>Thanks, Ann</p>"
    )
    assert message_html(STEPS) == text_to_html(STEPS)


def test_html_keeps_bold_links_and_lists_and_loses_the_rest():
    dirty = ('<div style="color:red" onclick="x()"><b>Bold</b> <em>it</em> '
             '<a href="https://kb.example/a?x=1&y=2" target="_blank" onmouseover="y()">link</a>'
             '<script>alert(1)</script><style>p{}</style>'
             '<ul><li>one<li>two</ul><img src=x onerror=alert(2)>'
             '<a href="javascript:alert(3)">bad link</a><table><tr><td>cell</td></tr></table></div>')
    clean = sanitize_html(dirty)
    assert "<b>Bold</b>" in clean and "<em>it</em>" in clean
    assert '<a href="https://kb.example/a?x=1&amp;y=2">link</a>' in clean
    assert "<ul><li>one</li><li>two</li></ul>" in clean
    for bad in ("script", "alert", "style", "onclick", "onmouseover", "img", "javascript", "target", "table", "<td"):
        assert bad not in clean, bad
    assert "bad link" in clean and "cell" in clean  # their text stays


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.balanced = True
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)
        if tag != "br":
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


PIECES = [*"ab <>/&;=\"'\n", "<b>", "</b>", "<li>", "<ul>", "</ul>", "<a href='https://x'>", "</a>", "<script>",
          "</script>", "<div>", "<p>", "&amp;", "<i onclick='x'>", "</p>"]


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_input_becomes_balanced_html_with_only_allowed_tags(raw):
    out = message_html(raw)
    tags = _Tags()
    tags.feed(out)
    tags.close()
    assert tags.balanced and not tags.stack
    assert tags.tags <= {"p", "br", "b", "strong", "i", "em", "u", "a", "ul", "ol", "li", "pre", "code", "blockquote"}
    assert tags.attrs <= {"href"}
    assert "<script" not in out


def test_a_part_body_is_sent_as_html_and_the_opening_body_as_text():
    at = datetime(2024, 1, 1, tzinfo=UTC)
    mmap = MigrationMap(platform="smart-export", timezone="UTC", objects=[
        ObjectMap(object="tickets", target=K.CONVERSATION), ObjectMap(object="comments", target=K.PART)], fields=[
        FieldMap(object="tickets", field="created", target=StandardTarget(field="created_at")),
        FieldMap(object="tickets", field="who", target=StandardTarget(field="contact")),
        FieldMap(object="tickets", field="description", target=StandardTarget(field="body"), transforms=[HtmlToText()]),
        FieldMap(object="comments", field="created", target=StandardTarget(field="created_at")),
        FieldMap(object="comments", field="body", target=StandardTarget(field="body")),
    ])
    ticket = apply_map(mmap, "tickets", {"created": at, "who": "u1", "description": STEPS}, key="T1")
    assert ticket.standard["body"].splitlines()[:4] == ["Printer fails.", "Steps:", "1. Open the tray",
                                                        "2. Press <Reset> & wait"]
    comment = apply_map(mmap, "comments", {"created": at, "body": STEPS}, key="C1")
    assert comment.standard["body"].startswith("<p>Printer fails.<br>Steps:<br>1. Open the tray<br>")
    rich = apply_map(mmap, "comments", {"created": at, "body": "<p><b>Done</b>: see <a href='https://x.example'>x</a></p>"},
                     key="C2")
    assert rich.standard["body"] == '<p><b>Done</b>: see <a href="https://x.example">x</a></p>'
    assert not looks_like_html(STEPS) and looks_like_html("x&nbsp;y")


def test_a_body_made_again_comes_from_the_latest_kept_within_their_bounds():
    from helpmig_tui.mapping.html_text import _Recent

    made: list[str] = []

    def make(value: str) -> str:
        made.append(value)
        return value.upper()

    recent = _Recent(entries=2, chars=40)
    assert [recent.made(v, make) for v in ("ab", "cd", "ab")] == ["AB", "CD", "AB"]
    assert made == ["ab", "cd"]  # the second "ab" was kept
    recent.made("ef", make)  # a third: the one used longest ago ("cd") goes
    recent.made("cd", make)
    assert made == ["ab", "cd", "ef", "cd"]
    big = "x" * 15  # 30 characters with what is made of it: more than half the bound, never kept
    assert recent.made(big, make) == big.upper() and recent.made(big, make) == big.upper()
    assert made[-2:] == [big, big]
    huge = "<p>" + "A log line that goes on. " * 44_000 + "</p>"  # the demo's 1.1 MB body
    assert message_html(huge) == message_html(huge) == sanitize_html(huge)
    assert html_to_text(huge) == html_to_text(huge).strip() and html_to_text(huge).startswith("A log line")
