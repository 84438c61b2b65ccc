"""The independent tenants share nothing with the connectors they test: a check that shares
the connector's assumptions cannot find what those assumptions get wrong."""

from __future__ import annotations

import ast
from pathlib import Path

import connectors.samples.tenants as tenants

ALLOWED = {"connectors.samples.fake_http", "connectors.samples.ground_truth"}


def test_the_tenants_import_no_connector_code():
    folder = Path(tenants.__file__).parent
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("connectors.") or name in ALLOWED, f"{path.name} imports {name}"
