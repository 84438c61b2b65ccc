"""Shared fixtures: an isolated data dir and environment for every test."""

from __future__ import annotations

import os

import pytest

from helpmig_tui import redact
from helpmig_tui.settings import SECRET_ENV, Paths, resolve_paths


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test sees the developer's HELPMIG_* variables, keyring or home."""
    for var in list(os.environ):
        if var.startswith("HELPMIG_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("userhome")))
    redact.forget_all()
    yield
    redact.forget_all()


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
