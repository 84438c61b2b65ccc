"""Bodies as Intercom takes them: text for the conversation, sanitized HTML for replies and notes.

`html_to_text` keeps the reading order and the paragraph breaks, turns links into
"text (url)", drops scripts, styles and comments, and never fails on broken markup
(html.parser is lenient); plain text passes with its line breaks. `message_html` makes
a reply or note body: plain text becomes paragraphs and line breaks, HTML keeps bold,
italics, links, lists and paragraphs and loses everything else (attributes, scripts,
styles, unknown tags), so what the customer wrote keeps its shape.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser

_BLOCK = {
    "address", "article", "aside", "blockquote", "div", "dl", "dt", "dd", "fieldset", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tr", "ul",
}
_DROP = {"script", "style", "head", "title"}
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0
        self.href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self.dropping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in _BLOCK:
            self.out.append("\n")
            if tag == "li":
                self.out.append("- ")
        if tag == "a":
            self.href.append(dict(attrs).get("href"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                self.out.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(data.replace("\r", "").replace("\n", " "))


# Markup that says a value is HTML: a known tag or an entity. "a < b" and "<3" are text.
_HTML_MARK = re.compile(
    r"<\s*/?\s*(p|br|div|span|b|strong|i|em|u|a|ul|ol|li|table|tbody|thead|tr|td|th|h[1-6]|html|body|head|font|img|"
    r"pre|code|blockquote|hr|style|script|center|small|big|sup|sub|strike|s|del|ins|label|section|article)\b[^>]*>"
    r"|&(nbsp|amp|lt|gt|quot|apos|#\d{1,6}|#x[0-9a-f]{1,6});",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_MARK.search(text))


def plain_text(text: str) -> str:
    """Text with its line breaks: Windows and old Mac newlines unified, spaces trimmed, at most one blank line."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The readable text of an HTML fragment; text that holds no markup keeps its line breaks.
    A run reads the same body several times (see `message_html`): the latest are kept."""
    return _TEXTS.made(html, _html_to_text)


def _html_to_text(html: str) -> str:
    if not looks_like_html(html):
        return plain_text(html)
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.out).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_to_html(text: str) -> str:
    """Plain text as HTML: blank-line-separated blocks become paragraphs, other line breaks <br>."""
    blocks = [b for b in re.split(r"\n\s*\n", plain_text(text)) if b.strip()]
    return "\n".join("<p>" + "<br>".join(escape(line, quote=False) for line in block.split("\n")) + "</p>"
                     for block in blocks)


_KEEP = {"p", "br", "b", "strong", "i", "em", "u", "a", "ul", "ol", "li", "pre", "code", "blockquote"}
_AS_PARAGRAPH = {"div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article", "header", "footer",
                 "address", "dl", "dt", "dd", "figure", "form", "main", "nav", "aside", "fieldset", "hr", "center"}
_SAFE_HREF = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_SAFE_IMAGE = re.compile(r"^(https://|cid:)\S+$", re.IGNORECASE)


class _Sanitizer(HTMLParser):
    """Keeps the tags of `_KEEP` (links with a safe href only, no other attributes); blocks become paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0
        self.open: list[str] = []  # kept tags still open, to close them at the end

    def _close_to(self, tag: str) -> None:
        if tag in self.open:
            while self.open:
                top = self.open.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self.dropping += 1
        elif self.dropping:
            return
        elif tag == "br":
            self.out.append("<br>")
        elif tag == "img":
            self._image(attrs)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if _SAFE_HREF.match(href.strip()):
                self.out.append(f'<a href="{escape(href.strip(), quote=True)}">')
                self.open.append("a")
        elif tag in _KEEP:
            if tag in ("li", "p") and self.open and self.open[-1] == tag:  # <li>one<li>two: the first ends here
                self._close_to(tag)
            self.out.append(f"<{tag}>")
            self.open.append(tag)
        elif tag in _AS_PARAGRAPH:
            self.out.append("<br>")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.dropping and tag == "img":
            self._image(attrs)
        elif not self.dropping and (tag == "br" or tag in _AS_PARAGRAPH):
            self.out.append("<br>")

    def _image(self, attrs: list[tuple[str, str | None]]) -> None:
        """An image on the web stays; an inline one (cid:) stays for the loader to point at
        its uploaded file; others (data:, file:) cannot be shown and go."""
        src = (dict(attrs).get("src") or "").strip()
        if _SAFE_IMAGE.match(src):
            self.out.append(f'<img src="{escape(src, quote=True)}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
        elif self.dropping:
            return
        elif tag in _KEEP:
            self._close_to(tag)
        elif tag in _AS_PARAGRAPH:
            self.out.append("<br>")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            inside_pre = "pre" in self.open
            text = data.replace("\r", "") if inside_pre else _SPACES.sub(" ", data.replace("\r", "").replace("\n", " "))
            self.out.append(escape(text, quote=False))

    def result(self) -> str:
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        html = "".join(self.out)
        html = re.sub(r"(\s*<br>\s*){3,}", "<br><br>", html)
        html = re.sub(r"^(\s*<br>)+|(<br>\s*)+$", "", html.strip())
        return re.sub(r"<p>(\s|<br>)*</p>", "", html).strip()


def sanitize_html(html: str) -> str:
    """HTML reduced to what a reply or note needs: paragraphs, line breaks, bold, italics, links, lists."""
    parser = _Sanitizer()
    parser.feed(html)
    parser.close()
    return parser.result()


def message_html(value: str) -> str:
    """A reply or note body for Intercom: sanitized HTML, or plain text as paragraphs.
    A run makes the same body several times (its scope check, the load, the validation,
    a resume) and html.parser takes about 0.1 s a megabyte: the latest are kept."""
    return _BODIES.made(value, _message_html)


def _message_html(value: str) -> str:
    return sanitize_html(value) if looks_like_html(value) else text_to_html(value)


class _Recent:
    """What was made of the latest values, bounded by count and by characters (a body of
    megabytes is the one most worth keeping, a thousand of them would be too many)."""

    def __init__(self, entries: int, chars: int) -> None:
        self.entries, self.chars = entries, chars
        self._held: OrderedDict[str, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def made(self, value: str, make: Callable[[str], str]) -> str:
        with self._lock:
            done = self._held.get(value)
            if done is not None:
                self._held.move_to_end(value)
                return done
        done = make(value)
        size = len(value) + len(done)
        if size > self.chars // 2:
            return done
        with self._lock:
            if value not in self._held:
                self._held[value] = done
                self._size += size
                while len(self._held) > self.entries or self._size > self.chars:
                    old, old_done = self._held.popitem(last=False)
                    self._size -= len(old) + len(old_done)
        return done


_BODIES = _Recent(entries=1024, chars=16_000_000)
_TEXTS = _Recent(entries=1024, chars=16_000_000)
