"""The Connect step in the wizard (Pilot): source form, tests in App-owned workers, Intercom
against the in-process sandbox, secrets kept out of the project, 80x24."""

from __future__ import annotations

import sys
import threading

import pytest
from keyring.backend import KeyringBackend
from textual.widgets import Checkbox, Input, Select, Static, Switch

from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from connectors.samples import generate_smartertrack
from connectors.sql import odbc
from helpmig_tui.app import make_app
from helpmig_tui.project import create_project, open_project
from helpmig_tui.settings import KEYRING_SERVICE, Secrets, Settings
from helpmig_tui.source_connection import recorded_source_check
from screens.connect import ConnectScreen
from screens.messages import DestinationTested, SourceTested
from screens.overview import OverviewScreen

TOKEN = "d2l6YXJkOnNhbmRib3gtdG9rZW4tMDA="
SIZE = (80, 24)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("st")
    generate_smartertrack(folder, tickets=30, large_body=1000, attachment_files=False)
    return folder


@pytest.fixture
def sandbox():
    box = Sandbox(tokens=frozenset({TOKEN}))
    yield box
    box.close()


def _app(paths, sandbox, secrets=None):
    return make_app(paths=paths, settings=Settings(), secrets=secrets or Secrets(env={}, use_keyring=False),
                    intercom_transport=sandbox.transport())


async def _open_connect(pilot) -> ConnectScreen:
    await pilot.press("enter")  # the only project
    assert isinstance(pilot.app.screen, OverviewScreen)
    await pilot.press("enter")  # Connect is the first step
    assert isinstance(pilot.app.screen, ConnectScreen)
    return pilot.app.screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_connect_a_sqlite_source_and_intercom_then_back_to_the_overview(paths, sample, sandbox, tmp_path):
    create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "not-yet.db")}).close()
    messages = []
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await _open_connect(pilot)
        assert "Test the source before the audit" in _text(screen, "#blocking")
        assert "[blocker] Confirm a verified backup of the SmarterTrack database" in str(
            screen.query(".checklist-item").first(Static).render()
        )

        screen.query_one("#sqlite", Input).value = str(sample / "smartertrack.db")
        await pilot.pause()
        assert "Unsaved source changes" in _text(screen, "#blocking")
        await pilot.click("#test-source")
        await _settle(pilot)
        assert "✓ SQLite file" in _text(screen, "#source-result") and "25 tickets" in _text(screen, "#source-result")
        assert "Press s to save" in _text(screen, "#source-result")

        screen.query_one("#test-source").focus()
        await pilot.press("s")
        assert "Unsaved" not in _text(screen, "#blocking") and "Test the source" not in _text(screen, "#blocking")

        screen.query_one("#region", Select).value = "custom"
        screen.query_one("#intercom-url", Input).value = SANDBOX_URL
        screen.query_one("#token", Input).value = TOKEN
        screen.query_one("#token", Input).focus()
        await pilot.press("enter")  # enter in the token field tests Intercom
        await _settle(pilot)
        result = _text(screen, "#intercom-result")
        assert "✓ Workspace helpmig sandbox (sbx0wksp)" in result and "region US" in result
        assert "Brook Agent <brook@sandbox.example>" in result and "Support (2 admins)" in result
        assert "250 of 250 free" in result
        assert "typed in for this session: ****" in _text(screen, "#token-source")
        assert screen.query_one("#token", Input).value == ""  # taken into the session, not left on screen
        assert "The source and Intercom are connected" in _text(screen, "#blocking")

        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert _text(app.screen, "#status-intercom") == f"{SANDBOX_URL} (workspace helpmig sandbox)"
        assert "SQLite file" in _text(app.screen, "#status-source")
    stages = [type(m) for m in messages if isinstance(m, (SourceTested, DestinationTested))]
    assert stages == [SourceTested, DestinationTested]
    with open_project(paths, "acme") as store:
        project = store.project()
        assert project.source_options == {"sqlite": str(sample / "smartertrack.db")}
        assert project.intercom_url == SANDBOX_URL and project.settings["intercom"]["workspace_id"] == "sbx0wksp"
        assert recorded_source_check(store)["ok"] is True
    written = b"".join(p.read_bytes() for p in paths.home.rglob("*") if p.is_file())
    assert TOKEN.encode() not in written


async def test_a_rejected_token_and_a_missing_file_are_one_line_each(paths, sandbox, tmp_path):
    create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "gone.db")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        screen.query_one("#region", Select).value = "custom"
        screen.query_one("#intercom-url", Input).value = SANDBOX_URL
        screen.query_one("#token", Input).value = "a-wrong-token-1234"
        screen.query_one("#test-source").focus()
        await pilot.press("t")  # tests both panels
        await _settle(pilot)
        assert "✗ SQLite file not found" in _text(screen, "#source-result")
        blocking = _text(screen, "#blocking")
        assert "The source test failed: SQLite file not found" in blocking
        assert "Intercom rejected the token (401)" in blocking and "Developer Hub" in blocking
        assert "a-wrong-token-1234" not in blocking + _text(screen, "#token-source")
    with open_project(paths, "acme") as store:
        assert store.project().intercom_url is None


@pytest.mark.odbc
async def test_the_sql_server_form(paths, sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(odbc.import_pyodbc(), "drivers", lambda: ["SQLite3", "ODBC Driver 17 for SQL Server",
                                                                   "ODBC Driver 18 for SQL Server"])
    create_project(paths, "ti", "trackit", {"sqlite": str(tmp_path / "t.db")}).close()
    secrets = Secrets(env={}, use_keyring=False)
    app = _app(paths, sandbox, secrets)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        screen.query_one("#sql-mode", Select).value = "server"
        await pilot.pause()
        assert screen.query_one("#server-box").display and not screen.query_one("#sqlite-box").display
        driver = screen.query_one("#driver", Select)
        assert driver.value == "auto" and "Newest installed (ODBC Driver 18 for SQL Server)" in str(driver._options[0][0])
        assert not screen.query_one("#login-box").display  # Windows authentication by default
        screen.query_one("#server", Input).value = r"sql01\TRACKIT"
        screen.query_one("#database", Input).value = "TRACKIT_DATA"
        screen.query_one("#trusted", Switch).value = False
        await pilot.pause()
        assert screen.query_one("#login-box").display and screen.query_one("#password-box").display
        screen.query_one("#user", Input).value = "reader"
        password = screen.query_one("#secret-sql_password", Input)
        assert password.password  # masked
        password.value = "Tr@ckit-pass"
        screen.query_one("#validate-cert", Switch).value = True
        screen.query_one("#timezone", Input).value = "Europe/Berlin"
        screen.query_one("#save").focus()
        await pilot.press("s")
        assert "typed in for this session: ****pass" in _text(screen, "#secret-sql_password-source")
    assert secrets.get("sql_password") == "Tr@ckit-pass"
    with open_project(paths, "ti") as store:
        assert store.project().source_options == {
            "server": r"sql01\TRACKIT", "database": "TRACKIT_DATA", "user": "reader", "encrypt": True,
            "trust_server_certificate": False, "timezone": "Europe/Berlin",
        }
    assert b"Tr@ckit-pass" not in paths.state_file("ti").read_bytes()


async def test_without_pyodbc_the_form_says_so_and_sqlite_still_works(paths, sample, sandbox, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    create_project(paths, "acme", "smartertrack", {"sqlite": str(sample / "smartertrack.db")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        assert "the Python package pyodbc is not installed" in _text(screen, "#driver-note")
        assert "A SQLite file still works" in _text(screen, "#driver-note")
        assert screen.query_one("#driver", Select).disabled
        await pilot.press("t")
        await _settle(pilot)
        assert "✓ SQLite file" in _text(screen, "#source-result")


async def test_a_generated_form_for_a_rest_source_keeps_its_secret_out(paths, sandbox):
    create_project(paths, "inf", "infraon", {"url": "https://acme.infraon.app"}).close()
    secrets = Secrets(env={}, use_keyring=False)
    app = _app(paths, sandbox, secrets)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        assert screen.query_one("#opt-base_url", Input).value == "https://acme.infraon.app"
        assert screen.query_one("#opt-auth", Select).value == "auto"
        assert "not set: type it here, or set HELPMIG_INFRAON_API_KEY" in _text(screen, "#secret-infraon_api_key-source")
        assert app.focused.id == "opt-base_url"
        await pilot.press("ctrl+t")  # while typing; no key yet: the connector says which secret it needs
        await _settle(pilot)
        assert "needs an API key" in _text(screen, "#source-result")
        screen.query_one("#opt-auth", Select).value = "token"
        screen.query_one("#opt-username", Input).value = "svc-migration"
        key = screen.query_one("#secret-infraon_password", Input)
        assert key.password
        key.value = "infraon-Secret-9"
        screen.query_one("#save").focus()
        await pilot.press("s")
        assert "typed in for this session: ****et-9" in _text(screen, "#secret-infraon_password-source")
    assert secrets.get("infraon_password") == "infraon-Secret-9"
    with open_project(paths, "inf") as store:
        assert store.project().source_options == {
            "base_url": "https://acme.infraon.app", "auth": "token", "username": "svc-migration",
        }
    assert b"infraon-Secret-9" not in paths.state_file("inf").read_bytes()


async def test_an_export_folder_source_from_its_generated_form(paths, sandbox, tmp_path):
    from connectors.samples.smart_export_sample import write_smart_export

    write_smart_export(tmp_path / "export", size=20, seed=2)
    create_project(paths, "smart", "smart-export", {"folder": str(tmp_path / "elsewhere")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        field = screen.query_one("#opt-folder", Input)
        field.value = str(tmp_path / "export")
        field.focus()
        await pilot.press("enter")  # enter in a source field tests the source
        await _settle(pilot)
        assert "✓" in _text(screen, "#source-result") and "tickets:" in _text(screen, "#source-result")
        await pilot.press("ctrl+s")  # saving while typing
        assert "Unsaved" not in _text(screen, "#blocking")
    with open_project(paths, "smart") as store:
        assert store.project().source_options == {"folder": str(tmp_path / "export")}
        assert recorded_source_check(store)["ok"] is True


async def test_the_export_encoding_is_shown_and_can_be_named_on_the_form(paths, sandbox, tmp_path):
    from tests.sources_rest.smart_folders import RU_PLAIN, write_customer_export

    write_customer_export(tmp_path / "ru", lang=RU_PLAIN, encoding="cp1251", n=6)
    create_project(paths, "ru", "smart-export", {"folder": str(tmp_path / "ru")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        screen.query_one("#opt-folder", Input).focus()
        await pilot.press("enter")
        await _settle(pilot)
        shown = _text(screen, "#source-result")
        assert "✓" in shown and "cp1251" in shown and "Новый ноутбук" in shown  # the decision and a sample
        screen.query_one("#opt-encoding", Select).value = "cp1252"  # a wrong choice is caught, not loaded
        screen.query_one("#opt-folder", Input).focus()
        await pilot.press("enter")
        await _settle(pilot)
        assert "mis-decoded" in _text(screen, "#source-result")
        await pilot.press("ctrl+s")
    with open_project(paths, "ru") as store:
        assert store.project().source_options["encoding"] == "cp1252"


async def test_a_token_from_the_environment_is_shown_masked_and_used(paths, sample, sandbox):
    create_project(paths, "acme", "smartertrack", {"sqlite": str(sample / "smartertrack.db")}).close()
    app = _app(paths, sandbox, Secrets(env={"HELPMIG_INTERCOM_TOKEN": TOKEN}, use_keyring=False))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        assert _text(screen, "#token-source") == f"from HELPMIG_INTERCOM_TOKEN: ****{TOKEN[-4:]} (change it in the environment)"
        assert screen.query_one("#token", Input).disabled
        assert not screen.query("#remember-token")  # no keyring here
        screen.query_one("#region", Select).value = "custom"
        screen.query_one("#intercom-url", Input).value = SANDBOX_URL
        screen.query_one("#test-intercom").focus()
        await pilot.press("t")
        await _settle(pilot)
        assert "helpmig sandbox" in _text(screen, "#intercom-result")


class MemoryKeyring(KeyringBackend):
    """A keyring that works, for the 'remember' checkbox (the test machine has none)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.values.get((service, username))

    def set_password(self, service, username, password):
        self.values[(service, username)] = password

    def delete_password(self, service, username):
        self.values.pop((service, username), None)


async def test_remember_the_token_in_the_keyring_once_it_works(paths, sample, sandbox, monkeypatch):
    import keyring.core

    ring = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    create_project(paths, "acme", "smartertrack", {"sqlite": str(sample / "smartertrack.db")}).close()
    app = _app(paths, sandbox, Secrets(env={}))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        assert "once it works" in str(screen.query_one("#remember-token", Checkbox).label)
        screen.query_one("#region", Select).value = "custom"
        screen.query_one("#intercom-url", Input).value = SANDBOX_URL
        screen.query_one("#token", Input).value = "wrong-token-5678"
        screen.query_one("#remember-token", Checkbox).value = True
        screen.query_one("#test-intercom").focus()
        await pilot.press("enter")
        await _settle(pilot)
        assert ring.values == {}  # a rejected token is not remembered
        screen.query_one("#token", Input).value = TOKEN
        await pilot.press("enter")  # the button still has the focus
        await _settle(pilot)
        assert ring.values == {(KEYRING_SERVICE, "intercom_token"): TOKEN}


async def test_leaving_the_step_does_not_stop_a_test(paths, sample, sandbox, monkeypatch):
    """The test runs in an App-owned worker: gated here so the running state can be seen."""
    from helpmig_tui import source_connection

    gate = threading.Event()
    real = source_connection.check_source

    def gated(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(source_connection, "check_source", gated)  # the App imports it when it tests
    create_project(paths, "acme", "smartertrack", {"sqlite": str(sample / "smartertrack.db")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        await pilot.press("t")
        assert "The source is being tested" in _text(screen, "#blocking")
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("enter")  # back into Connect while the test still runs
        screen = app.screen
        assert isinstance(screen, ConnectScreen) and screen.source_running
        assert "Testing the source" in _text(screen, "#source-result")
        gate.set()
        await _settle(pilot)
        assert "✓ SQLite file" in _text(screen, "#source-result") and not screen.source_running


async def test_escape_with_unsaved_changes_warns_once(paths, sample, sandbox):
    create_project(paths, "acme", "smartertrack", {"sqlite": str(sample / "smartertrack.db")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        screen.query_one("#prefix", Input).value = "xx_"
        screen.query_one("#test-source").focus()
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
    with open_project(paths, "acme") as store:
        assert "prefix" not in store.project().source_options


async def test_every_field_is_reachable_by_tab_and_visible_at_80x24(paths, sample, sandbox):
    create_project(paths, "acme", "smartertrack", {"sqlite": str(sample / "smartertrack.db")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        seen = []
        for _ in range(14):
            focused = app.focused
            assert focused is not None and focused.id not in seen
            seen.append(focused.id)
            region = focused.region
            assert region.height > 0 and 0 <= region.y and region.bottom <= SIZE[1] - 1, focused.id  # above the footer
            await pilot.press("tab")
            await pilot.pause()
            if app.focused.id == seen[0]:
                break
        assert seen == ["sql-mode", "sqlite", "attachments", "prefix", "schema", "timezone", "test-source", "save",
                        "region", "token", "test-intercom", "connect-form"]
        screen.query_one("#test-source").focus()
        await pilot.pause()
        keys = {key for key, active in screen.active_bindings.items() if active.binding.show}
        assert {"t", "s", "escape"} <= keys and "ctrl+t" not in keys
        screen.query_one("#sqlite").focus()  # a focused Input takes plain keys: ctrl+t and ctrl+s instead
        await pilot.pause()
        keys = {key for key, active in screen.active_bindings.items() if active.binding.show}
        assert {"ctrl+t", "ctrl+s", "escape"} <= keys and "t" not in keys


async def test_remember_a_source_password_when_saving(paths, sandbox, tmp_path, monkeypatch):
    import keyring.core

    ring = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    create_project(paths, "ti", "trackit", {"server": "sql01", "database": "TRACKIT_DATA", "user": "reader"}).close()
    secrets = Secrets(env={})
    app = _app(paths, sandbox, secrets)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        assert screen.query_one("#password-box").display
        screen.query_one("#secret-sql_password", Input).value = "Tr@ckit-pass"
        screen.query_one("#test-source").focus()
        await pilot.press("t")  # the test takes the password into the session (no SQL Server here: it fails)
        await _settle(pilot)
        assert "✗" in _text(screen, "#source-result") and ring.values == {}
        screen.query_one("#remember-source", Checkbox).value = True
        await pilot.press("s")
        assert ring.values == {(KEYRING_SERVICE, "sql_password"): "Tr@ckit-pass"}
    assert Secrets(env={}).source_of("sql_password") == "keyring"  # a later session finds it


@pytest.mark.sqlite_odbc
async def test_an_odbc_connection_string_goes_through_pyodbc(paths, sample, sandbox, tmp_path):
    """The ODBC path for real: pyodbc and the SQLite ODBC driver stand in for SQL Server."""
    create_project(paths, "acme", "smartertrack", {"sqlite": str(tmp_path / "x.db")}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        screen.query_one("#sql-mode", Select).value = "odbc"
        await pilot.pause()
        assert screen.query_one("#odbc-box").display and screen.query_one("#password-box").display
        field = screen.query_one("#odbc", Input)
        field.value = f"DRIVER={{SQLite3}};Database={sample / 'smartertrack.db'}"
        field.focus()
        await pilot.press("enter")
        await _settle(pilot)
        result = _text(screen, "#source-result")
        assert "✓ ODBC DRIVER={SQLite3}" in result and "through SQLite3" in result
        await pilot.press("ctrl+s")
    with open_project(paths, "acme") as store:
        assert store.project().source_options == {"odbc": f"DRIVER={{SQLite3}};Database={sample / 'smartertrack.db'}"}
        assert recorded_source_check(store)["ok"] is True


async def test_the_demo_connects_to_its_sandbox_with_nothing_typed_in(paths):
    from helpmig_tui.demo import prepare_demo

    demo = prepare_demo(paths, "smartertrack", tickets=30)
    app = make_app(paths=paths, settings=Settings(), secrets=Secrets(env={}, use_keyring=False), demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)  # the demo opens its project, on its next step
        await pilot.press("home", "enter")
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        assert screen.query_one("#intercom-url", Input).value == SANDBOX_URL
        assert "typed in for this session" in _text(screen, "#token-source")
        await pilot.press("t")
        await _settle(pilot)
        assert "✓ SQLite file" in _text(screen, "#source-result")
        assert "✓ Workspace helpmig sandbox" in _text(screen, "#intercom-result")
        assert "The source and Intercom are connected" in _text(screen, "#blocking")
    with open_project(paths, demo.project) as store:
        assert store.project().intercom_url == SANDBOX_URL


async def test_itsm365_incident_types_typed_on_the_generated_form_are_saved(paths, sandbox):
    create_project(paths, "sd", "itsm365", {"url": "https://acme.itsm365.com/sd"}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        field = screen.query_one("#opt-incident_types", Input)
        assert field.value == ""
        field.focus()
        await pilot.press(*"serviceCall", "dollar_sign", *"call", "comma", "space", *"serviceCall", "dollar_sign", *"incident")
        assert field.value == "serviceCall$call, serviceCall$incident"
        screen.query_one("#save").focus()
        await pilot.press("s")
        await _settle(pilot)
    with open_project(paths, "sd") as store:
        assert store.project().source_options["incident_types"] == "serviceCall$call, serviceCall$incident"


async def test_infraon_ticket_modules_chosen_on_the_generated_form_are_saved(paths, sandbox):
    create_project(paths, "inm", "infraon", {"url": "https://acme.infraon.app"}).close()
    app = _app(paths, sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_connect(pilot)
        field = screen.query_one("#opt-ticket_modules", Input)
        field.focus()
        await pilot.press(*"incidents")
        screen.query_one("#save").focus()
        await pilot.press("s")
        await _settle(pilot)
    with open_project(paths, "inm") as store:
        assert store.project().source_options["ticket_modules"] == "incidents"
