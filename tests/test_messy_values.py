"""Property tests (issue 14, item 7): the value parsers and the mapping take whatever a real
installation holds (text that is not a date or a number, NaN, naive times around DST,
undecodable bytes, odd emails, huge values, Windows paths, columns renamed, missing or
NULL) and answer with a value or a reason, never an exception."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import REPLACEMENT
from connectors.sql.values import lenient_text, parse_datetime, utc
from helpmig_tui.mapping import apply as apply_module
from helpmig_tui.mapping.apply import apply_map
from helpmig_tui.mapping.coerce import as_bool, as_float, as_int, as_key, as_text
from helpmig_tui.mapping.html_text import html_to_text, message_html
from helpmig_tui.mapping.transforms import TransformProblem, to_unix
from helpmig_tui.pipeline import text as texts
from helpmig_tui.pipeline.requesters import clean_email

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONES = [ZoneInfo(z) for z in ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")]

# what a column may hold when it is not what the reader expects
odd_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1).map(lambda s: s + REPLACEMENT),
    st.sampled_from(["", " ", "NULL", "N/A", "0000-00-00", "31/02/2024", "2024-13-01", "1e400", "-0", "NaN",
                     "12 pcs", "1,234.5", "1.234,5", "٣", "Ⅻ", "\x00", "C:\\Users\\ann\\Desktop\\Thumbs.db",
                     "\\\\fileserver\\share$\\a b\\c.pdf", "2024-03-31T02:30:00", "2024-10-27 02:30", "Z"]),
)
odd_value = st.one_of(
    odd_text, st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=40),
    st.lists(st.one_of(st.none(), st.text(max_size=8), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.datetimes(timezones=st.sampled_from([None, UTC, *ZONES])),
)


@SETTINGS
@given(odd_value, st.sampled_from(ZONES))
def test_a_date_is_read_or_refused_with_a_reason(value, zone):
    try:
        moment = to_unix(value, zone)
    except TransformProblem as problem:
        assert problem.message
        return
    assert moment is None or isinstance(moment, int)


@SETTINGS
@given(st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2100, 1, 1)), st.sampled_from(ZONES))
def test_a_naive_local_time_around_dst_lands_within_its_zones_offsets(naive, zone):
    """A wall-clock time, even one a DST change skips or repeats, becomes a moment whose
    offset from the same time read as UTC is one the zone uses that year."""
    moment = to_unix(naive, zone)
    as_utc = naive.replace(tzinfo=UTC).timestamp()
    offsets = {zone.utcoffset(naive + timedelta(days=d)) for d in range(-200, 200, 7)} | {
        zone.utcoffset(naive.replace(fold=f)) for f in (0, 1)}
    assert any(abs(as_utc - moment - o.total_seconds()) < 1 for o in offsets if o is not None)


@SETTINGS
@given(odd_value)
def test_numbers_and_yes_no_are_read_or_refused_with_a_reason(value):
    for read in (as_int, as_float, as_bool):
        try:
            out = read(value)
        except TransformProblem as problem:
            assert problem.message
        else:
            assert isinstance(out, (int, float, bool))
    assert isinstance(as_text(value), str)
    try:
        assert isinstance(as_key(value), str)
    except TransformProblem:
        pass


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_decode_and_valid_utf8_is_kept(raw):
    text = lenient_text(raw)
    try:
        assert text == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert REPLACEMENT in text


@SETTINGS
@given(odd_value)
def test_a_date_column_holding_anything_is_read_as_it_is(value):
    parsed = parse_datetime(value)
    assert utc(value) is not None or value is None
    if isinstance(parsed, datetime):
        assert utc(value).tzinfo is not None


@SETTINGS
@given(st.one_of(st.emails(), odd_text), st.sampled_from([str.upper, str.lower, str.title, lambda s: f"  {s}\t"]))
def test_an_email_is_trimmed_and_case_folded_or_refused(value, variant):
    cleaned = clean_email(value)
    if cleaned is None:
        return
    assert cleaned == cleaned.strip().casefold() and "@" in cleaned
    assert clean_email(cleaned) == cleaned  # idempotent
    other = clean_email(variant(value))
    assert other is None or other == cleaned.casefold() or other.casefold() == cleaned


@SETTINGS
@given(st.one_of(st.text(), st.lists(st.sampled_from(
    ["<p>", "</p>", "<b>", "<br>", "<script>x()</script>", "<a href='javascript:1'>", "&amp;", "&#xFFFF;", "&#0;",
     "<!--", "-->", "<", ">", "\r\n", REPLACEMENT, "<img src=x onerror=y>", "<td>", "<![CDATA[", "text"]),
    max_size=30).map("".join)))
def test_html_of_any_shape_becomes_text_and_safe_html(value):
    assert isinstance(html_to_text(value), str)
    unsafe: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style", "iframe", "object"):
                unsafe.append(tag)
            for name, attr in attrs:
                if name.startswith("on") or (attr or "").strip().casefold().startswith("javascript:"):
                    unsafe.append(f"{tag} {name}")

    Tags().feed(message_html(value))
    assert unsafe == []


@SETTINGS
@given(st.text(alphabet=st.sampled_from("ab\n\u00e9\u20ac\U0001F600"), max_size=400), st.integers(8, 60))
def test_a_long_body_is_split_in_pieces_within_the_limit_losing_only_line_breaks_at_cuts(text, limit):
    pieces = texts.chunks(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


@SETTINGS
@given(st.text(max_size=300), st.integers(4, 40))
def test_a_full_text_file_is_cut_between_characters_within_the_file_limit(text, limit):
    files = texts.full_text_files("tickets-1", text or "x", limit)
    data = b"".join(content for _, _, content in files)
    assert data == (text or "x").encode("utf-8", "replace")
    for name, _, content in files:
        assert len(content) <= limit and name.startswith(texts.FULL_TEXT_PREFIX)
        content.decode("utf-8")  # each file is whole characters


# -- the mapping, on records shaped differently from what the map expects -------------------


@functools.cache
def _mapped_platforms(folder: str) -> dict[str, tuple]:
    """Each platform's proposed map and a real record of each object it loads."""
    from pathlib import Path

    from connectors.samples import generate_smartertrack, generate_trackit
    from connectors.samples.infraon_fake import FakeInfraon
    from connectors.samples.itsm365_fake import FakeItsm365
    from connectors.samples.smart_export_sample import write_smart_export
    from connectors.smart_export import SmartExportSource
    from connectors.smartertrack import SmarterTrackSource
    from connectors.trackit import TrackItSource
    from helpmig_tui.audit import run_audit
    from helpmig_tui.mapping.evidence import evidence_from_schema
    from helpmig_tui.mapping.propose import propose_map

    root = Path(folder)
    write_smart_export(root / "export", size=30, seed=5)
    opens = {
        "smartertrack": lambda: SmarterTrackSource.from_options(generate_smartertrack(
            root / "st", tickets=30, large_body=1000, attachment_files=False).options, lambda _n: None),
        "trackit": lambda: TrackItSource.from_options(generate_trackit(
            root / "ti", tickets=30, large_body=1000, attachment_files=False).options, lambda _n: None),
        "itsm365": lambda: FakeItsm365(size=30, seed=3).source(),
        "infraon": lambda: FakeInfraon(size=30, seed=3).source(),
        "smart-export": lambda: SmartExportSource.from_options({"folder": str(root / "export")}, lambda _n: None),
    }
    out = {}
    for platform, open_source in opens.items():
        with open_source() as source:
            audit = run_audit(source)
            mmap = propose_map(evidence_from_schema(source.describe(), {o.spec.name: o.profile for o in audit.objects}))
            records = {}
            for om in mmap.active_objects():
                for batch in source.iter_records(om.object, batch_size=5):
                    if batch:
                        records[om.object] = batch[0]
                    break
        out[platform] = (mmap, records)
    return out


@pytest.fixture(scope="module")
def platforms(tmp_path_factory):
    return _mapped_platforms(str(tmp_path_factory.mktemp("platforms")))


mutation = st.tuples(st.sampled_from(["drop", "rename", "null", "odd", "huge", "path"]), st.integers(0, 10_000),
                     odd_value)


@pytest.mark.parametrize("platform", ["smartertrack", "trackit", "itsm365", "infraon", "smart-export"])
def test_a_record_shaped_unlike_the_map_is_mapped_or_rejected_with_a_reason(platforms, platform, monkeypatch):
    mmap, records = platforms[platform]
    assert records, f"{platform}: no records to shape"
    monkeypatch.setattr(apply_module, "MAX_VALUE_CHARS", 2000)  # "huge" values, at a test's cost

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(sorted(records)), st.lists(mutation, min_size=1, max_size=6))
    def check(obj, mutations):
        record = records[obj]
        data = dict(record.data)
        for action, pick, value in mutations:
            if not data:
                break
            name = sorted(data)[pick % len(data)]
            if action == "drop":
                data.pop(name)  # a column the source does not have
            elif action == "rename":
                data[name.upper() + "_X"] = data.pop(name)  # the column under another name
            elif action == "null":
                data[name] = None
            elif action == "odd":
                data[name] = value
            elif action == "huge":
                data[name] = ("x" * 97 + "\n<b>") * 60
            else:
                data[name] = "C:\\Program Files (x86)\\Helpdesk\\Attachments\\2024\\" + "ü" * 3 + "\\a.txt"
        mapped = apply_map(mmap, obj, {**data}, key=record.key)
        assert mapped.ok or (mapped.rejected and mapped.rejected_code)
        for name, whole in mapped.full.items():  # an oversized value is mapped cut, kept whole beside
            assert len(whole) > 2000 and len(str(mapped.standard.get(name, ""))) <= 2000 * 3
        assert not any(isinstance(v, float) and math.isnan(v) for v in mapped.standard.values())

    check()
