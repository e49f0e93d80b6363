"""Saved views: a named filter + sort + column layout, kept in the settings file.

``OrderQuery`` is serialised here (JSON-friendly dicts); unknown or broken values are
dropped rather than stopping the window from opening.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from orderdesk.config import ConfigStore
from orderdesk.models.errors import OrderdeskError
from orderdesk.models.query import OrderQuery, PaymentFilter, SortKey
from orderdesk.models.status import StatusCategory

VIEWS_KEY = "ui.views"
LAST_VIEW_KEY = "ui.last_view"
COLUMNS_KEY = "ui.columns"
CURRENT_KEY = "ui.current"

_DATES = {"created_from", "created_to", "updated_from", "updated_to"}
_DECIMALS = {"total_min", "total_max"}


def query_to_json(query: OrderQuery) -> dict[str, Any]:
    """Only what differs from an empty query, plus the sort."""
    empty = OrderQuery()
    out: dict[str, Any] = {}
    for f in fields(OrderQuery):
        value = getattr(query, f.name)
        if f.name == "sort":
            out["sort"] = [str(k) for k in value]
            continue
        if value == getattr(empty, f.name):
            continue
        if isinstance(value, datetime):
            out[f.name] = value.isoformat()
        elif isinstance(value, Decimal):
            out[f.name] = str(value)
        elif isinstance(value, Enum):
            out[f.name] = value.value
        elif isinstance(value, tuple):
            out[f.name] = [v.value if isinstance(v, Enum) else v for v in value]
        else:
            out[f.name] = value
    return out


def query_from_json(data: Any) -> OrderQuery:
    """The inverse of :func:`query_to_json`; bad entries are skipped."""
    if not isinstance(data, dict):
        return OrderQuery()
    known = {f.name for f in fields(OrderQuery)}
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            continue
        try:
            if name == "sort":
                kwargs["sort"] = tuple(SortKey.parse(str(v)) for v in value)
            elif name in _DATES:
                kwargs[name] = datetime.fromisoformat(str(value))
            elif name in _DECIMALS:
                kwargs[name] = Decimal(str(value))
            elif name == "payment":
                kwargs[name] = PaymentFilter(value)
            elif name == "categories":
                kwargs[name] = tuple(StatusCategory(v) for v in value)
            elif isinstance(value, list):
                kwargs[name] = tuple(str(v) for v in value)
            elif name in ("has_notes", "has_problems", "include_deleted"):
                kwargs[name] = None if value is None else bool(value)
            elif name == "text":
                kwargs[name] = str(value)
        except (ValueError, TypeError, ArithmeticError, OrderdeskError):
            continue
    try:
        return OrderQuery(**kwargs)
    except OrderdeskError:
        return OrderQuery()


class ViewStore:
    """Named views and the last-used one, in the app's settings."""

    def __init__(self, config: ConfigStore) -> None:
        self.config = config

    def _all(self) -> dict[str, Any]:
        try:
            views = self.config.setting(VIEWS_KEY, {})
        except OrderdeskError:
            return {}
        return views if isinstance(views, dict) else {}

    def names(self) -> list[str]:
        return sorted(self._all(), key=str.casefold)

    def get(self, name: str) -> tuple[OrderQuery, list[dict[str, Any]] | None] | None:
        view = self._all().get(name)
        if not isinstance(view, dict):
            return None
        columns = view.get("columns")
        return query_from_json(view.get("query")), columns if isinstance(columns, list) else None

    def save(self, name: str, query: OrderQuery, columns: list[dict[str, Any]]) -> None:
        views = self._all()
        views[name] = {"query": query_to_json(query), "columns": columns}
        self.config.set_setting(VIEWS_KEY, views)
        self.config.set_setting(LAST_VIEW_KEY, name)

    def delete(self, name: str) -> None:
        views = self._all()
        views.pop(name, None)
        self.config.set_setting(VIEWS_KEY, views)
        if self.last() == name:
            self.config.set_setting(LAST_VIEW_KEY, None)

    def last(self) -> str | None:
        try:
            name = self.config.setting(LAST_VIEW_KEY)
        except OrderdeskError:
            return None
        return name if isinstance(name, str) and name in self._all() else None

    def set_last(self, name: str | None) -> None:
        self.config.set_setting(LAST_VIEW_KEY, name)
