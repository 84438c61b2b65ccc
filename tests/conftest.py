"""Shared fixtures: an isolated data dir and environment for every test; tests that need
the ODBC driver manager skip, saying why, where it is missing (unless HELPMIG_REQUIRE_ODBC=1);
how the suite is spread over xdist workers."""

from __future__ import annotations

import functools
import gc
import os

import pytest

from helpmig_tui import redact
from helpmig_tui.settings import SECRET_ENV, Paths, resolve_paths


ODBC_INSTALL = "apt-get install unixodbc libsqliteodbc"


@functools.cache
def odbc_missing() -> dict[str, str | None]:
    """Why each ODBC marker's tests cannot run here (None: they can)."""
    try:
        import pyodbc
    except ImportError as exc:
        reason = f"the ODBC driver manager is not installed ({str(exc).split(':')[0]}): {ODBC_INSTALL}"
        return {"odbc": reason, "sqlite_odbc": reason}
    if "SQLite3" not in pyodbc.drivers():
        return {"odbc": None, "sqlite_odbc": f"the SQLite ODBC driver (SQLite3) is not installed: {ODBC_INSTALL}"}
    return {"odbc": None, "sqlite_odbc": None}


def odbc_required() -> bool:
    """CI sets HELPMIG_REQUIRE_ODBC=1: there a missing driver manager fails the tests."""
    return os.environ.get("HELPMIG_REQUIRE_ODBC") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    missing = odbc_missing()["sqlite_odbc"]
    if not missing:
        return "ODBC: driver manager and SQLite ODBC driver found"
    then = "their tests fail (HELPMIG_REQUIRE_ODBC=1)" if odbc_required() else "their tests are skipped"
    return f"ODBC: {missing}; {then}"


GC_THRESHOLDS = (10_000, 20, 20)  # CPython's (700, 10, 10) ran a full collection every few seconds


def pytest_configure(config: pytest.Config) -> None:
    """Fewer garbage collections in each test process. A test process holds a million
    objects (the imported libraries, Textual's apps, module fixtures) that every full
    collection walks: at the default thresholds the wizard and pipeline tests spent 10-25 %
    of their CPU collecting garbage (bench/README.md, branch pipe5). Nothing a test checks
    depends on when cycles are collected; what leaks is still collected, only later."""
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection left alive (the imported libraries, the collected tests: a few hundred
    thousand objects that live until the process ends) is moved out of the collector's
    reach, its garbage collected first: later full collections walk only what the tests
    made."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """At its end each test process collects garbage five times over (pytest's check for
    exceptions raised in finalizers), each a walk over everything alive: a million objects
    and some 0.9 s each after a worker's share of the suite. The garbage is collected here,
    until a collection finds none, with pytest's hook still recording what a finalizer
    raises; what is left alive is then frozen, so that pytest's five collections after this
    walk only what is made after it."""
    for _ in range(5):
        if not gc.collect():
            break
    gc.freeze()


WORKERS_PER_CPU = 2  # many tests wait on child processes, sockets and rate-limit windows, not on a CPU


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (the README's command): two workers per CPU this process may use, so that a
    CPU is not idle while a test waits; PYTEST_XDIST_AUTO_NUM_WORKERS still decides if set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "").isdigit():
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return WORKERS_PER_CPU * cpus


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _one_worker_per_module_fixture(items)
    if odbc_required():
        return
    for item in items:
        for marker in ("odbc", "sqlite_odbc"):
            reason = odbc_missing()[marker] if item.get_closest_marker(marker) else None
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"{reason} (HELPMIG_REQUIRE_ODBC=1 fails instead)"))
                break


def _one_worker_per_module_fixture(items: list[pytest.Item]) -> None:
    """The tests of a module that share a module-scoped fixture (a generated desk, a loaded
    demo) run on one xdist worker (`--dist loadgroup`), so that it is built once, not once
    per worker; a test already in a group keeps it."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        if any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test sees the developer's HELPMIG_* variables, keyring or home, nor another
    test's secrets registered for masking."""
    for var in list(os.environ):
        if var.startswith("HELPMIG_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("userhome")))
    monkeypatch.setattr(redact, "_values", set())


@pytest.fixture(autouse=True)
def _no_sandbox_violations():
    """A test fails when a sandbox it made recorded a request Intercom refuses (or would not
    do as asked) that the test did not take on purpose (`sandbox.violations.take(...)`)."""
    from connectors.intercom.sandbox.violations import watching

    with watching() as logs:  # strong references: a sandbox collected mid-test still answers for its log
        yield
        offenders = [log for log in logs if log.total]
    if offenders:
        pytest.fail("the sandbox recorded violations:\n" + "\n".join(log.describe() for log in offenders),
                    pytrace=False)


@pytest.fixture
def paths(tmp_path) -> Paths:
    return resolve_paths(tmp_path / "home")


@pytest.fixture
def secret_env() -> dict[str, str]:
    return dict(SECRET_ENV)
