"""The shared REST plumbing: Retry-After, masking, status errors, date windows, the ASGI wrapper."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.base import SourceError
from connectors.http_session import HttpSession, RetryPolicy, mask_url, retry_after_seconds
from connectors.itsm365.windows import ALL_TIME, Window, read_windows, suspicious
from connectors.samples.fake_http import asgi_app
from connectors.samples.itsm365_fake import FakeItsm365


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None) is None


def test_secret_query_parameters_are_masked():
    url = "https://t.itsm365.com/sd/services/rest/find/x?attrs=UUID&accessKey=s3cr3t&AccessKey=again"
    masked = mask_url(url, ["accessKey"])
    assert "s3cr3t" not in masked and "again" not in masked and "attrs=UUID" in masked


def _session(handler, **kw):
    sleeps: list[float] = []
    session = HttpSession("https://h.example/api", label="X", transport=httpx.MockTransport(handler),
                          sleep=sleeps.append, policy=RetryPolicy(max_attempts=4, max_delay=10), **kw)
    return session, sleeps


def test_retry_after_is_capped_and_attempts_are_bounded():
    session, sleeps = _session(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(SourceError) as info:
        session.request("GET", "/x", what="things")
    assert info.value.code == "source.rate_limited" and sleeps == [10, 10, 10]


def test_503_without_retry_after_backs_off_exponentially_then_succeeds():
    answers = iter([503, 503, 200])
    session, sleeps = _session(lambda r: httpx.Response(next(answers), json=[]))
    assert session.fetch_json("GET", "/x", what="things") == (200, [])
    assert sleeps == [1.0, 2.0] and session.throttled == 2


@pytest.mark.parametrize(("status", "code"), [(401, "source.auth_rejected"), (403, "source.permission_denied")])
def test_access_statuses_become_clear_errors_without_secrets(status, code):
    session, _ = _session(lambda r: httpx.Response(status, text="token tok-123 is bad"), secrets=["tok-123"])
    with pytest.raises(SourceError) as info:
        session.request("GET", "/x", what="incidents")
    assert info.value.code == code and "tok-123" not in str(info.value) and "incidents" in str(info.value)


def test_other_statuses_carry_a_redacted_snippet():
    session, _ = _session(lambda r: httpx.Response(418, text="teapot says tok-123"), secrets=["tok-123"])
    with pytest.raises(SourceError) as info:
        session.request("GET", "/x", what="incidents")
    assert "HTTP 418" in str(info.value) and "***" in str(info.value) and "tok-123" not in str(info.value)


def _windowed(dates: list[datetime], cap: int) -> tuple[list[datetime], int]:
    """Every date read through adaptive windows from a server that cuts replies at `cap`; and the requests."""
    asked = []

    def fetch(window):
        asked.append(window)
        return [{"UUID": str(i), "d": d} for i, d in enumerate(dates) if window.holds(d)][:cap]

    rows = [row["d"] for batch in read_windows(ALL_TIME, fetch, lambda row: row["d"], split_at=cap,
                                                on_unsplittable=lambda w, n: None, what="x") for row in batch]
    return rows, len(asked)


def test_adaptive_windows_read_everything_once_and_cost_follows_records_not_years():
    recent = [datetime(2024, 1, 1) + timedelta(hours=7 * i) for i in range(600)]
    spread = [datetime(2004, 1, 1) + timedelta(days=12 * i) for i in range(600)]  # the same count over 20 years
    for dates in (recent, spread):
        rows, _ = _windowed(dates, cap=40)
        assert rows == sorted(dates)
    _, few = _windowed(recent[:60], cap=40)
    _, many = _windowed(recent, cap=40)
    _, years = _windowed(spread, cap=40)
    assert many <= 4 * few and years < many * 1.5  # ten times the records: at most four times the requests


def test_a_window_holding_records_outside_itself_stops_the_read():
    with pytest.raises(SourceError) as info:
        list(read_windows(ALL_TIME, lambda w: [{"d": datetime(2024, 1, 1)}] * 100, lambda row: row["d"],
                          split_at=50, on_unsplittable=lambda w, n: None, what="calls"))
    assert info.value.code == "source.filter_ignored"


def test_waits_are_told_before_they_happen():
    answers = iter([429, 200])
    told = []
    session, sleeps = _session(lambda r: httpx.Response(next(answers), json=[], headers={"Retry-After": "4"}))
    session.on_wait = lambda seconds, why: told.append((seconds, why, len(sleeps)))
    session.request("GET", "/x", what="calls")
    assert told == [(4.0, "X asked to slow down (HTTP 429) for calls", 0)] and sleeps == [4.0]


def test_windows_split_into_adjacent_halves_down_to_one_second():
    window = Window(datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 3))
    left, right = window.split()
    assert left.end + timedelta(seconds=1) == right.start and left.start == window.start and right.end == window.end
    assert Window(window.start, window.start).split() is None


def test_round_reply_sizes_look_capped():
    assert suspicious(100, 500) and suspicious(500, 500) and suspicious(250, 1000)
    assert not suspicious(99, 500) and not suspicious(0, 500) and not suspicious(49, 500)
    assert suspicious(120, 500, seen_cap=120) and not suspicious(119, 500, seen_cap=120)


async def test_the_fake_also_serves_as_an_asgi_app():
    fake = FakeItsm365(size=5, seed=1)
    transport = httpx.ASGITransport(app=asgi_app(fake.handle))
    async with httpx.AsyncClient(transport=transport, base_url=fake.base_url) as client:
        reply = await client.get("/services/rest/find/ou", params={"accessKey": fake.access_key, "attrs": "UUID,title"})
        missing = await client.get("/services/rest/get-file/file$1", params={"accessKey": "nope"})
    assert reply.status_code == 200 and len(reply.json()) == fake.ground_truth.counts["ous"]
    assert missing.status_code == 500 and "not found" in missing.text
