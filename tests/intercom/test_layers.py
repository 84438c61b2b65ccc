"""connectors/intercom is the bottom layer: it imports nothing from helpmig_tui or screens."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "connectors" / "intercom"


def test_intercom_package_imports_no_upper_layer():
    offenders = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(PACKAGE)}: {name}" for name in names if name.split(".")[0] in ("helpmig_tui", "screens", "textual")]
    assert offenders == []
