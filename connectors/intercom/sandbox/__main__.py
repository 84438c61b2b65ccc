"""`python -m connectors.intercom.sandbox --port 8765 [--rate-limit N] [--latency-ms N] [--faults RATE]`."""

from __future__ import annotations

import argparse

from connectors.intercom.sandbox.config import APP_LIMIT, WORKSPACE_LIMIT
from connectors.intercom.sandbox.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.intercom.sandbox", description="Run the Intercom sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate-limit", type=int, default=APP_LIMIT,
                        help=f"requests per 10-second window per token (default {APP_LIMIT}; 0: no limit at all)")
    parser.add_argument("--workspace-rate-limit", type=int, default=WORKSPACE_LIMIT,
                        help=f"requests per 10-second window, all tokens (default {WORKSPACE_LIMIT})")
    parser.add_argument("--search-lag", type=float, default=0.0, help="seconds before search sees a new object")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--faults", type=float, default=0.0, help="share of requests that meet a fault (0..1)")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--state", dest="state_path", default=None, help="SQLite file for the workspace (default: memory)")
    parser.add_argument("--token", default=None, help="accepted token(s), comma-separated (default: any)")
    args = parser.parse_args(argv)
    print(f"Intercom sandbox on http://{args.host}:{args.port} (Ctrl+C stops)", flush=True)
    serve(
        args.host,
        args.port,
        rate_limit=args.rate_limit,
        latency_ms=args.latency_ms,
        faults=args.faults,
        state_path=args.state_path,
        token=args.token,
        workspace_rate_limit=args.workspace_rate_limit if args.rate_limit else 0,
        fault_seed=args.fault_seed,
        search_lag=args.search_lag,
    )


if __name__ == "__main__":
    main()
