"""Tolerant field readers shared by the normalizers. Each raises ``ProtocolError``
naming the field when a value has the wrong type; missing/null gives the default."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderdesk.api.errors import ProtocolError
from orderdesk.models.entities import NamedRef, parse_datetime
from orderdesk.models.errors import DataError
from orderdesk.models.money import parse_decimal


class Fields:
    """Read fields of one JSON object, with the path used in error messages."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ProtocolError(f"{where}: expected an object, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def fail(self, key: str, what: str) -> ProtocolError:
        value = self.data.get(key)
        return ProtocolError(f"The shop sent an unexpected value in {self.where}.{key}: "
                             f"expected {what}, got {str(value)[:40]!r}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        if type(value) is str:
            return value
        if value is None:
            return default
        if isinstance(value, bool):
            raise self.fail(key, "text")
        if isinstance(value, str | int | Decimal):
            return str(value)
        raise self.fail(key, "text")

    def ident(self, key: str) -> str:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise self.fail(key, "an id")
        return str(value)

    def opt_ident(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(key, "an id")
        return str(value)

    def integer(self, key: str, default: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            raise self.fail(key, "a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise self.fail(key, "a whole number")

    def decimal(self, key: str) -> Decimal | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return parse_decimal(value, field=f"{self.where}.{key}")
        except DataError as exc:
            raise ProtocolError(f"The shop sent an amount that cannot be read: {exc}") from exc

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(key, "true or false")

    def datetime(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "a date-time")
            return None
        try:
            return parse_datetime(value, field=f"{self.where}.{key}")
        except DataError as exc:
            raise ProtocolError(f"The shop sent a date-time that cannot be used: {exc}") from exc

    def obj(self, key: str) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "an object")
        return Fields(value, f"{self.where}.{key}")

    def items(self, key: str) -> list[Fields]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "a list")
        return [Fields(v, f"{self.where}.{key}[{i}]") for i, v in enumerate(value)]

    def ref(self, *keys: str) -> NamedRef | None:
        """A nested ``{id, name, code}`` object or a bare id, under the first key present."""
        for key in keys:
            value = self.data.get(key)
            if value is None:
                continue
            if isinstance(value, dict):
                sub = Fields(value, f"{self.where}.{key}")
                return NamedRef(sub.opt_ident("id"), sub.text("name"), sub.text("code"))
            if isinstance(value, int | str) and not isinstance(value, bool):
                return NamedRef(str(value))
            raise self.fail(key, "an object or an id")
        return None


def dumps_raw(data: Any) -> str:
    """The provider's JSON, re-serialised exactly (Decimals keep their own digits)."""
    parts: list[str] = []
    _encode(data, parts)
    return "".join(parts)


_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            if n:
                out.append(",")
            out.append(_dumps(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(str(value))
    else:
        out.append(_dumps(value))
