"""Benchmark: the requests a whole audit (run_audit) makes against the independent REST tenants.

    python bench/rest_audit.py                                   # both platforms, 300 and 3,000 tickets
    python bench/rest_audit.py --tickets 300 --platform infraon

The tenants are the ones written from the vendors' material (connectors/samples/tenants),
reached in process; requests are counted by the tenant, so retries after a 429 count too.
Each variant is a tenant behaviour the connector must cope with (see the tenants' docs).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.infraon import InfraonSource  # noqa: E402
from connectors.itsm365 import Itsm365Source  # noqa: E402
from connectors.samples.tenants.infraon import InfraonBehaviour, InfraonTenant  # noqa: E402
from connectors.samples.tenants.naumen import CALL, NaumenBehaviour, NaumenTenant  # noqa: E402
from helpmig_tui.audit import run_audit  # noqa: E402

VARIANTS = {
    "itsm365": [
        ("no date filter, no cap (6 years)", {}, NaumenBehaviour()),
        ("date filter, replies cut at 200 (6 years)", {}, NaumenBehaviour(date_filter=True, max_results=200)),
        ("date filter, replies cut at 200 (20 years)", {"years": 20}, NaumenBehaviour(date_filter=True, max_results=200)),
        ("no date filter, 429 every 10th request", {}, NaumenBehaviour(throttle_every=10)),
    ],
    "infraon": [
        ("ref_id honoured, people routes absent", {}, InfraonBehaviour()),
        ("ref_id ignored", {}, InfraonBehaviour(ref_id_filter=False)),
        ("429 every 10th request", {}, InfraonBehaviour(throttle_every=10)),
    ],
}


def audit(platform_name: str, tickets: int, extra: dict, behaviour) -> dict:
    if platform_name == "itsm365":
        tenant = NaumenTenant(tickets=tickets, behaviour=behaviour, **extra)
        source = Itsm365Source.from_options(tenant.options(incident_types=CALL), tenant.secret,
                                            transport=tenant.transport(), sleep=lambda _s: None)
    else:
        tenant = InfraonTenant(tickets=tickets, behaviour=behaviour, **extra)
        source = InfraonSource.from_options(tenant.options(), tenant.secret, transport=tenant.transport(),
                                            sleep=lambda _s: None)
    started = time.perf_counter()
    with source:
        result = run_audit(source)
        usage = source.request_usage()
    return {"requests": len(tenant.requests), "throttled": usage.throttled,
            "records": sum(o.profile.count for o in result.objects), "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, action="append", help="tickets per tenant (repeatable)")
    parser.add_argument("--platform", choices=sorted(VARIANTS), action="append")
    args = parser.parse_args()
    sizes = args.tickets or [300, 3000]
    print(f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
          f"load average before: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    print("\n| platform | tenant behaviour | tickets | records read | requests | 429s | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name in args.platform or sorted(VARIANTS):
        for label, extra, behaviour in VARIANTS[name]:
            for tickets in sizes:
                row = audit(name, tickets, extra, behaviour)
                print(f"| {name} | {label} | {tickets:,} | {row['records']:,} | {row['requests']:,} | "
                      f"{row['throttled']} | {row['seconds']:.1f} |", flush=True)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
