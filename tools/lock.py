"""Regenerate requirements.lock from pyproject.toml: `python tools/lock.py`.

One universal resolution of `[project].dependencies` (every platform, Python 3.11 and
newer), pinned with the hashes of every file of each pinned version, so the offline
bundle for Windows can be built on any machine. Needs the package registry and uv
(`pip install uv`); run it whenever the dependencies in pyproject.toml change: a test
fails while the two disagree.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpmig_tui.lockfile import (  # noqa: E402  (the source tree, not an installed copy)
    DIGEST_PREFIX,
    LOCK_NAME,
    REGENERATE,
    SUPPORTED_PYTHONS,
    dependencies_digest,
    parse_lock,
)

HEADER = f"""\
# helpmig's runtime dependencies, pinned with hashes for every platform and Python {SUPPORTED_PYTHONS[0]} to {SUPPORTED_PYTHONS[-1]}.
# Made from pyproject.toml by `{REGENERATE}` (uv pip compile --universal --generate-hashes); do not edit.
"""


def main() -> int:
    try:
        import uv  # noqa: F401
    except ImportError:
        print("tools/lock.py needs uv: pip install uv", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / LOCK_NAME
        command = [
            sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml",
            "--universal", "--python-version", SUPPORTED_PYTHONS[0], "--generate-hashes",
            "--no-header", "--quiet", "--output-file", str(out),
        ]
        done = subprocess.run(command, cwd=ROOT)
        if done.returncode != 0:
            print("tools/lock.py: uv could not resolve the dependencies (see above)", file=sys.stderr)
            return 1
        body = out.read_text(encoding="utf-8")
    text = HEADER + f"{DIGEST_PREFIX}{dependencies_digest(ROOT / 'pyproject.toml')}\n" + body
    lock = parse_lock(text)  # refuse to write a lock the bundle could not read
    (ROOT / LOCK_NAME).write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {LOCK_NAME}: {len(lock.pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
