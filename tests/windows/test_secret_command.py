"""`helpmig secret set NAME`: a hidden prompt, the OS credential store through keyring
(the Windows Credential Manager driven through a monkeypatched win32cred), and a clear
refusal where no real keyring exists."""

from __future__ import annotations

import io
import sys
import types

import keyring
import pytest
from keyring.backends import Windows

from helpmig_tui.cli import main
from helpmig_tui.settings import Secrets, keyring_label, secret_name

TOKEN = "dG9rOmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MTIzNDU2"


class CredError(Exception):
    def __init__(self, winerror: int, funcname: str, message: str) -> None:
        super().__init__(winerror, funcname, message)
        self.winerror, self.funcname = winerror, funcname


class CredentialManager:
    """win32cred as pywin32-ctypes exposes it: generic credentials by target name."""

    CRED_TYPE_GENERIC = 1
    CRED_PERSIST_SESSION, CRED_PERSIST_LOCAL_MACHINE, CRED_PERSIST_ENTERPRISE = 1, 2, 3

    def __init__(self) -> None:
        self.vault: dict[str, dict] = {}
        self.__name__ = "win32cred"

    def CredWrite(self, credential: dict, flags: int) -> None:  # noqa: N802 (the Win32 names)
        assert credential["Type"] == self.CRED_TYPE_GENERIC and flags == 0
        blob = credential["CredentialBlob"]
        self.vault[credential["TargetName"]] = {**credential, "CredentialBlob": blob.encode("utf-16-le")}

    def CredRead(self, Type: int, TargetName: str) -> dict:  # noqa: N802, N803
        if TargetName not in self.vault:
            raise CredError(1168, "CredRead", "Element not found.")
        return dict(self.vault[TargetName])

    def CredDelete(self, Type: int, TargetName: str) -> None:  # noqa: N802, N803
        if self.vault.pop(TargetName, None) is None:
            raise CredError(1168, "CredDelete", "Element not found.")


@pytest.fixture
def credential_manager(monkeypatch):
    """keyring's real Windows backend over a fake win32cred, as on a Windows server."""
    vault = CredentialManager()
    monkeypatch.setattr(Windows, "win32cred", vault, raising=False)
    monkeypatch.setattr(Windows, "pywintypes", types.SimpleNamespace(error=CredError), raising=False)
    monkeypatch.setattr(Windows, "missing_deps", False)
    previous = keyring.get_keyring()
    keyring.set_keyring(Windows.WinVaultKeyring())
    yield vault
    keyring.set_keyring(previous)


def _typed(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_names_are_taken_as_typed():
    assert secret_name("intercom_token") == secret_name("Intercom-Token") == "intercom_token"
    assert secret_name("HELPMIG_SQL_PASSWORD") == "sql_password"
    with pytest.raises(ValueError, match="unknown secret"):
        secret_name("password")


def test_set_stores_the_token_in_the_credential_manager(credential_manager, monkeypatch, capsys):
    _typed(monkeypatch, TOKEN + "\r\n")
    assert main(["secret", "set", "intercom_token"]) == 0
    out = capsys.readouterr()
    assert "Windows Credential Manager" in out.out and TOKEN not in out.out + out.err
    assert TOKEN[-4:] in out.out  # masked, but recognisable
    stored = credential_manager.vault["helpmig"]
    assert stored["UserName"] == "intercom_token" and stored["CredentialBlob"].decode("utf-16-le") == TOKEN
    assert Secrets(env={}).get("intercom_token") == TOKEN
    assert Secrets(env={}).source_of("intercom_token") == "keyring"


def test_several_secrets_live_side_by_side(credential_manager, monkeypatch):
    _typed(monkeypatch, TOKEN + "\n")
    assert main(["secret", "set", "intercom_token"]) == 0
    _typed(monkeypatch, "Winter2026!\n")
    assert main(["secret", "set", "sql_password"]) == 0
    secrets = Secrets(env={})
    assert secrets.get("intercom_token") == TOKEN and secrets.get("sql_password") == "Winter2026!"


def test_delete_forgets_it(credential_manager, monkeypatch, capsys):
    _typed(monkeypatch, TOKEN + "\n")
    assert main(["secret", "set", "intercom_token"]) == 0
    assert main(["secret", "delete", "intercom_token"]) == 0
    assert Secrets(env={}).get("intercom_token") is None
    assert main(["secret", "delete", "intercom_token"]) == 0
    assert "holds no intercom_token" in capsys.readouterr().out


def test_an_environment_value_that_wins_is_pointed_out(credential_manager, monkeypatch, capsys):
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", "other-token-value-1234")
    _typed(monkeypatch, TOKEN + "\n")
    assert main(["secret", "set", "intercom_token"]) == 0
    assert "HELPMIG_INTERCOM_TOKEN is set in this environment and is used first" in capsys.readouterr().out


def test_nothing_typed_stores_nothing(credential_manager, monkeypatch, capsys):
    _typed(monkeypatch, "\n")
    assert main(["secret", "set", "intercom_token"]) == 2
    assert "nothing typed" in capsys.readouterr().err and credential_manager.vault == {}


def test_no_real_keyring_is_refused_clearly(monkeypatch, capsys):
    """The conftest leaves keyring's fail backend, as on a headless server."""
    _typed(monkeypatch, TOKEN + "\n")
    assert main(["secret", "set", "intercom_token"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "keyring.backends.fail.Keyring" in err and "nothing was stored" in err
    assert "HELPMIG_INTERCOM_TOKEN" in err and TOKEN not in err
    assert keyring_label().startswith("no usable keyring")


def test_a_terminal_gets_a_hidden_prompt(credential_manager, monkeypatch):
    asked: list[str] = []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or TOKEN)
    assert main(["secret", "set", "intercom_token"]) == 0
    assert asked and "hidden" in asked[0] and Secrets(env={}).get("intercom_token") == TOKEN


def test_an_unknown_name_is_a_usage_error(capsys):
    assert main(["secret", "set", "token"]) == 2
    assert "unknown secret 'token'" in capsys.readouterr().err


def test_a_credential_manager_error_is_one_line(credential_manager, monkeypatch, capsys):
    def refuse(credential, flags):
        raise CredError(1783, "CredWrite", f"The stub received bad data for {credential['CredentialBlob']}")

    monkeypatch.setattr(credential_manager, "CredWrite", refuse)
    _typed(monkeypatch, TOKEN + "\n")
    assert main(["secret", "set", "intercom_token"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("helpmig: Windows Credential Manager refused to store intercom_token")
    assert "\n" not in err and TOKEN not in err
