"""Each connector describes its connection form: labels, kinds, and which fields are secrets."""

import pytest

from connectors.base import SourceError
from connectors.option_fields import OptionKind, plain_fields, resolve_options, secret_names
from connectors.registry import source_class

SECRETS = {"itsm365": ("itsm365_access_key",), "infraon": ("infraon_api_key", "infraon_password"), "smart-export": ()}


@pytest.mark.parametrize("platform", sorted(SECRETS))
def test_forms_name_their_secrets_and_label_every_field(platform):
    fields = source_class(platform).option_fields
    assert secret_names(fields) == SECRETS[platform]
    assert len({f.name for f in fields}) == len(fields) and all(f.label for f in fields)
    assert all(f.choices for f in fields if f.kind is OptionKind.CHOICE)
    assert all(f.default in f.choices for f in fields if f.kind is OptionKind.CHOICE and f.default is not None)


def test_resolve_fills_defaults_and_checks_values():
    fields = source_class("infraon").option_fields
    resolved = resolve_options("Infraon Desk", fields, {"base_url": "https://x", "items_per_page": "25", "verify_tls": "no"})
    assert resolved["items_per_page"] == 25 and resolved["verify_tls"] is False and resolved["auth"] == "auto"
    assert set(resolved) == {f.name for f in plain_fields(fields)}
    with pytest.raises(SourceError, match="required"):
        resolve_options("Infraon Desk", fields, {})
    with pytest.raises(SourceError, match="one of"):
        resolve_options("Infraon Desk", fields, {"base_url": "https://x", "auth": "oauth"})
    with pytest.raises(SourceError, match="whole number"):
        resolve_options("Infraon Desk", fields, {"base_url": "https://x", "max_pages": "many"})


def test_a_source_option_given_on_the_command_line_reaches_the_connector(tmp_path, capsys):
    import json

    from connectors.samples.tenants.naumen import CALL, NaumenTenant
    from helpmig_tui.cli import main
    from helpmig_tui.project import open_project
    from helpmig_tui.settings import resolve_paths

    tenant = NaumenTenant(tickets=12)
    code = main(["--home", str(tmp_path), "init", "p", "--source", "itsm365", "--url", tenant.base_url,
                 "--option", f"incident_types={CALL}", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["source"]["incident_types"] == CALL
    with open_project(resolve_paths(tmp_path), "p") as store:
        options = store.project().source_options
    source = source_class("itsm365").from_options(options, tenant.secret, transport=tenant.transport())
    assert len([r for b in source.iter_records("incidents") for r in b]) == tenant.type_counts[CALL]
    assert main(["--home", str(tmp_path), "init", "q", "--source", "itsm365", "--url", tenant.base_url,
                 "--option", "incident_types"]) == 2
    assert main(["--home", str(tmp_path), "init", "r", "--source", "infraon", "--url", "https://x.test",
                 "--option", "system_entries=drop"]) == 2
    assert "must be one of note, skip" in capsys.readouterr().err

