"""Paths, settings, secrets and the log: where things go and that secrets never leak."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import platformdirs
import pytest

from helpmig_tui import redact
from helpmig_tui.cli import main
from helpmig_tui.logs import get_logger, setup_logging
from helpmig_tui.settings import INTERCOM_URLS, Secrets, Settings, resolve_paths

TOKEN = "dG9rOmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MTIzNDU2"


def test_home_flag_beats_env_beats_platform_dirs(tmp_path):
    env = {"HELPMIG_HOME": str(tmp_path / "env")}
    assert resolve_paths(tmp_path / "flag", env).home == tmp_path / "flag"
    assert resolve_paths(None, env).home == tmp_path / "env"
    default = resolve_paths(None, {})
    assert default.home == platformdirs.user_data_path("helpmig", appauthor=False)
    assert default.logs == platformdirs.user_log_path("helpmig", appauthor=False)


def test_project_layout(paths):
    assert paths.state_file("acme") == paths.home / "projects" / "acme" / "state.sqlite"
    assert paths.reports_dir("acme") == paths.home / "projects" / "acme" / "reports"
    assert paths.log_file.parent == paths.home / "logs"
    assert re.fullmatch(rf"helpmig-\d{{8}}-\d{{6}}-{os.getpid()}\.log", paths.log_file.name)  # one per process


def test_settings_from_env():
    settings = Settings.from_env(
        {"HELPMIG_THEME": "Light", "HELPMIG_INTERCOM_REGION": "EU", "HELPMIG_LLM": "yes", "HELPMIG_LLM_MODEL": "qwen"}
    )
    assert settings.theme == "light" and settings.intercom_base_url() == INTERCOM_URLS["eu"]
    assert settings.llm.enabled and settings.llm.model == "qwen"
    assert Settings.from_env({"HELPMIG_INTERCOM_URL": "http://127.0.0.1:8765"}).intercom_base_url() == "http://127.0.0.1:8765"
    with pytest.raises(ValueError):
        Settings.from_env({"HELPMIG_INTERCOM_REGION": "mars"})


def test_secrets_come_from_env_then_session_and_are_masked():
    secrets = Secrets(env={"HELPMIG_INTERCOM_TOKEN": TOKEN})
    assert secrets.get("intercom_token") == TOKEN
    assert secrets.source_of("intercom_token") == "environment"
    assert TOKEN not in repr(secrets) and TOKEN[-4:] in repr(secrets)
    assert secrets.get("sql_password") is None and secrets.source_of("sql_password") == "missing"
    secrets.set_session("sql_password", "Sup3rSecret!")
    assert secrets.get("sql_password") == "Sup3rSecret!" and secrets.source_of("sql_password") == "typed in"
    assert redact.redact(f"login failed for {TOKEN} with Sup3rSecret!") == "login failed for **** with ****"


def test_no_usable_keyring_is_not_an_error():
    """The conftest forces keyring's fail backend, as on a headless server."""
    secrets = Secrets(env={})
    assert not secrets.keyring_available()
    assert secrets.save_to_keyring("intercom_token", TOKEN) is False
    assert secrets.get("intercom_token") is None


def test_a_real_keyring_backend_is_used(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 10
        store: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    monkeypatch.setattr(keyring, "get_keyring", lambda: MemoryKeyring())
    secrets = Secrets(env={})
    assert secrets.save_to_keyring("intercom_token", TOKEN)
    assert Secrets(env={}).get("intercom_token") == TOKEN
    assert Secrets(env={}).source_of("intercom_token") == "keyring"


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {TOKEN}",
        "GET /sd/services/rest/find/serviceCall?accessKey=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "DRIVER={ODBC Driver 18 for SQL Server};SERVER=db01;UID=sa;PWD=Winter2026!",
        'infraon login {"username": "x", "password": "Winter2026!"}',
        "headers={'Authorization': 'Winter2026!'}",
    ],
)
def test_credential_shapes_are_masked_even_unregistered(line):
    masked = redact.redact(line)
    assert "****" in masked
    assert TOKEN not in masked and "Winter2026!" not in masked and "0b1c2d3e" not in masked


def test_ordinary_words_are_not_masked():
    line = "the token expired; password reset needed; Authorization: Bearer"
    assert redact.redact(line) == line


def test_log_lines_and_tracebacks_are_masked(tmp_path):
    log_file = tmp_path / "logs" / "helpmig.log"
    setup_logging(log_file)
    redact.register(TOKEN)
    log = get_logger("test")
    log.info("calling Intercom with %s", TOKEN)
    try:
        raise RuntimeError(f"401 for token {TOKEN}")
    except RuntimeError:
        log.exception("request failed")
    for handler in logging.getLogger("helpmig").handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "calling Intercom with ****" in text and "RuntimeError: 401 for token ****" in text
    assert TOKEN not in text


def test_a_token_in_the_environment_reaches_no_file(tmp_path, monkeypatch, capsys):
    """Run real commands with the token set; then no byte of it is on disk or on screen."""
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", TOKEN)
    home = tmp_path / "h"
    assert main(["--home", str(home), "init", "p", "--source", "smart-export", "--folder", str(tmp_path)]) == 0
    assert main(["--home", str(home), "status", "p", "--json"]) == 0
    Secrets().get("intercom_token")  # resolved, as the Connect step does
    get_logger("test").info("token is %s", TOKEN)
    for handler in logging.getLogger("helpmig").handlers:
        handler.flush()
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "state.sqlite" for p in files) and any(p.name.endswith(".log") for p in files)
    for path in files:
        assert TOKEN.encode() not in Path(path).read_bytes(), path
