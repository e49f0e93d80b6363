"""Where orderdesk keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "orderdesk"
ENV_DATA_DIR = "ORDERDESK_DATA_DIR"


def resolve_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` if given, else ``$ORDERDESK_DATA_DIR``, else the platform's data dir.

    The folder holds the cache and, when overridden, the settings too, so that one
    folder is one self-contained orderdesk (tests, demos, several shops).
    """
    if override:
        path = Path(override).expanduser()
    elif os.environ.get(ENV_DATA_DIR):
        path = Path(os.environ[ENV_DATA_DIR]).expanduser()
    else:
        path = Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_file(data_dir: Path, *, overridden: bool) -> Path:
    """The settings file: inside an explicit data dir, else the platform's config dir."""
    if overridden:
        return data_dir / "config.json"
    folder = Path(platformdirs.user_config_dir(APP, appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "config.json"
