"""The per-run read cache: a completed read is kept and replayed, a broken one never is."""

from __future__ import annotations

import os

import pytest

from connectors.read_cache import CHUNK, ReadCache


def test_a_completed_read_is_replayed_in_order_without_reading_again():
    cache = ReadCache()
    reads = []

    def read():
        reads.append(1)
        for n in range(CHUNK * 2 + 7):
            yield {"n": n, "owner": f"o{n % 3}", "text": "ünïcode"}

    first = list(cache.rows("k", read, group=lambda row: row["owner"]))
    again = list(cache.rows("k", read))
    assert again == first and len(reads) == 1 and cache.size("k") == len(first)
    assert [r["n"] for r in cache.group("k", "o1")] == [n for n in range(len(first)) if n % 3 == 1]
    cache.close()


def test_a_read_that_stops_half_way_is_not_kept():
    cache = ReadCache()

    def broken():
        yield {"n": 1}
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        list(cache.rows("k", broken))
    assert not cache.has("k")
    assert list(cache.rows("k", lambda: iter([{"n": 1}, {"n": 2}]))) == [{"n": 1}, {"n": 2}]
    abandoned = cache.rows("j", lambda: iter([{"n": n} for n in range(10)]))
    next(abandoned)
    abandoned.close()  # the reader stopped early: the rest was never read
    assert not cache.has("j")
    cache.close()


def test_forget_reads_again_and_close_removes_the_file():
    cache = ReadCache()
    cache.fill("k", lambda: iter([{"v": 1}]))
    path = cache._path
    assert path and os.path.exists(path)
    cache.forget("k")
    assert list(cache.rows("k", lambda: iter([{"v": 2}]))) == [{"v": 2}]
    cache.close()
    assert not os.path.exists(path)


def _files(folder) -> list:
    return sorted(p.name for p in folder.glob("helpmig-reads-*.sqlite"))


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    import tempfile

    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_cache_never_closed_leaves_no_file_of_the_tenants_records(temp_folder):
    import gc

    cache = ReadCache()
    cache.fill("k", lambda: iter([{"n": 1, "email": "someone@example.com"}]))
    assert len(_files(temp_folder)) == 1
    del cache
    gc.collect()
    assert _files(temp_folder) == []


def test_a_closed_cache_reads_again_rather_than_replaying_a_file_it_removed(temp_folder):
    cache = ReadCache()
    reads = []

    def read():
        reads.append(1)
        yield {"n": 1}

    assert list(cache.rows("k", read)) == [{"n": 1}]
    cache.close()
    assert _files(temp_folder) == [] and not cache.has("k")
    assert list(cache.rows("k", read)) == [{"n": 1}] and len(reads) == 2
    cache.close()


def test_a_file_a_killed_process_left_goes_when_the_next_cache_starts(temp_folder):
    stale, recent = temp_folder / "helpmig-reads-old.sqlite", temp_folder / "helpmig-reads-new.sqlite"
    other = temp_folder / "someone-else.sqlite"
    for path in (stale, recent, other):
        path.write_bytes(b"x")
    two_days_ago = os.path.getmtime(stale) - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    cache = ReadCache()
    cache.fill("k", lambda: iter([{"n": 1}]))
    assert not stale.exists() and recent.exists() and other.exists()  # an hour-old file may be a live run's
    cache.close()
