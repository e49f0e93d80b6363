"""Layer rules import-linter cannot express (submodules of an external package)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "orderdesk"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_export_and_services_use_no_qt_widgets() -> None:
    offenders = []
    for package in ("export", "services", "models", "store", "sync", "api", "config"):
        for path in (ROOT / package).rglob("*.py"):
            if any(n.startswith("PySide6.QtWidgets") for n in _imports(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

