"""One log file per process (Windows cannot rename a file another process holds, so a
shared rotating log loses lines), old logs pruned, a file still held left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from helpmig_tui import logs
from helpmig_tui.logs import prune_logs

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    from helpmig_tui.logs import get_logger, setup_logging
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(sys.argv[1])
    setup_logging(paths.log_file)
    log = get_logger("writer")
    for n in range(400):
        log.info("%s line %d %s", sys.argv[2], n, "x" * 200)
    print(paths.log_file)
    """
)


def test_concurrent_processes_write_their_own_complete_logs(tmp_path):
    home = tmp_path / "home"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(home), name], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for name in ("load", "status")
    ]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in results]
    files = [Path(out.strip()) for out, _ in results]
    assert files[0] != files[1] and {f.parent for f in files} == {home / "logs"}
    for name, file in zip(("load", "status"), files, strict=True):
        text = file.read_text(encoding="utf-8")
        assert text.count(f"{name} line ") == 400 and ("status" if name == "load" else "load") + " line" not in text
        assert "Logging error" not in text


def _log(folder: Path, name: str, age_days: float, now: float) -> Path:
    path = folder / name
    path.write_text("x", encoding="utf-8")
    os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    return path


def test_old_logs_are_pruned_by_count_and_age(tmp_path):
    now = time.time()
    recent = [_log(tmp_path, f"helpmig-202401{n:02d}-000000-{n}.log", n * 0.01, now) for n in range(1, 61)]
    ancient = _log(tmp_path, "helpmig-20200101-000000-1.log", 400, now)
    legacy = _log(tmp_path, "helpmig.log.3", 0.001, now)  # the old shared file's rotation, newest of all
    other = _log(tmp_path, "notes.txt", 400, now)
    deleted = prune_logs(tmp_path, keep_files=50, keep_days=30, now=now)
    kept = {p for p in tmp_path.iterdir()}
    assert ancient in deleted and other in kept
    assert set(recent[:49]) <= kept and legacy in kept  # the 50 newest: the legacy file and 49 recent ones
    assert not set(recent[49:]) & kept
    assert len([p for p in kept if p.name.startswith("helpmig")]) == 50


def test_the_current_log_and_files_still_held_are_kept(tmp_path, monkeypatch):
    now = time.time()
    mine = _log(tmp_path, "helpmig-20200101-000000-7.log", 400, now)
    held = _log(tmp_path, "helpmig-20200101-000000-8.log", 400, now)
    gone = _log(tmp_path, "helpmig-20200101-000000-9.log", 400, now)
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self == held:  # Windows: "The process cannot access the file because it is being used"
            raise PermissionError(13, "The process cannot access the file", str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    assert prune_logs(tmp_path, keep=mine, now=now) == [gone]
    assert mine.exists() and held.exists() and not gone.exists()


def test_setting_up_the_log_prunes_beside_it(tmp_path):
    now = time.time()
    old = _log(tmp_path, "helpmig-20200101-000000-1.log", 90, now)
    logs.setup_logging(tmp_path / logs.process_log_name())
    assert not old.exists() and (tmp_path / logs.process_log_name()).exists()
