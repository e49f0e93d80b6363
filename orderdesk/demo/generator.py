"""Deterministic order generation and the three JSON representations.

One *row* (a tuple in :data:`COLUMNS` order, the same columns the SQLite data
file holds) describes one order of the demo shop. Payload builders turn a row
into what each endpoint serves; the pure-Python API (:func:`iter_rows`,
:func:`iter_staff_payloads`, ...) yields exactly what the server would serve.

Orders are generated in chunks of :data:`CHUNK` with one ``random.Random`` per
(seed, chunk), so any chunk can be produced on its own and the data never
depends on ``PYTHONHASHSEED`` or the clock (times spread over the two years
before :data:`~orderdesk.demo.constants.REFERENCE_DATE`).

Money is integer cents throughout; order-level figures are served as decimal
strings in major units, shop line figures as integer cents.

Shop money rules (every order except the deliberate anomalies below)::

    line subtotal = unit_price × quantity; discount = unit_discount × quantity
    line total = subtotal − discount
    items_subtotal = Σ line subtotal; items_discount = Σ line discount
    subtotal = items_subtotal − items_discount
    total_discount = items_discount + voucher
    total = items_subtotal + shipping_cost − total_discount
    payable orders: amount_paid + amount_outstanding = total; is_paid ⇔ outstanding = 0
    cancelled, refunded, deleted: not payable, outstanding 0, is_paid false
    Σ payments whose status is "completed" or "refunded" (refunds negative) = amount_paid

Deliberate anomalies (column ``anomaly``, about 1 % of generated orders, chosen by
the order's random stream; mutated orders never carry one):

* ``1`` (:data:`ANOMALY_TOTAL`): ``total`` is 0.01 higher than the formula gives;
  ``amount_paid``/``amount_outstanding`` still add up to the correct total.
* ``2`` (:data:`ANOMALY_PAYMENTS`): one counted payment record is 0.01 higher, so
  Σ payments ≠ ``amount_paid`` (orders without a counted payment get kind 1).
* ``3`` (:data:`ANOMALY_ITEMS_DISCOUNT`): ``items_discount`` is served 0.01 higher
  than Σ line discount (``subtotal`` and ``total`` use the true discount).

The ecommerce view of an anomalous order inherits it (``total_amount`` or
``savings_on_items`` off by 0.01). A few orders also carry the status ``pending``,
which is outside the documented list.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

import orjson

from orderdesk.demo.catalog import World, fill_pattern
from orderdesk.demo.constants import (
    BIG_ORDER_ID,
    BIG_ORDER_LINES,
    CURRENCY,
    DEFAULT_CUSTOMER_EMAIL,
    DEMO_CUSTOMER_ID,
    REFERENCE_DATE,
)

JSON = dict[str, Any]
Row = tuple[Any, ...]

COLUMNS: Final = (
    "id", "key", "status", "customer_id", "payment_method_id", "shipping_method_id",
    "shipping_cost", "notes", "created_at", "updated_at", "country_id", "state_id",
    "city_id", "address", "postal_code", "national_code", "mobile", "first_name",
    "last_name", "line_count", "quantity", "items_subtotal", "items_discount", "voucher",
    "voucher_code", "total", "amount_paid", "amount_outstanding", "is_paid", "is_payable",
    "anomaly", "channel", "items", "payments", "search",
)
(ID, KEY, STATUS, CUSTOMER, PAYMENT_METHOD, SHIPPING_METHOD, SHIPPING_COST, NOTES, CREATED,
 UPDATED, COUNTRY, STATE, CITY, ADDRESS, POSTAL, NATIONAL, MOBILE, FIRST, LAST, LINE_COUNT,
 QUANTITY, ITEMS_SUBTOTAL, ITEMS_DISCOUNT, VOUCHER, VOUCHER_CODE, TOTAL, PAID, OUTSTANDING,
 IS_PAID, IS_PAYABLE, ANOMALY, CHANNEL, ITEMS, PAYMENTS, SEARCH) = range(len(COLUMNS))

ANOMALY_TOTAL: Final = 1
ANOMALY_PAYMENTS: Final = 2
ANOMALY_ITEMS_DISCOUNT: Final = 3

CHUNK: Final = 4096
SHOP_STATUSES: Final = ("new", "hold", "failed", "cancelled", "processing", "shipped",
                        "completed", "refunded", "deleted")
NOT_PAYABLE: Final = frozenset({"cancelled", "refunded", "deleted"})

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_DAY: Final = 86_400_000_000
REF_US: Final = int((REFERENCE_DATE - EPOCH) / timedelta(microseconds=1))
START_US: Final = REF_US - 730 * _US_PER_DAY

# status weights by age: (max age in days, ((status, weight), ...))
_STATUS_BY_AGE: Final = (
    (3, (("new", 34), ("pending", 3), ("processing", 30), ("hold", 5), ("failed", 5),
         ("cancelled", 5), ("shipped", 18))),
    (21, (("new", 5), ("pending", 1), ("processing", 14), ("shipped", 34), ("completed", 30),
          ("hold", 3), ("failed", 3), ("cancelled", 7), ("refunded", 3))),
    (10**9, (("completed", 745), ("cancelled", 80), ("refunded", 50), ("failed", 40),
             ("deleted", 15), ("shipped", 25), ("processing", 10), ("new", 15), ("hold", 15),
             ("pending", 5))),
)
# how long after creation the last update happened, in days, by status
_UPDATE_SPAN: Final = {
    "new": 0.05, "pending": 0.05, "processing": 1.5, "hold": 3.0, "failed": 0.2,
    "cancelled": 4.0, "shipped": 4.0, "completed": 18.0, "refunded": 30.0, "deleted": 40.0,
}
_NOTES: Final = (
    "Please leave the parcel at the door.", "Bitte beim Nachbarn abgeben.",
    "Gift — no invoice in the parcel, please.", "配達前に電話してください。",
    "Παράδοση μετά τις 17:00.", "Доставка після 18:00, дякую!", "يرجى الاتصال قبل التوصيل",
    "Call before delivery.", "Invoice to company: ACME GmbH, USt-IdNr. DE123456789",
    "Livraison en point relais SVP.", "Entregar por la mañana.", "Fragile – handle with care",
)
_LINE_NOTES: Final = ("Gift wrap, please", "Engraving: «For M.»", "Size M", "Colour: navy",
                      "ギフト包装")
_VOUCHERS: Final = (("SAVE5", 500, 0), ("SAVE10", 1000, 0), ("WELCOME10", 0, 10),
                    ("SPRING15", 0, 15))
_CHANNELS: Final = ("web", "web", "web", "web", "web", "web", "web", "mobile", "mobile", "pos")


def _cumulative(weights: tuple[tuple[str, int], ...]) -> tuple[list[float], list[str]]:
    total = sum(w for _, w in weights)
    acc = 0.0
    cum: list[float] = []
    for _, w in weights:
        acc += w / total
        cum.append(acc)
    cum[-1] = 1.0
    return cum, [s for s, _ in weights]


_STATUS_TABLES: Final = [(age, *_cumulative(ws)) for age, ws in _STATUS_BY_AGE]


def fmt_cents(cents: int) -> str:
    """Integer cents → decimal string in major units (``-1234`` → ``"-12.34"``)."""
    if cents < 0:
        return "-" + fmt_cents(-cents)
    return f"{cents // 100}.{cents % 100:02d}"


def fmt_dt(us: int) -> str:
    """Microseconds since the epoch → ISO 8601 UTC with ``Z``."""
    text = (EPOCH + timedelta(microseconds=us)).isoformat()
    return text[:-6] + "Z"


def to_us(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap deterministic 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def order_key(seed: int, oid: int) -> str:
    """A unique 10-hex-digit key (bijective in the id for ids below 2**40)."""
    mask = mix64(seed) & 0xFFFFFFFFFF
    return f"{((oid * 0x9E3779B1) & 0xFFFFFFFFFF) ^ mask:010x}"


def search_text(w: World, oid: int, key: str, notes: str, country: int | None,
                state: int | None, city: int | None, first: str | None,
                last: str | None, mobile: str | None) -> str:
    """Lower-cased searchable fields of an order, joined by a separator."""
    parts = [str(oid), key, notes]
    if country is not None:
        parts.append(w.country_by_id[country].name)
    if state is not None:
        parts.append(w.region_by_id[state][0].name)
    if city is not None:
        parts.append(w.city_by_id[city][0])
    parts += [first or "", last or "", mobile or ""]
    return "\x1f".join(parts).lower()


def settle(rng: random.Random, status: str, total: int, created: int, pm_code: str,
           oid: int) -> tuple[int, int, bool, bool, list[list[Any]]]:
    """Payment state of an order: (paid, outstanding, is_paid, is_payable, payments)."""
    r = rng.random
    payments: list[list[Any]] = []
    t = created + int(r() * 3_600_000_000)
    n = 0

    def pay(amount: int, state: str, at: int) -> None:
        nonlocal n
        n += 1
        if pm_code == "bank_transfer":
            ref = f"TRX-{rng.getrandbits(32):010d}"
        else:
            ref = f"pi_{rng.getrandbits(64):016x}"
        payments.append([oid * 100 + n, amount, pm_code, state, ref, at])

    paid = 0
    if status in NOT_PAYABLE:
        if status == "refunded":
            pay(total, "completed", t)
            part = total if r() < 0.7 else max(1, total * rng.randrange(10, 60) // 100)
            pay(-part, "refunded", t + int(r() * 10 * _US_PER_DAY) + 3_600_000_000)
            paid = total - part
        elif status == "cancelled" and r() < 0.3:
            pay(total, "completed", t)
            pay(-total, "refunded", t + 7_200_000_000)
        return paid, 0, False, False, payments
    x = r()
    if status in ("completed", "shipped") or (status == "processing" and x > 0.1):
        if r() < 0.03:
            pay(total, "failed", t - 600_000_000)
        if r() < 0.06 and total > 1:
            first = total * rng.randrange(30, 70) // 100
            pay(first, "completed", t)
            pay(total - first, "completed", t + int(r() * 5 * _US_PER_DAY))
        else:
            pay(total, "completed", t)
        paid = total
    elif status == "failed":
        pay(total, "failed", t)
        if r() < 0.3:
            pay(total, "failed", t + 900_000_000)
    elif x < 0.25 and total > 1:  # new, pending, hold, part-paid processing
        paid = total * rng.randrange(20, 80) // 100
        pay(paid, "completed", t)
    elif x < 0.35:
        pay(total, "pending", t)
    outstanding = total - paid
    return paid, outstanding, outstanding == 0, True, payments


class OrderFactory:
    """Builds rows for one world; used for the initial data and for mutations."""

    def __init__(self, world: World, n_orders: int) -> None:
        self.w = world
        self.n = n_orders
        self.seed = world.seed
        self._ccum = _cum_weights(world.country_weights)
        self._pcum = _cum_weights(world.payment_weights)
        self._scum = _cum_weights(world.shipping_weights)
        self._np = len(world.products)
        self._nc = world.n_customers

    def make(self, rng: random.Random, oid: int, created: int, *,
             updated: int | None = None, customer: int | str | None = "random",
             status: str | None = None, allow_anomaly: bool = True) -> Row:
        w = self.w
        r = rng.random
        # -- who -----------------------------------------------------------------
        if customer == "random":
            x = r()
            cust: int | None
            if x < 0.06:
                cust = None
            elif x < 0.185:
                cust = DEMO_CUSTOMER_ID
            else:
                cust = 2 + int(r() * (self._nc - 1))
        else:
            cust = customer if isinstance(customer, int) else None
        crec = w.customer(cust) if cust is not None else None
        if crec is not None and r() < (0.5 if cust == DEMO_CUSTOMER_ID else 0.85):
            ci = crec.country_index
        else:
            ci = bisect(self._ccum, r())
        country = w.countries[ci]
        loc = w.locales[country.locale]
        country_id: int | None = country.id
        state_id: int | None = None
        city_id: int | None = None
        if country.regions:
            region = country.regions[int(r() * len(country.regions))]
            state_id = region.id
            city_id = region.cities[int(r() * len(region.cities))][0]
        else:
            city_id = country.cities[int(r() * len(country.cities))][0]
        x = r()
        if x < 0.015:
            country_id = state_id = city_id = None
        elif x < 0.045:
            state_id = None
        elif x < 0.065:
            city_id = None
        address: str | None = loc.address_format.format(
            street=loc.streets[int(r() * len(loc.streets))], no=1 + int(r() * 120))
        postal: str | None = fill_pattern(rng, country.postal) if country.postal else None
        national: str | None = (fill_pattern(rng, country.national)
                                if country.national and r() < 0.7 else None)
        x = r()
        if x < 0.02:
            address = None
        elif x < 0.04:
            postal = None
        if crec is not None and r() < 0.85:
            first: str | None = crec.first_name
            last: str | None = crec.last_name
            mobile = crec.mobile
        else:
            first = loc.first_names[int(r() * len(loc.first_names))]
            last = loc.last_names[int(r() * len(loc.last_names))]
            mobile = fill_pattern(rng, country.phone + " ### ####") if r() < 0.9 else None
        x = r()
        if x < 0.01:
            first = None
        elif x < 0.02:
            last = None
        # -- what ----------------------------------------------------------------
        if oid == BIG_ORDER_ID:
            nlines = BIG_ORDER_LINES
        else:
            x = r()
            nlines = (1 if x < 0.35 else 2 if x < 0.6 else 3 if x < 0.75 else 4 if x < 0.85
                      else 5 + int(r() * 4) if x < 0.998 else 20 + int(r() * 41))
        items: list[list[Any]] = []
        products = w.products
        sub = disc = qty_total = 0
        for k in range(1, nlines + 1):
            p = products[int(r() * self._np)]
            y = r()
            qty = 1 if y < 0.7 else (2 + int(r() * 2) if y < 0.95 else 4 + int(r() * 7))
            offer = p.offer_id if p.offer_id is not None and r() < 0.8 else None
            ud = p.offer_discount if offer is not None else 0
            variant = p.variants[int(r() * len(p.variants))]
            note = _LINE_NOTES[int(r() * len(_LINE_NOTES))] if r() < 0.02 else ""
            items.append([oid * 1000 + k, p.id, p.price, ud, qty, note, offer, variant])
            sub += p.price * qty
            disc += ud * qty
            qty_total += qty
        net = sub - disc
        voucher = 0
        vcode: str | None = None
        if r() < 0.1:
            vcode, fixed, pct = _VOUCHERS[int(r() * len(_VOUCHERS))]
            voucher = min(fixed or net * pct // 100, net // 2)
        x = r()
        sm: int | None = None
        ship = 0
        if x >= 0.03:
            sm_rec = w.shipping_methods[bisect(self._scum, r())]
            sm = sm_rec[0]
            ship = 0 if (sm == 1 and net >= 10000) else sm_rec[2]
        pm: int | None = None
        pm_code = "card"
        if r() >= 0.03:
            pm_rec = w.payment_methods[bisect(self._pcum, r())]
            pm = pm_rec[0]
            pm_code = pm_rec[2]
        total = net + ship - voucher
        # -- when / state --------------------------------------------------------------
        if status is None:
            age_days = (REF_US - created) / _US_PER_DAY
            for max_age, cum, names in _STATUS_TABLES:
                if age_days < max_age:
                    status = names[bisect(cum, r())]
                    break
        assert status is not None
        if updated is None:
            room = max(REF_US - 1 - created, 0)
            updated = created + int(r() * min(_UPDATE_SPAN[status] * _US_PER_DAY, room))
        paid, outstanding, is_paid, payable, payments = settle(
            rng, status, total, created, pm_code, oid)
        notes = _NOTES[int(r() * len(_NOTES))] if r() < 0.12 else ""
        channel = _CHANNELS[int(r() * 10)]
        anomaly = 0
        a = r()
        if allow_anomaly and a < 0.01:
            anomaly = 1 + int(r() * 3)
            counted = [p for p in payments if p[3] in ("completed", "refunded")]
            if anomaly == ANOMALY_PAYMENTS and not counted:
                anomaly = ANOMALY_TOTAL
            if anomaly == ANOMALY_TOTAL:
                total += 1
            elif anomaly == ANOMALY_PAYMENTS:
                counted[0][1] += 1
        key = order_key(self.seed, oid)
        return (
            oid, key, status, cust, pm, sm, ship, notes, created, updated, country_id,
            state_id, city_id, address, postal, national, mobile, first, last, nlines,
            qty_total, sub, disc, voucher, vcode, total, paid, outstanding, int(is_paid),
            int(payable), anomaly, channel, orjson.dumps(items), orjson.dumps(payments),
            search_text(w, oid, key, notes, country_id, state_id, city_id, first, last, mobile),
        )

    def chunk(self, index: int) -> list[Row]:
        """Rows of ids ``index*CHUNK+1 ..`` (at most CHUNK of them)."""
        rng = random.Random(f"orderdesk-demo:{self.seed}:orders:{index}")
        lo = index * CHUNK + 1
        hi = min(self.n, lo + CHUNK - 1)
        span = REF_US - START_US
        slot = span / max(self.n, 1)
        islot = max(int(slot), 1)
        rows = []
        for oid in range(lo, hi + 1):
            created = START_US + int((oid - 1) * slot) + int(rng.random() * islot)
            rows.append(self.make(rng, oid, min(created, REF_US - 2)))
        return rows

    def rows(self) -> Iterator[Row]:
        for index in range((self.n + CHUNK - 1) // CHUNK):
            yield from self.chunk(index)


def _cum_weights(weights: tuple[int, ...]) -> list[float]:
    total = sum(weights)
    acc = 0
    out: list[float] = []
    for w in weights:
        acc += w
        out.append(acc / total)
    out[-1] = 1.0
    return out


# ============================================================== representations


class Renderer:
    """Turns rows into the JSON objects of the three endpoints (caches lookups)."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.seed = world.seed
        w = world
        self.country_data: dict[int, JSON] = {
            c.id: {"id": c.id, "active": c.active, "name": c.name, "code": c.code}
            for c in w.countries
        }
        self.state_data: dict[int, JSON] = {
            r.id: {"id": r.id, "active": r.active, "name": r.name, "code": r.code}
            for r, _ in w.region_by_id.values()
        }
        self.city_data: dict[int, JSON] = {
            cid: {"id": cid, "active": active, "name": name}
            for cid, (name, active) in w.city_by_id.items()
        }
        self.payment_data: dict[int, JSON] = {
            pid: {"id": pid, "name": name,
                  "image": {"url": f"https://cdn.example.com/payment/{code}.png",
                            "width": 64, "height": 40}}
            for pid, name, code in w.payment_methods
        }
        self.shipping_data: dict[int, JSON] = {
            sid: {"id": sid, "name": name, "image": None if sid == 3 else
                  {"url": f"https://cdn.example.com/shipping/{sid}.png", "width": 64,
                   "height": 40}}
            for sid, name, _ in w.shipping_methods
        }
        self.product_data: dict[int, JSON] = {
            p.id: {"id": p.id, "name": p.snapshot_name, "sku": p.sku, "price": p.price,
                   "currency": CURRENCY}
            for p in w.products
        }
        self._customer_data: dict[int, JSON] = {}
        self.payment_codes = {code: name for _, name, code in w.payment_methods}
        self._uuid_mask = mix64(self.seed ^ 0x5DEECE66D) & ((1 << 62) - 1)

    def customer_data(self, cid: int | None) -> JSON | None:
        if cid is None:
            return None
        data = self._customer_data.get(cid)
        if data is None:
            c = self.w.customer(cid)
            data = {"id": c.id, "username": c.username, "full_name": c.full_name}
            self._customer_data[cid] = data
        return data

    # ------------------------------------------------------------------ shop
    def _shop_common(self, row: Row) -> tuple[JSON, JSON]:
        """(head, tail) of a shop order: the fields both shop endpoints share."""
        idisc = row[ITEMS_DISCOUNT]
        shown_idisc = idisc + (1 if row[ANOMALY] == ANOMALY_ITEMS_DISCOUNT else 0)
        sub = row[ITEMS_SUBTOTAL]
        head = {"id": row[ID], "key": row[KEY], "status": row[STATUS]}
        tail = {
            "billing_address": row[ADDRESS],
            "billing_postal_code": row[POSTAL],
            "billing_national_code": row[NATIONAL],
            "billing_mobile_number": row[MOBILE],
            "billing_first_name": row[FIRST],
            "billing_last_name": row[LAST],
            "count": row[LINE_COUNT],
            "quantity": row[QUANTITY],
            "items_subtotal": fmt_cents(sub),
            "items_discount": fmt_cents(shown_idisc),
            "subtotal": fmt_cents(sub - idisc),
            "total_discount": fmt_cents(idisc + row[VOUCHER]),
            "total": fmt_cents(row[TOTAL]),
            "amount_paid": fmt_cents(row[PAID]),
            "amount_outstanding": fmt_cents(row[OUTSTANDING]),
            "is_paid": bool(row[IS_PAID]),
            "is_payable": bool(row[IS_PAYABLE]),
        }
        return head, tail

    def staff(self, row: Row) -> JSON:
        """The object ``GET /api/orders`` serves for this row."""
        head, tail = self._shop_common(row)
        created = fmt_dt(row[CREATED])
        updated = fmt_dt(row[UPDATED])
        pm, sm, co, st, ci = (row[PAYMENT_METHOD], row[SHIPPING_METHOD], row[COUNTRY],
                              row[STATE], row[CITY])
        extra: JSON = {"currency": CURRENCY, "channel": row[CHANNEL]}
        if row[VOUCHER_CODE]:
            extra["voucher"] = {"code": row[VOUCHER_CODE], "amount": fmt_cents(row[VOUCHER])}
        head.update({
            "customer": row[CUSTOMER],
            "customer_data": self.customer_data(row[CUSTOMER]),
            "payment_method": pm,
            "payment_method_data": self.payment_data[pm] if pm is not None else None,
            "shipping_method": sm,
            "shipping_method_data": self.shipping_data[sm] if sm is not None else None,
            "shipping_cost": fmt_cents(row[SHIPPING_COST]),
            "notes": row[NOTES],
            "extra": extra,
            "created_at": created,
            "updated_at": updated,
            "billing_country": co,
            "billing_country_data": self.country_data[co] if co is not None else None,
            "billing_state": st,
            "billing_state_data": self.state_data[st] if st is not None else None,
            "billing_city": ci,
            "billing_city_data": self.city_data[ci] if ci is not None else None,
        })
        head.update(tail)
        products = self.w.product_by_id
        pdata = self.product_data
        items = []
        for lid, pid, price, ud, qty, note, _offer, _variant in orjson.loads(row[ITEMS]):
            s = price * qty
            d = ud * qty
            items.append({
                "id": lid, "product": pid, "product_name": products[pid].name,
                "product_data": pdata[pid], "unit_price": price, "unit_discount": ud,
                "quantity": qty, "notes": note, "subtotal": s, "discount": d, "total": s - d,
                "created_at": created, "updated_at": created,
            })
        head["items"] = items
        head["payments"] = [
            {"id": pid, "amount": fmt_cents(amount), "method": code, "status": state,
             "reference": ref, "created_at": fmt_dt(at)}
            for pid, amount, code, state, ref, at in orjson.loads(row[PAYMENTS])
        ]
        return head

    def shop_customer(self, row: Row) -> JSON:
        """The object ``GET /api/shop/customers/me/orders`` serves for this row."""
        head, tail = self._shop_common(row)
        pm, sm, co, st, ci = (row[PAYMENT_METHOD], row[SHIPPING_METHOD], row[COUNTRY],
                              row[STATE], row[CITY])
        head.update({
            "customer": self.customer_data(row[CUSTOMER]),
            "payment_method": self.payment_data[pm] if pm is not None else None,
            "shipping_method": self.shipping_data[sm] if sm is not None else None,
            "shipping_cost": fmt_cents(row[SHIPPING_COST]),
            "notes": row[NOTES],
            "created_at": fmt_dt(row[CREATED]),
            "updated_at": fmt_dt(row[UPDATED]),
            "billing_country": self.country_data[co] if co is not None else None,
            "billing_state": self.state_data[st] if st is not None else None,
            "billing_city": self.city_data[ci] if ci is not None else None,
        })
        head.update(tail)
        return head

    # ------------------------------------------------------------- ecommerce
    def ecommerce_uuid(self, oid: int) -> str:
        hi = mix64((self.seed << 32) ^ oid ^ 0xA5A5)
        hi = (hi & ~(0xF << 12)) | (0x4 << 12)
        lo = (0b10 << 62) | (((oid * _UUID_MUL) & _M62) ^ self._uuid_mask)
        h = f"{(hi << 64) | lo:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def order_id_from_uuid(self, text: str) -> int | None:
        """Inverse of :meth:`ecommerce_uuid`; None when the text is not one of ours."""
        h = text.replace("-", "").lower()
        if len(h) != 32 or len(text) != 36:
            return None
        try:
            value = int(h, 16)
        except ValueError:
            return None
        lo = value & ((1 << 64) - 1)
        oid = (((lo & _M62) ^ self._uuid_mask) * _UUID_INV) & _M62
        if oid <= 0 or self.ecommerce_uuid(oid) != text.lower():
            return None
        return oid

    def quirks(self, oid: int) -> int:
        """Bit set of deployed-server quirks shown by this order (0 for ~92 % of orders)."""
        q = mix64((self.seed * 1_000_003) ^ (oid << 8) ^ 0x51)
        if q % 100 >= 8:
            return 0
        return ((q >> 8) & 0xFF) or 1

    def ecommerce(self, row: Row, base_url: str) -> JSON:
        """The object ``GET /api/v1/i/orders/{uuid}/`` serves for this row."""
        oid = row[ID]
        q = self.quirks(oid)
        as_number = bool(q & Q_NUMBERS)

        def money(cents: int, *, numeric: bool = False) -> object:
            text = fmt_cents(cents)
            return orjson.Fragment(text.encode()) if (numeric and as_number) else text

        if q & Q_OFFSET:
            tz = timezone(timedelta(hours=2 if oid % 2 else -5))

            def dt(us: int) -> str:
                return (EPOCH + timedelta(microseconds=us)).astimezone(tz).isoformat(
                    timespec="microseconds")
        else:
            dt = fmt_dt
        uid = self.ecommerce_uuid(oid)
        created = dt(row[CREATED])
        lines = orjson.loads(row[ITEMS])
        n = len(lines)
        ship = row[SHIPPING_COST]
        share, rest = divmod(ship, n) if n else (0, 0)
        products = self.w.product_by_id
        items: list[JSON] = []
        sub = 0
        for i, (lid, pid, price, ud, qty, _note, offer, variant) in enumerate(lines):
            p = products[pid]
            unit = price - ud
            sub += unit * qty
            s = share + (rest if i == 0 else 0)
            product: JSON = {"id": pid, "name": p.snapshot_name, "slug": p.slug}
            if q & Q_NO_SLUG and i == 0:
                del product["slug"]
            item: JSON = {
                "id": lid, "product": product, "variant": variant,
                "unit_price": money(unit, numeric=True), "quantity": qty,
                "shipping": None if (s == 0 and q & Q_NULL_SHIPPING) else money(s),
                "discount_amount": money(ud * qty), "total_price": money(unit * qty,
                                                                         numeric=True),
                "offer": offer, "created": created, "updated": created,
            }
            if q & Q_EXTRA:
                item["sku"] = p.sku
                item["image"] = f"https://cdn.example.com/products/{p.slug}.jpg"
            items.append(item)
        idisc = row[ITEMS_DISCOUNT] + (1 if row[ANOMALY] == ANOMALY_ITEMS_DISCOUNT else 0)
        voucher = row[VOUCHER]
        # deployed formula: total_amount = subtotal + shipping − voucher (the shop total)
        customer = self.w.customer(DEMO_CUSTOMER_ID)
        billing: JSON | None = None
        if not q & Q_NULL_BILLING:
            postal: object = row[POSTAL]
            if q & Q_POSTAL_NUMBER and isinstance(postal, str) and postal.isdigit() \
                    and not postal.startswith("0"):
                postal = int(postal)
            st = row[STATE]
            co = row[COUNTRY]
            ci = row[CITY]
            billing = {
                "street_address": row[ADDRESS],
                "postal_code": postal,
                "city": self.w.city_by_id[ci][0] if ci is not None else None,
                "state": (self.w.region_by_id[st][0].code or self.w.region_by_id[st][0].name)
                if st is not None else None,
                "country": self.w.country_by_id[co].name if co is not None else None,
            }
        out: JSON = {
            "id": uid,
            "url": f"{base_url}{_ECOM_PREFIX}{uid}/",
            "customer": {"email": DEFAULT_CUSTOMER_EMAIL, "first_name": customer.first_name,
                         "last_name": customer.last_name},
            "created": created,
            "updated": dt(row[UPDATED]),
            "billing_address": billing,
            "items": items,
            "items_count": row[QUANTITY],
            "savings_on_items": money(idisc),
            "status": ECOMMERCE_STATUS.get(row[STATUS], "awaiting_payment"),
            "subtotal": money(sub, numeric=True),
            "amount_saved": money(idisc + voucher),
            "shipping": money(ship, numeric=True),
            "total_amount": money(row[TOTAL], numeric=True),
        }
        if q & Q_NO_SAVINGS:
            del out["savings_on_items"]
        return out


_ECOM_PREFIX: Final = "/api/v1/i/orders/"
_M62: Final = (1 << 62) - 1
_UUID_MUL: Final = 0x2545F4914F6CDD1D & _M62 | 1
_UUID_INV: Final = pow(_UUID_MUL, -1, 1 << 62)

# quirk bits of the ecommerce representation
Q_NUMBERS: Final = 1         #: some money fields as JSON numbers (exact decimals)
Q_NULL_SHIPPING: Final = 2   #: item ``shipping: null`` where the item's share is 0
Q_NO_SAVINGS: Final = 4      #: ``savings_on_items`` missing
Q_NO_SLUG: Final = 8         #: first item's product without ``slug``
Q_POSTAL_NUMBER: Final = 16  #: ``postal_code`` as a JSON number
Q_NULL_BILLING: Final = 32   #: ``billing_address: null``
Q_OFFSET: Final = 64         #: datetimes with a non-UTC offset and microseconds
Q_EXTRA: Final = 128         #: extra fields on items

#: shop status → ecommerce status (anything not listed → awaiting_payment;
#: ``deleted`` orders are not served by the ecommerce endpoints at all).
ECOMMERCE_STATUS: Final = {
    "new": "awaiting_payment", "pending": "awaiting_payment", "hold": "awaiting_payment",
    "failed": "awaiting_payment", "processing": "paid", "shipped": "paid",
    "completed": "delivered", "cancelled": "cancelled", "refunded": "cancelled",
}


# ============================================================== public generator API


def iter_rows(n: int, seed: int) -> Iterator[Row]:
    """The ``n`` rows of the demo shop for ``seed`` (ids 1..n), as the server holds them."""
    yield from OrderFactory(World(seed, n), n).rows()


def iter_staff_payloads(n: int, seed: int) -> Iterator[JSON]:
    """Exactly the objects ``GET /api/orders`` serves for a fresh server ``(n, seed)``.

    Order money is decimal strings in major units, line money integer cents.
    """
    world = World(seed, n)
    renderer = Renderer(world)
    for row in OrderFactory(world, n).rows():
        yield renderer.staff(row)


def iter_shop_customer_payloads(n: int, seed: int) -> Iterator[JSON]:
    """The demo customer's orders as ``GET /api/shop/customers/me/orders`` serves them."""
    world = World(seed, n)
    renderer = Renderer(world)
    for row in OrderFactory(world, n).rows():
        if row[CUSTOMER] == DEMO_CUSTOMER_ID:
            yield renderer.shop_customer(row)


def iter_ecommerce_payloads(n: int, seed: int, base_url: str = "http://127.0.0.1:8765"
                            ) -> Iterator[JSON]:
    """The demo customer's orders as the ecommerce API serves them (deleted ones omitted)."""
    world = World(seed, n)
    renderer = Renderer(world)
    for row in OrderFactory(world, n).rows():
        if row[CUSTOMER] == DEMO_CUSTOMER_ID and row[STATUS] != "deleted":
            yield renderer.ecommerce(row, base_url.rstrip("/"))


_NEXT_STATUS: Final = {
    "new": "processing", "pending": "new", "hold": "processing", "processing": "shipped",
    "shipped": "completed", "failed": "cancelled",
}


def restatus(factory: OrderFactory, row: Row, rng: random.Random, updated: int,
             rnd: int) -> Row:
    """A mutation's update of ``row``: the next status (or a refund, or a new note).

    Money is recomputed cleanly (an updated order carries no anomaly).
    """
    status = row[STATUS]
    new_status = _NEXT_STATUS.get(status)
    notes = row[NOTES]
    if new_status is None:
        if status == "completed" and rng.random() < 0.3:
            new_status = "refunded"
        else:
            new_status = status
            notes = f"{notes} Customer called (round {rnd}).".strip()
    lines = orjson.loads(row[ITEMS])
    net = sum((price - ud) * qty for _l, _p, price, ud, qty, *_ in lines)
    total = net + row[SHIPPING_COST] - row[VOUCHER]
    pm = row[PAYMENT_METHOD]
    pm_code = next((code for i, _n, code in factory.w.payment_methods if i == pm), "card")
    paid, outstanding, is_paid, payable, payments = settle(
        rng, new_status, total, row[CREATED], pm_code, row[ID])
    new = list(row)
    new[STATUS] = new_status
    new[NOTES] = notes
    new[UPDATED] = updated
    new[TOTAL] = total
    new[PAID] = paid
    new[OUTSTANDING] = outstanding
    new[IS_PAID] = int(is_paid)
    new[IS_PAYABLE] = int(payable)
    new[ANOMALY] = 0
    new[PAYMENTS] = orjson.dumps(payments)
    new[SEARCH] = search_text(factory.w, row[ID], row[KEY], notes, row[COUNTRY], row[STATE],
                              row[CITY], row[FIRST], row[LAST], row[MOBILE])
    return tuple(new)
