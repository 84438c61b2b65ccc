"""SMART export attachments on a customer's server: the path stays as the operator typed it
(a mapped drive is never turned into its UNC form, as `Path.resolve()` does; a link stands in
for the mapping here), and a file the OS refuses (access denied, a path too long for Windows)
is a finding with the reason, never "missing". The refusals are monkeypatched in, as in
test_unreadable_attachments.py (the tests run as root, who is never refused)."""

from __future__ import annotations

import os
from pathlib import Path

from connectors.attachment_files import ACCESS_DENIED, PATH_TOO_LONG
from connectors.smart_export import SmartExportSource
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.export_headers import match_headers
from tests.sources_rest.smart_folders import write_customer_export
from tests.windows.test_unreadable_attachments import refuse  # noqa: F401  (the fixture)


def _source(folder: Path) -> SmartExportSource:
    return SmartExportSource(folder, time_zone="Europe/Moscow", header_matcher=match_headers)


def _refs(source: SmartExportSource) -> dict[str, object]:
    refs = {}
    for batch in source.iter_records("tickets"):
        for record in batch:
            for ref in source.attachments("tickets", record):
                refs[ref.name] = ref
    return refs


def test_a_mapped_folder_keeps_the_path_as_typed(tmp_path):
    expected = write_customer_export(tmp_path / "share" / "export", n=8)
    mapped = tmp_path / "Z"
    mapped.symlink_to(tmp_path / "share", target_is_directory=True)
    with _source(mapped / "export") as source:
        refs = _refs(source)
        assert sorted(refs) == sorted(expected.files)
        for name, ref in refs.items():
            assert ref.location == os.path.join(str(mapped), "export", "files", name)
            assert ref.exists and ref.problem == "" and ref.open().read().endswith(b"\xd0\xba")  # "...ноутбук"
        assert "smart.attachment_missing" not in {f.code for f in source.findings}


def test_unreadable_files_are_findings_with_the_reason_not_missing(tmp_path, refuse):  # noqa: F811
    expected = write_customer_export(tmp_path / "export", n=8)
    files = tmp_path / "export" / "files"
    denied, long, gone = (files / name for name in expected.files[:3])
    refuse.deny_file(denied)
    refuse.too_long(long)
    gone.unlink()
    with _source(tmp_path / "export") as source:
        refs = _refs(source)
        assert refs[denied.name].exists and refs[denied.name].problem == ACCESS_DENIED
        assert refs[long.name].problem == PATH_TOO_LONG
        assert not refs[gone.name].exists and refs[gone.name].problem == ""
        assert refs[expected.files[3]].problem == "" and refs[expected.files[3]].exists
        result = run_audit(source)
    found = {f.code: f for f in result.findings}
    unreadable = [f for f in result.findings if f.code == "smart.attachment_unreadable"]
    assert {f.message.rsplit(": ", 1)[-1] for f in unreadable} == {ACCESS_DENIED, PATH_TOO_LONG}
    assert found["smart.attachment_missing"].count == 1  # only the file that is really gone
    assert found["attachment.access_denied"].count == 1 and "read access" in found["attachment.access_denied"].detail
    assert found["attachment.path_too_long"].count == 1
    assert found["attachment.missing"].count == 1
