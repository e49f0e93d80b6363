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



def _modules_after(code: str) -> set[str]:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                          "print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


HEAVY = ("sqlalchemy", "PySide6", "orderdesk.cli", "orderdesk.services", "orderdesk.store.store",
         "orderdesk.sync.engine")


def test_the_sync_workers_start_up_imports_nothing_heavy() -> None:
    """A ``spawn`` child imports the parent's main module again (the console script's
    ``from orderdesk.launcher import main``) and then the worker's own modules: the
    store, SQLAlchemy, Qt or the command line there cost the sync ~0.5 s a run."""
    launcher = _modules_after("import orderdesk.launcher")
    assert "orderdesk.launcher" in launcher
    worker = _modules_after(
        "import orderdesk.sync.worker\n"
        "from orderdesk.api import HttpTransport, make_client\n"
        "from orderdesk.config.connections import ConnectionConfig\n"
        "from orderdesk.store.codec import encode_page\n"
        "from orderdesk.sync.walk import Fetcher, keyset_walk")
    assert "orderdesk.sync.walk" in worker
    for loaded in (launcher, worker):
        assert not [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
