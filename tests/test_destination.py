"""The Intercom destination check against the in-process sandbox, and what a project records."""

from __future__ import annotations

import pytest

from connectors.intercom.models import DataAttributeCreate
from connectors.intercom.sandbox import Sandbox
from helpmig_tui.destination import (
    DestinationUrl,
    DestinationError,
    check_destination,
    check_destination_sync,
    default_destination,
    record_destination,
    resolve_destination,
)
from helpmig_tui.logs import setup_logging
from helpmig_tui.project import create_project, open_project, project_status
from helpmig_tui.settings import INTERCOM_URLS, Settings

TOKEN = "dG9rOmdvb2QtdG9rZW4tZm9yLXRlc3Rz"


@pytest.fixture
def sandbox():
    box = Sandbox(tokens=frozenset({TOKEN}))
    yield box
    box.close()


async def test_the_check_reads_the_workspace_admins_teams_and_attributes(sandbox):
    async with sandbox.client(TOKEN) as client:
        for name, model in (("plan_tier", "contact"), ("st_org_id", "company"), ("legacy_id", "contact")):
            await client.data_attributes.create(DataAttributeCreate(name=name, model=model, data_type="string"))
    check = await check_destination(DestinationUrl("http://intercom.sandbox"), TOKEN, transport=sandbox.transport())
    assert (check.workspace, check.workspace_id, check.workspace_region, check.time_zone) == (
        "helpmig sandbox", "sbx0wksp", "US", "UTC"
    )
    assert check.me.name == "Ada Sandbox"
    assert [a.email for a in check.admins] == ["ada@sandbox.example", "brook@sandbox.example", "casey@sandbox.example"]
    assert [(t.name, t.members) for t in check.teams] == [("Support", 2), ("Billing", 1)]
    assert check.custom_attributes == {"contact": 2, "company": 1}  # standard attributes do not count
    assert check.attributes_free == 247 and check.warnings == ()
    text = "\n".join(check.summary_lines())
    assert "helpmig sandbox" in text and "Brook Agent" in text and "247 of 250 free" in text


async def test_a_nearly_full_workspace_is_a_warning(sandbox):
    async with sandbox.client(TOKEN) as client:
        for i in range(230):
            model = "contact" if i % 2 else "company"
            await client.data_attributes.create(DataAttributeCreate(name=f"legacy_{i}", model=model, data_type="string"))
    check = await check_destination(DestinationUrl("http://intercom.sandbox"), TOKEN, transport=sandbox.transport())
    assert check.custom_attributes == {"contact": 115, "company": 115} and check.attributes_free == 20
    assert check.warnings == (
        "only 20 of 250 custom data attributes are free: archive unused ones before the map adds its own",
    )


async def test_a_wrong_token_is_rejected_with_where_to_find_it(sandbox):
    with pytest.raises(DestinationError) as caught:
        await check_destination(DestinationUrl("http://intercom.sandbox"), "wrong-token-0000", transport=sandbox.transport())
    assert caught.value.code == "destination.token_rejected"
    assert "Intercom rejected the token (401)" in caught.value.line()
    assert "Developer Hub" in caught.value.hint and "region" not in caught.value.hint  # a custom URL has no region


async def test_a_rejected_token_at_a_regional_host_mentions_the_other_regions(sandbox):
    with pytest.raises(DestinationError) as caught:
        await check_destination(resolve_destination("eu"), "wrong-token-0000", transport=sandbox.transport())
    assert "choose it (us, au)" in caught.value.hint


async def test_a_workspace_in_another_region_says_which(sandbox):
    with pytest.raises(DestinationError) as caught:
        await check_destination(resolve_destination("au"), TOKEN, transport=sandbox.transport())
    assert caught.value.code == "destination.wrong_region"
    assert "hosted in US, not AU" in str(caught.value) and "--region us" in caught.value.hint


async def test_no_token_is_said_before_any_request():
    with pytest.raises(DestinationError) as caught:
        await check_destination(resolve_destination("us"), None)
    assert caught.value.code == "destination.token_missing" and "HELPMIG_INTERCOM_TOKEN" in caught.value.hint


def test_an_unreachable_host_is_a_clear_error():
    with pytest.raises(DestinationError) as caught:
        check_destination_sync(DestinationUrl("http://127.0.0.1:1"), TOKEN)
    assert caught.value.code == "destination.unreachable"
    assert "cannot reach http://127.0.0.1:1" in str(caught.value) and TOKEN not in caught.value.line()


async def test_a_url_that_is_not_the_api_says_so(sandbox):
    with pytest.raises(DestinationError) as caught:
        await check_destination(DestinationUrl("http://intercom.sandbox/v0"), TOKEN, transport=sandbox.transport())
    assert caught.value.code == "destination.not_intercom"
    assert sandbox.violations.take() == {"spec.operation": 1}  # what a wrong URL looks like from the other side


@pytest.mark.parametrize(
    ("region", "url", "expected"),
    [
        ("eu", None, DestinationUrl(INTERCOM_URLS["eu"], "eu")),
        (None, None, DestinationUrl(INTERCOM_URLS["us"], "us")),
        (None, "http://127.0.0.1:8765/", DestinationUrl("http://127.0.0.1:8765", None)),
        (None, "https://api.au.intercom.io", DestinationUrl(INTERCOM_URLS["au"], "au")),
    ],
)
def test_resolve_destination(region, url, expected):
    assert resolve_destination(region, url) == expected


@pytest.mark.parametrize(("region", "url"), [("mars", None), (None, "api.intercom.io"), (None, "ftp://x")])
def test_resolve_destination_refuses_bad_input(region, url):
    with pytest.raises(DestinationError):
        resolve_destination(region, url)


def test_recording_keeps_the_destination_and_never_the_token(sandbox, paths, tmp_path):
    setup_logging(paths.log_file)
    create_project(paths, "acme", "smart-export", {"folder": str(tmp_path)}).close()
    with open_project(paths, "acme") as store:
        assert default_destination(store, Settings(intercom_region="eu")) == DestinationUrl(INTERCOM_URLS["eu"], "eu")
        check = check_destination_sync(DestinationUrl("http://intercom.sandbox"), TOKEN, transport=sandbox.transport())
        record_destination(store, check)
        status = project_status(store)
        assert default_destination(store, Settings(intercom_region="eu")) == DestinationUrl("http://intercom.sandbox")
    assert status.intercom_url == "http://intercom.sandbox"
    assert status.destination["workspace"] == "helpmig sandbox" and status.destination["region"] is None
    written = b"".join(p.read_bytes() for p in paths.project_dir("acme").rglob("*") if p.is_file())
    assert TOKEN.encode() not in written
    log = paths.log_file.read_text(encoding="utf-8")
    assert "workspace helpmig sandbox" in log and TOKEN not in log


async def test_several_tokens_of_one_workspace_pass_and_share_its_limit():
    tokens = ("app-token-one", "app-token-two", "app-token-three")
    box = Sandbox(tokens=frozenset(tokens), rate_limit=1667, workspace_rate_limit=4167)
    check = await check_destination(DestinationUrl("http://intercom.sandbox"), list(tokens), transport=box.transport())
    assert check.apps == 3 and check.limit_per_10s == 4167  # three apps' 5,001 within the workspace's 4,167
    assert any("3 apps of this workspace" in line for line in check.summary_lines())
    box.close()


async def test_a_token_of_another_workspace_is_refused_naming_which():
    tokens = ("ours-one", "ours-two", "theirs")
    box = Sandbox(tokens=frozenset(tokens), workspaces={"theirs": "other0ws"})
    with pytest.raises(DestinationError) as refused:
        await check_destination(DestinationUrl("http://intercom.sandbox"), list(tokens), transport=box.transport())
    assert refused.value.code == "destination.tokens_mixed"
    assert "token 3" in str(refused.value) and "other0ws" in str(refused.value) and "theirs" not in refused.value.line()
    box.close()


def test_further_tokens_come_from_numbered_variables_in_order():
    from helpmig_tui.settings import Secrets, secret_name

    secrets = Secrets(env={"HELPMIG_INTERCOM_TOKEN": "a", "HELPMIG_INTERCOM_TOKEN_2": "b",
                           "HELPMIG_INTERCOM_TOKEN_3": "c", "HELPMIG_INTERCOM_TOKEN_5": "e"}, use_keyring=False)
    assert secrets.intercom_tokens() == ["a", "b", "c"]  # _5 without _4 is not read
    assert secret_name("HELPMIG_INTERCOM_TOKEN_2") == "intercom_token_2"
    assert Secrets(env={}, use_keyring=False).intercom_tokens() == []


async def test_a_rejected_further_token_is_named():
    box = Sandbox(tokens=frozenset({"ours-one", "ours-two"}))
    with pytest.raises(DestinationError) as refused:
        await check_destination(DestinationUrl("http://intercom.sandbox"), ["ours-one", "ours-two", "a-typo"],
                                transport=box.transport())
    assert refused.value.code == "destination.token_rejected"
    assert "token 3 (401): HELPMIG_INTERCOM_TOKEN_3" in refused.value.line() and "a-typo" not in refused.value.line()
    box.close()
