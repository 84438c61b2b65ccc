"""DESIGN.md section 3: the import rules between the layers, enforced on every module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_SHELL = {"helpmig_tui/app.py", "helpmig_tui/cli.py", "helpmig_tui/cli_pipeline.py", "helpmig_tui/app_runs.py",
             "helpmig_tui/__main__.py"}
NATIVE = {"pyodbc", "openpyxl"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


class _ImportCollector(ast.NodeVisitor):
    """Collects imports, noting whether each runs at import time (outside any function)."""

    def __init__(self) -> None:
        self.depth = 0
        self.found: list[tuple[str, bool]] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(alias.name, self.depth == 0) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            self.found.append((node.module, self.depth == 0))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at import time?) for every import in a file."""
    collector = _ImportCollector()
    collector.visit(ast.parse(path.read_text(encoding="utf-8")))
    return collector.found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _violations(package: str, forbidden: tuple[str, ...], skip: set[str] = frozenset()) -> list[str]:
    bad = []
    for path in _modules(package):
        if _rel(path) in skip:
            continue
        for name, _ in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{_rel(path)} imports {name}")
    return bad


def test_connectors_are_the_bottom_layer():
    assert _violations("connectors", ("helpmig_tui", "screens")) == []


def test_engine_never_imports_textual_or_screens():
    assert _violations("helpmig_tui", ("textual", "screens", "helpmig_tui.app", "helpmig_tui.cli"), APP_SHELL) == []


def test_screens_never_import_the_app_or_the_cli():
    assert _violations("screens", ("helpmig_tui.app", "helpmig_tui.cli")) == []


@pytest.mark.parametrize("package", ["helpmig_tui", "screens", "connectors"])
def test_native_pieces_are_imported_lazily(package):
    eager = [
        f"{_rel(path)} imports {name} at module level"
        for path in _modules(package)
        for name, top in _imports(path)
        if top and name.split(".")[0] in NATIVE
    ]
    assert eager == []


def test_the_checker_sees_a_violation(tmp_path):
    """The AST scan itself works: a lazy import is lazy, a top-level one is not."""
    sample = tmp_path / "m.py"
    sample.write_text("import textual\n\ndef f():\n    import pyodbc\n", encoding="utf-8")
    assert _imports(sample) == [("textual", True), ("pyodbc", False)]


def test_headless_commands_load_neither_textual_nor_pyodbc():
    code = (
        "import sys, helpmig_tui.cli, helpmig_tui.project, helpmig_tui.state, connectors.registry;"
        "bad = sorted(m for m in ('textual', 'pyodbc', 'openpyxl', 'screens') if m in sys.modules);"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
