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

    # (an entry set to None is a module kept from loading, not a loaded one)
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                          "print('\\n'.join(k for k, v in sys.modules.items() if v))"],
                         capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


HEAVY = ("sqlalchemy", "PySide6", "orderdesk.cli", "orderdesk.services", "orderdesk.store.store",
         "orderdesk.sync.engine", "httpx._main", "rich", "click")


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


def test_httpx_works_without_its_command_line_client() -> None:
    """``orderdesk`` keeps httpx from importing its command-line client (~0.2 s a process
    where click and rich are installed); httpx then falls back to a stub ``main`` and
    works as before. If an httpx release stops falling back, this fails, not the app."""
    import subprocess
    import sys

    code = (
        "import orderdesk, httpx, sys\n"
        "assert 'httpx._main' not in sys.modules or sys.modules['httpx._main'] is None\n"
        "reply = httpx.Client(transport=httpx.MockTransport(\n"
        "    lambda r: httpx.Response(200, json={'ok': True}))).get('http://x.test/')\n"
        "assert reply.json() == {'ok': True}\n"
        "assert callable(httpx.main)\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
