"""Nothing stops on a row (issue 14, item 5): SQL desks whose key columns hold NULL, blank
and malformed keys and whose text is not valid UTF-8 are audited with every such record
named, and loaded with those records rejected by their reason, the rest loaded, and every
count adding up; a message body far over Intercom's limit is loaded in bounded pieces with
its full text attached; a record that takes long says why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.registry import open_source
from connectors.samples import generate_smartertrack, generate_trackit
from helpmig_tui.audit_store import findings
from helpmig_tui.demo import prepare_demo, run_headless
from helpmig_tui.mapping.apply import MAX_VALUE_CHARS
from helpmig_tui.pipeline.text import FULL_TEXT_PREFIX
from helpmig_tui.pipeline.watch import doing, watched
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from tests.support.exactly_once import RECORD_COLUMNS

PARTS = {"smartertrack": "messages", "trackit": "notes"}
LARGE_BODY = MAX_VALUE_CHARS + 50_000  # over what is mapped whole: the full text is kept beside


def _messy_sample(platform: str):
    generate = generate_smartertrack if platform == "smartertrack" else generate_trackit

    def sample(folder: Path, tickets: int):
        manifest = generate(folder, tickets=tickets, large_body=LARGE_BODY, attachment_files=False, messy_rows=True)
        skipped = {obj: {why: len(keys) for why, keys in reasons.items()} for obj, reasons in manifest.skipped.items()}
        return (manifest.options, lambda: open_source(platform, manifest.options, lambda _n: None),
                dict(manifest.counts), skipped), manifest

    return sample


@pytest.fixture(scope="module", params=["smartertrack", "trackit"])
def messy_load(request, tmp_path_factory):
    platform = request.param
    paths = resolve_paths(tmp_path_factory.mktemp("home"))
    made = {}

    def sample(folder: Path, tickets: int):
        result, made["manifest"] = _messy_sample(platform)(folder, tickets)
        return result

    demo = prepare_demo(paths, platform, 30, sample=sample)
    result = asyncio.run(run_headless(demo, sample=3))
    return platform, paths, demo, made["manifest"], result


def test_the_audit_names_every_record_with_a_bad_key_or_undecodable_text(messy_load):
    platform, paths, demo, manifest, _ = messy_load
    with open_project(paths, demo.project) as store:
        found = {(f.code, f.object): f for f in findings(store)}
    for obj in ("tickets", PARTS[platform]):
        missing = found[("record.key_missing", obj)]
        assert missing.count == len(manifest.keys("key_missing", obj)) == 2
        assert all("no-key-" in key for key in missing.keys)
        malformed = found[("record.key_malformed", obj)]
        assert malformed.count == 1 and any(manifest.keys("key_malformed", obj)[0] in k for k in malformed.keys)
        undecodable = found[("text.undecodable", obj)]
        planted = manifest.keys("undecodable_text", obj)
        assert undecodable.count == len(planted)
        assert all(any(f"({key})" in named or named == key for named in undecodable.keys) for key in planted)


def test_the_load_rejects_bad_keys_with_their_reason_and_every_count_adds_up(messy_load):
    platform, _, demo, manifest, result = messy_load
    assert result.load.status == "done"
    by_object = {o.object: o for r in result.load.reports for o in r.objects}
    for report in result.load.reports:
        for o in report.objects:
            assert o.read == sum(getattr(o, c) for c in RECORD_COLUMNS), (report.phase, o.object)
            assert o.failed == o.in_doubt == o.unexplained == 0, (report.phase, o.object)
    rows = [row for r in result.load.reports for row in r.rows]
    for obj in ("tickets", PARTS[platform]):
        assert by_object[obj].read - by_object[obj].skipped == demo.truth[obj], obj
        codes = [code for _, o, _, _, status, code, _ in rows if o == obj and status == "rejected"]
        assert codes.count("record.key_missing") == 2, obj
        assert codes.count("record.key_malformed") == 1, obj
    # the records whose text held undecodable bytes loaded, and the load counted them
    noted = {(obj, code): n for r in result.load.reports for obj, code, n, _ in r.noted}
    assert noted.get(("tickets", "text.undecodable"), 0) == len(manifest.keys("undecodable_text", "tickets"))
    assert result.validation.passed


def test_a_body_over_the_limit_loads_its_beginning_with_the_full_text_attached(messy_load):
    platform, _, demo, manifest, result = messy_load
    obj = PARTS[platform]
    [key] = manifest.keys("large_body", obj)
    with demo.source_factory() as source:
        [record] = source.get(obj, [key])
    whole = max((v for v in record.data.values() if isinstance(v, str)), key=len)
    assert len(whole) > MAX_VALUE_CHARS
    carrying = [(c, p) for c in demo.sandbox.store.all("conversations") for p in c["parts"]
                if any(a["name"].startswith(FULL_TEXT_PREFIX) for a in p.get("attachments", []))]
    assert len(carrying) == 1, "one note carries the full text"
    conversation, note = carrying[0]
    assert note["part_type"] == "note"
    assert sum(a["filesize"] for a in note["attachments"]) == len(whole.encode("utf-8"))
    # the message itself holds the beginning and says where the rest is, within Intercom's limit
    said = [p for p in conversation["parts"] if "The message continues" in (p.get("body") or "")]
    said += [conversation["source"]] if "The message continues" in (conversation["source"].get("body") or "") else []
    assert len(said) == 1 and len(said[0]["body"]) < 2 * 65_536
    noted = {(o, code): n for r in result.load.reports for o, code, n, _ in r.noted}
    assert noted[(obj, "body.attached_as_file")] == 1
    assert result.validation.passed  # the full-text file is not taken for a source attachment


def test_a_record_that_takes_long_says_what_it_is_doing():
    """The notice comes while the record is still in flight: the work waits for it."""
    said: list[str] = []
    heard = asyncio.Event()

    def say(message: str) -> None:
        said.append(message)
        heard.set()

    async def slow_record() -> str:
        doing("writing conversation 42 to Intercom: waiting for its answer")
        await heard.wait()
        return "done"

    async def main() -> str:
        return await watched("tickets #42 (42)", slow_record(), 0.01, say)

    assert asyncio.run(main()) == "done"
    assert said[0].startswith("tickets #42 (42) is taking longer than")
    assert said[0].endswith("writing conversation 42 to Intercom: waiting for its answer")


def test_a_record_that_finishes_in_time_says_nothing():
    said: list[str] = []

    async def main() -> int:
        async def quick() -> int:
            return 7
        return await watched("tickets 1", quick(), 3600, said.append)

    assert asyncio.run(main()) == 7 and said == []


def _rest_sample(platform: str):
    """The REST samples with their messy rows: an id-less record, undecodable text, a 1.1 MB body."""
    from connectors.samples.infraon_fake import FakeInfraon
    from connectors.samples.itsm365_fake import FakeItsm365
    from connectors.samples.smart_export_sample import write_smart_export

    def sample(folder: Path, tickets: int):
        if platform == "smart-export":
            truth = write_smart_export(folder / "export", size=tickets, seed=1, messy_rows=True)
            options = {"folder": str(folder / "export"), "time_zone": "UTC"}
            return options, lambda: open_source(platform, options, lambda _n: None), dict(truth.counts), {}
        fake = (FakeItsm365 if platform == "itsm365" else FakeInfraon)(size=tickets, messy_rows=True)
        return {"url": fake.base_url, **fake.options()}, fake.source, dict(fake.ground_truth.counts), {}

    return sample


@pytest.mark.parametrize("platform", ["itsm365", "infraon", "smart-export"])
def test_the_demo_on_a_messy_rest_corpus_ends_clean(tmp_path, platform):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, platform, 30, sample=_rest_sample(platform))
    result = asyncio.run(run_headless(demo, sample=3))
    assert result.load.status == "done"
    for report in result.load.reports:
        for o in report.objects:
            assert o.read == sum(getattr(o, c) for c in RECORD_COLUMNS), (report.phase, o.object)
            assert o.failed == o.in_doubt == o.unexplained == 0, (report.phase, o.object)
    noted = {(code, n) for r in result.load.reports for _, code, n, _ in r.noted}
    assert ("text.undecodable", 1) in noted
    assert any(code == "body.attached_as_file" for code, _ in noted)
    assert result.validation.passed


def test_records_slower_than_the_threshold_say_what_they_wait_for(tmp_path):
    """Every write to the sandbox takes at least its latency (20 ms), so a record with writes
    takes longer than a 5 ms threshold whatever the machine's speed: it says so, and why."""
    from helpmig_tui.pipeline.context import LoadOptions

    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", 30, latency_ms=20)
    said: list[str] = []

    class Events:
        def progress(self, progress) -> None:
            pass

        def event(self, level: str, message: str) -> None:
            said.append(message)

        def phase_finished(self, report) -> None:
            pass

    async def load():
        async with demo.session(Events()) as session:
            return await session.load(LoadOptions(accept_gates=True, sample=3, slow_record_s=0.005))

    assert asyncio.run(load()).status == "done"
    slow = [m for m in said if " is taking longer than " in m]
    assert any(m.startswith("tickets #") and "to Intercom: waiting for its answer" in m for m in slow), slow[:5]
    assert any("requests left in Intercom's rate-limit window" in m for m in slow), slow[:5]
