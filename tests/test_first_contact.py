"""The README's test command on a machine without the ODBC driver manager: the tests that
need it skip and say why, unless HELPMIG_REQUIRE_ODBC=1 (what .ci/run sets), which makes
them fail. The machine without unixodbc is made by a pyodbc that fails to import exactly
as the real one does when libodbc.so.2 is missing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ODBC_TESTS = ["tests/sources/test_odbc.py", "tests/sources/test_sql_server_path.py::test_the_odbc_path_never_writes"]


def _no_unixodbc(tmp_path: Path) -> dict[str, str]:
    fake = tmp_path / "no-unixodbc"
    fake.mkdir()
    (fake / "pyodbc.py").write_text(
        'raise ImportError("libodbc.so.2: cannot open shared object file: No such file or directory")\n',
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "HELPMIG_")) and k not in ("PYTHONPATH",)}
    env["PYTHONPATH"] = str(fake)
    return env


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args, *ODBC_TESTS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_without_unixodbc_the_odbc_tests_skip_and_say_why(tmp_path):
    done = _pytest(_no_unixodbc(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    skipped = re.findall(r"SKIPPED \[\d+\] .*", done.stdout)
    assert len(skipped) >= 5
    assert all("the ODBC driver manager is not installed (libodbc.so.2)" in line
               and "apt-get install unixodbc libsqliteodbc" in line and "HELPMIG_REQUIRE_ODBC=1" in line
               for line in skipped)
    assert re.search(r"\d+ passed", done.stdout)  # what needs no driver manager still runs


def test_ci_requires_the_odbc_tests_to_run(tmp_path):
    env = _no_unixodbc(tmp_path)
    env["HELPMIG_REQUIRE_ODBC"] = "1"
    done = _pytest(env)
    assert done.returncode == 1
    assert "failed" in done.stdout and "libodbc.so.2" in done.stdout and "SKIPPED" not in done.stdout
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r'HELPMIG_REQUIRE_ODBC=1 PYTEST_ADDOPTS=\S+ bash -euo pipefail -c "\$cmd"', ci)


def test_the_readme_test_command_runs_in_parallel_with_what_it_installs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("<!-- ci:test-command", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]
    assert "pip install -e '.[test]'" in command and command.endswith("python -m pytest -q -n auto")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    test_extra = pyproject.split("test = [", 1)[1].split("]", 1)[0]
    assert '"pytest-xdist' in test_extra
