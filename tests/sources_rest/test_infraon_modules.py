"""Infraon ticket modules: which ones the tenant offers is discovered by probing their routes,
the operator chooses which are read (`ticket_modules`), and the audit says both.

The second module, Request Process, has no documented route: the tenant fake puts it at a
path of its own and the connector is told that path with `service_requests_path`.
"""

from __future__ import annotations

import json

import pytest

from connectors.base import Severity, SourceError
from connectors.infraon import InfraonSource
from connectors.samples.tenants.infraon import InfraonBehaviour, InfraonTenant
from helpmig_tui.audit import run_audit

ROUTE = "/ux/sd/request/request/"  # the tenant's own choice: Infraon documents none


def _source(tenant: InfraonTenant, **options) -> InfraonSource:
    return InfraonSource.from_options(tenant.options(**options), tenant.secret, transport=tenant.transport(),
                                      sleep=lambda _s: None)


def _modules_finding(findings):
    found = [f for f in findings if f.code == "infraon.ticket_modules"]
    assert len(found) == 1 and found[0].severity is Severity.INFO
    return found[0]


@pytest.fixture(scope="module")
def with_requests():
    return InfraonTenant(tickets=20, behaviour=InfraonBehaviour(requests_path=ROUTE))


def test_a_tenant_without_the_module_reads_incidents_and_says_requests_are_absent():
    tenant = InfraonTenant(tickets=20)
    with _source(tenant) as source:
        result = run_audit(source)
    assert "service_requests" not in {o.spec.name for o in result.objects}
    finding = _modules_finding(result.findings)
    assert "Incidents (read)" in finding.message and "Service requests (absent)" in finding.message
    absent = next(f for f in result.findings if f.code == "source.object_absent" and f.object == "service_requests")
    assert absent.severity is Severity.INFO and "HTTP 404" in absent.message


def test_a_module_the_tenant_offers_is_discovered_and_read(with_requests):
    with _source(with_requests, service_requests_path=ROUTE) as source:
        assert source.modules() == {"incidents": "read", "service_requests": "read"}
        assert "ticket modules: incidents (read), service_requests (read)" in source.check().details
        result = run_audit(source)
        records = [r for batch in source.iter_records("service_requests") for r in batch]
    counts = {o.spec.name: o.profile.count for o in result.objects}
    assert counts["service_requests"] == with_requests.truth.counts["service_requests"] == 7
    assert counts["incidents"] == with_requests.truth.counts["incidents"]
    assert sorted(r.key for r in records) == [str(50000 + n) for n in range(7)]
    assert "read: every module the tenant offers" in _modules_finding(result.findings).message


def test_the_operator_can_leave_an_offered_module_out(with_requests):
    with _source(with_requests, service_requests_path=ROUTE, ticket_modules="incidents") as source:
        result = run_audit(source)
        with pytest.raises(SourceError, match="not chosen"):
            next(source.iter_records("service_requests"))
    assert "service_requests" not in {o.spec.name for o in result.objects}
    message = _modules_finding(result.findings).message
    assert "Service requests (offered, not chosen)" in message and "chosen with ticket_modules" in message


def test_a_forbidden_module_is_absent_not_an_error():
    tenant = InfraonTenant(tickets=10, behaviour=InfraonBehaviour(requests_path=ROUTE, forbidden=frozenset({ROUTE})))
    with _source(tenant, service_requests_path=ROUTE) as source:
        assert source.modules()["service_requests"] == "absent"
        assert any(f.code == "source.permission_denied" and f.object == "service_requests" for f in source.findings)


@pytest.mark.parametrize("value, message", [("service_requests", "incidents are always read"),
                                            ("incidents, problems", "unknown module problems")])
def test_a_choice_that_cannot_be_read_is_refused(value, message):
    with pytest.raises(SourceError, match=message) as caught:
        _source(InfraonTenant(tickets=1), ticket_modules=value)
    assert caught.value.code == "source.bad_options"


def test_the_choice_is_set_on_the_command_line(tmp_path, capsys, with_requests):
    from helpmig_tui.cli import main
    from helpmig_tui.project import open_project
    from helpmig_tui.settings import resolve_paths

    code = main(["--home", str(tmp_path), "init", "p", "--source", "infraon", "--url", with_requests.base_url,
                 "--option", "ticket_modules=incidents", "--option", f"service_requests_path={ROUTE}", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["source"]["ticket_modules"] == "incidents"
    with open_project(resolve_paths(tmp_path), "p") as store:
        options = store.project().source_options
    with InfraonSource.from_options(options, with_requests.secret, transport=with_requests.transport()) as source:
        assert source.modules()["service_requests"] == "offered, not chosen"
