"""Fixtures for the window tests: a data folder with a store filled from the factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderdesk.services.context import AppContext
from tests.ui.data import fill


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    ctx = AppContext.open(folder)
    try:
        fill(ctx, 120)
    finally:
        ctx.close()
    return folder


@pytest.fixture
def ctx(data_dir: Path) -> Iterator[AppContext]:
    context = AppContext.open(data_dir)
    yield context
    context.close()
