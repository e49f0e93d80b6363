"""Query parameters of the shop endpoints → SQL over the demo data file.

Validation follows DRF/django-filter: a bad value is a 400 with field errors
(``{"limit": ["A valid integer is required."]}``); unknown parameters are
ignored. Decisions where the docs are silent:

* ``*_from`` is inclusive; ``*_to`` is inclusive (a bare date means the whole
  day); naive datetimes are UTC; ``created_date``/``updated_date`` take a date.
* ``ordering`` takes comma-separated fields, each optionally prefixed with ``-``;
  ties are broken by ``id`` in the direction of the first field; NULLs sort
  last ascending and first descending (as PostgreSQL does). Default: ``-created_at``.
* ``search`` splits on whitespace and commas; every term must occur
  (case-insensitively) in one of the documented search fields.
* ``limit`` defaults to :data:`DEFAULT_LIMIT` and is capped at :data:`MAX_LIMIT`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Final

from orderdesk.demo.generator import to_us

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 1000

MSG_INT: Final = "A valid integer is required."
MSG_NUMBER: Final = "A valid number is required."
MSG_BOOL: Final = "Must be a valid boolean."
MSG_DATE: Final = "Enter a valid date."
MSG_DATETIME: Final = "Enter a valid date/time."


class FieldErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


_CN = "(SELECT name FROM countries WHERE id = o.country_id)"
_SN = "(SELECT name FROM states WHERE id = o.state_id)"
_CIN = "(SELECT name FROM cities WHERE id = o.city_id)"
_PMN = "(SELECT name FROM payment_methods WHERE id = o.payment_method_id)"
_SMN = "(SELECT name FROM shipping_methods WHERE id = o.shipping_method_id)"

CUSTOMER_ORDERING: Final[dict[str, str]] = {
    "id": "o.id", "created_at": "o.created_at", "updated_at": "o.updated_at",
    "status": "o.status", "shipping_cost": "o.shipping_cost",
    "billing_country__name": _CN, "billing_state__name": _SN, "billing_city__name": _CIN,
    "payment_method__name": _PMN, "shipping_method__name": _SMN,
}
STAFF_ORDERING: Final[dict[str, str]] = {
    "id": "o.id", "status": "o.status", "customer__id": "o.customer_id",
    "customer__username": "c.username", "customer__first_name": "c.first_name",
    "customer__last_name": "c.last_name", "shipping_cost": "o.shipping_cost",
    "created_at": "o.created_at", "updated_at": "o.updated_at",
}

#: integer filters: parameter → column (``<param>_in`` takes a comma-separated list)
_INT_FILTERS: Final = {
    "payment_method": "o.payment_method_id", "shipping_method": "o.shipping_method_id",
    "billing_country": "o.country_id", "billing_state": "o.state_id",
    "billing_city": "o.city_id",
}
_STAFF_INT_FILTERS: Final = {**_INT_FILTERS, "customer": "o.customer_id"}

_PRESENCE: Final = {
    "has_customer": "o.customer_id", "has_payment_method": "o.payment_method_id",
    "has_shipping_method": "o.shipping_method_id", "has_billing_country": "o.country_id",
    "has_billing_state": "o.state_id", "has_billing_city": "o.city_id",
    "has_billing_address": "o.address", "has_billing_postal_code": "o.postal_code",
    "has_billing_national_code": "o.national_code",
    "has_billing_mobile_number": "o.mobile", "has_billing_first_name": "o.first_name",
    "has_billing_last_name": "o.last_name",
}


@dataclass
class SqlQuery:
    where: list[str] = field(default_factory=list)
    args: list[object] = field(default_factory=list)
    order: str = "o.created_at DESC, o.id DESC"
    join_customers: bool = False
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def where_sql(self) -> str:
        return " AND ".join(self.where) if self.where else "1"

    def from_sql(self) -> str:
        if self.join_customers:
            return "orders o LEFT JOIN customers c ON c.id = o.customer_id"
        return "orders o"


def parse_int(value: str) -> int:
    text = value.strip()
    if not text or not (text.isdigit() or (text[0] in "+-" and text[1:].isdigit())):
        raise ValueError(value)
    return int(text)


def parse_bool(value: str) -> bool:
    low = value.strip().lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    raise ValueError(value)


def parse_when(value: str, *, end: bool) -> int:
    """Date or datetime → µs since epoch (a bare date at ``end`` = the next midnight − 1 µs)."""
    text = value.strip()
    if len(text) == 10:
        d = date.fromisoformat(text)
        start = datetime(d.year, d.month, d.day, tzinfo=UTC)
        return to_us(start + timedelta(days=1)) - 1 if end else to_us(start)
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return to_us(dt)


def parse_pagination(params: Mapping[str, str], errors: dict[str, list[str]]
                     ) -> tuple[int, int]:
    limit, offset = DEFAULT_LIMIT, 0
    if "limit" in params:
        try:
            limit = parse_int(params["limit"])
            if limit < 1:
                errors["limit"] = ["Ensure this value is greater than or equal to 1."]
            limit = min(limit, MAX_LIMIT)
        except ValueError:
            errors["limit"] = [MSG_INT]
    if "offset" in params:
        try:
            offset = parse_int(params["offset"])
            if offset < 0:
                errors["offset"] = ["Ensure this value is greater than or equal to 0."]
        except ValueError:
            errors["offset"] = [MSG_INT]
    return limit, offset


def build(params: Mapping[str, str], *, staff: bool) -> SqlQuery:
    """Validate the query string of a shop endpoint and turn it into SQL pieces."""
    q = SqlQuery()
    errors: dict[str, list[str]] = {}
    q.limit, q.offset = parse_pagination(params, errors)
    where, args = q.where, q.args

    search = params.get("search", "").replace("\x00", "").replace(",", " ").split()
    for term in search:
        t = term.lower()
        if staff:
            q.join_customers = True
            where.append("(instr(o.search, ?) > 0 OR instr(coalesce(c.search, ''), ?) > 0)")
            args += [t, t]
        else:
            where.append("instr(o.search, ?) > 0")
            args.append(t)

    if "status" in params and params["status"] != "":
        where.append("o.status = ?")
        args.append(params["status"])
    if "status_in" in params:
        values = [v.strip() for v in params["status_in"].split(",") if v.strip()]
        if values:
            where.append(f"o.status IN ({','.join('?' * len(values))})")
            args += values

    for name, col in (_STAFF_INT_FILTERS if staff else _INT_FILTERS).items():
        if params.get(name, "") != "":
            try:
                args.append(parse_int(params[name]))
                where.append(f"{col} = ?")
            except ValueError:
                errors[name] = [MSG_INT]
        raw = params.get(f"{name}_in", "")
        if raw != "":
            try:
                ids = [parse_int(v) for v in raw.split(",") if v.strip()]
            except ValueError:
                errors[f"{name}_in"] = [MSG_INT]
                continue
            if ids:
                where.append(f"{col} IN ({','.join('?' * len(ids))})")
                args += ids

    bools = {"is_paid": "o.is_paid", "is_payable": "o.is_payable"}
    presence = {"has_notes": "o.notes"}
    if staff:
        presence.update(_PRESENCE)
    for name, col in bools.items():
        if params.get(name, "") != "":
            try:
                args.append(int(parse_bool(params[name])))
                where.append(f"{col} = ?")
            except ValueError:
                errors[name] = [MSG_BOOL]
    for name, col in presence.items():
        if params.get(name, "") != "":
            try:
                wanted = parse_bool(params[name])
            except ValueError:
                errors[name] = [MSG_BOOL]
                continue
            test = f"({col} IS NOT NULL AND {col} != '')"
            where.append(test if wanted else f"NOT {test}")

    for name, op in (("id_min", ">="), ("id_max", "<=")):
        if params.get(name, "") != "":
            try:
                args.append(parse_int(params[name]))
                where.append(f"o.id {op} ?")
            except ValueError:
                errors[name] = [MSG_INT]

    for name, col in (("created_date", "o.created_at"), ("updated_date", "o.updated_at")):
        if params.get(name, "") != "":
            text = params[name].strip()
            try:
                if len(text) != 10:
                    raise ValueError(text)
                lo = parse_when(text, end=False)
                hi = parse_when(text, end=True)
            except ValueError:
                errors[name] = [MSG_DATE]
                continue
            where.append(f"{col} BETWEEN ? AND ?")
            args += [lo, hi]
    for prefix, col in (("created", "o.created_at"), ("updated", "o.updated_at")):
        for suffix, op in (("from", ">="), ("to", "<=")):
            name = f"{prefix}_{suffix}"
            if params.get(name, "") != "":
                try:
                    args.append(parse_when(params[name], end=suffix == "to"))
                    where.append(f"{col} {op} ?")
                except ValueError:
                    errors[name] = [MSG_DATETIME]

    if staff:
        for name, op in (("shipping_cost_min", ">="), ("shipping_cost_max", "<=")):
            if params.get(name, "") != "":
                try:
                    amount = Decimal(params[name].strip())
                    if not amount.is_finite():
                        raise InvalidOperation
                except InvalidOperation:
                    errors[name] = [MSG_NUMBER]
                    continue
                cents = (amount * 100).to_integral_value(
                    ROUND_CEILING if op == ">=" else ROUND_FLOOR)
                where.append(f"o.shipping_cost {op} ?")
                args.append(int(cents))

    if params.get("ordering", "").strip():
        fields = STAFF_ORDERING if staff else CUSTOMER_ORDERING
        terms: list[str] = []
        first_desc: bool | None = None
        has_id = False
        for raw_term in params["ordering"].split(","):
            term = raw_term.strip()
            if not term:
                continue
            desc = term.startswith("-")
            name = term[1:] if desc else term
            col = fields.get(name, "")
            if not col:
                errors["ordering"] = [
                    f"Select a valid choice. {term} is not one of the available choices."]
                break
            if name.startswith("customer__") and name != "customer__id":
                q.join_customers = True
            if first_desc is None:
                first_desc = desc
            has_id = has_id or name == "id"
            terms.append(f"{col} DESC NULLS FIRST" if desc else f"{col} ASC NULLS LAST")
        if terms and not has_id:
            terms.append("o.id DESC" if first_desc else "o.id ASC")
        if terms:
            q.order = ", ".join(terms)

    if errors:
        raise FieldErrors(errors)
    return q
