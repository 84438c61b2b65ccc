"""The default maps against the independent tenants: every field known, the required Intercom
fields covered, authors mapped so a technician's entry resolves to an admin, and every
record the connectors read taken by apply_map."""

from __future__ import annotations

import pytest

from connectors.infraon import InfraonSource
from connectors.itsm365 import Itsm365Source
from connectors.samples.tenants.infraon import InfraonTenant
from connectors.samples.tenants.naumen import CALL, NaumenTenant
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.apply import apply_map
from helpmig_tui.mapping.evidence import evidence_from_schema
from helpmig_tui.mapping.model import StandardTarget
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.standard import TargetKind as K


def _naumen():
    tenant = NaumenTenant(tickets=40, seed=2)
    return Itsm365Source.from_options(tenant.options(incident_types=CALL), tenant.secret, transport=tenant.transport(),
                                      sleep=lambda _s: None)


def _infraon():
    tenant = InfraonTenant(tickets=40, seed=2)
    return InfraonSource.from_options(tenant.options(), tenant.secret, transport=tenant.transport(), sleep=lambda _s: None)


AUTHORS = {  # part object -> field -> (refers_to, match) the proposal must keep
    "itsm365": {"incident_comments": {"author": (None, "key")}},
    "infraon": {"conversations": {"author_technician": ("technicians", "key"), "author_requester": ("requesters", "key"),
                                  "author_email": (None, "email")}},
}


@pytest.mark.parametrize(("platform", "opened"), [("itsm365", _naumen), ("infraon", _infraon)])
def test_the_default_map_takes_the_tenant_and_maps_authors_to_admins_first(platform, opened):
    with opened() as source:
        schema = source.describe()
        audit = run_audit(source)
        mmap = propose_map(evidence_from_schema(schema, {o.spec.name: o.profile for o in audit.objects}))
        assert mmap.coverage() == {}
        for obj, fields in AUTHORS[platform].items():
            for name, (refers_to, match) in fields.items():
                target = mmap.field_map(obj, name).target
                assert isinstance(target, StandardTarget) and target.field == "author", (obj, name, target)
                assert (target.refers_to, target.match) == (refers_to, match), (obj, name)
            direction = mmap.field_map(obj, "direction").target
            assert isinstance(direction, StandardTarget) and direction.field == "direction"
        assert mmap.object_map("technicians").target is K.ADMIN
        for om in mmap.active_objects():
            for batch in source.iter_records(om.object):
                for record in batch:
                    mapped = apply_map(mmap, om.object, record)
                    assert mapped.ok or mapped.rejected
                    if om.target is K.PART and mapped.ok:
                        assert mapped.standard.get("direction") == record.data["direction"]
