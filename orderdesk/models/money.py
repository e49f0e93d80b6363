"""Exact money: ``Decimal`` amounts with a currency, never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from orderdesk.models.errors import MoneyError

#: ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENTS: Final[dict[str, int]] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "IRR": 0,
}

#: Scale at which amounts are kept as integers in storage (4 decimal places).
STORAGE_EXPONENT: Final = 4
_STORAGE_FACTOR: Final = 10**STORAGE_EXPONENT
#: Largest absolute amount the cache accepts (fits a signed 64-bit integer at scale 4).
MAX_AMOUNT: Final = Decimal(10) ** 14

_DECIMAL_RE: Final = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def currency_exponent(currency: str) -> int:
    """Number of decimal places of a currency's smallest unit (2 when unknown)."""
    return _EXPONENTS.get(currency.upper(), 2)


def parse_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Parse an exact decimal from a JSON string or number.

    Accepts ``str`` (``"79.99"``, ``" 5 "``, ``"1e3"``), ``int`` and ``Decimal``
    (what ``json.loads(..., parse_float=Decimal)`` yields for JSON numbers).
    ``float`` is refused: a float has already lost the exact value. ``bool`` is
    refused too, though Python counts it as an ``int``.
    """
    if type(value) is str:  # the common case, first
        try:
            result = Decimal(value)
        except InvalidOperation:
            result = None
        if result is not None and result.is_finite() and abs(result) < MAX_AMOUNT \
                and "_" not in value:
            return result
    if isinstance(value, bool):
        raise MoneyError(f"{field}: expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if not _DECIMAL_RE.match(text):
            raise MoneyError(f"{field}: {value[:40]!r} is not a decimal number")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - regex guards this
            raise MoneyError(f"{field}: {value[:40]!r} is not a decimal number") from exc
    elif isinstance(value, float):
        raise MoneyError(f"{field}: got a float; money must be parsed exactly")
    else:
        raise MoneyError(f"{field}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"{field}: {value!r} is not a finite number")
    if abs(result) >= MAX_AMOUNT:
        raise MoneyError(f"{field}: {value!r} is too large for an order amount")
    return result


def to_storage_units(amount: Decimal, *, field: str = "amount") -> int:
    """Amount → integer at :data:`STORAGE_EXPONENT`, refusing any loss of precision."""
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise MoneyError(f"{field}: {amount} is out of the supported range")
    scaled = amount.scaleb(STORAGE_EXPONENT)
    if scaled != scaled.to_integral_value():
        raise MoneyError(
            f"{field}: {amount} has more than {STORAGE_EXPONENT} decimal places"
        )
    return int(scaled)


def from_storage_units(units: int) -> Decimal:
    """Inverse of :func:`to_storage_units`, normalised to at least 2 decimals."""
    value = Decimal(units).scaleb(-STORAGE_EXPONENT)
    return _tidy(value)


def _tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros beyond two decimals: 12.3400 → 12.34, 5.0000 → 5.00."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent > -2:
        return value.quantize(Decimal("0.01"))
    return normal


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """A Decimal amount in a currency (ISO 4217 code, or ``""`` when unknown)."""

    amount: Decimal
    currency: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise MoneyError(f"Money needs a Decimal amount, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise MoneyError(f"Money amount {self.amount} is not finite")

    # construction -----------------------------------------------------------
    @classmethod
    def parse(cls, value: object, currency: str = "", *, field: str = "amount") -> Money:
        """From a JSON string or number (see :func:`parse_decimal`)."""
        return cls(parse_decimal(value, field=field), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str = "", exponent: int | None = None) -> Money:
        """From an integer in the smallest currency unit (cents): 1999 → 19.99."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise MoneyError(f"minor units must be an integer, got {units!r}")
        exp = currency_exponent(currency) if exponent is None else exponent
        return cls(Decimal(units).scaleb(-exp), currency)

    @classmethod
    def zero(cls, currency: str = "") -> Money:
        return cls(Decimal(0), currency)

    # arithmetic ---------------------------------------------------------------
    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if self.currency and other.currency and self.currency != other.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def _currency(self, other: Money) -> str:
        return self.currency or other.currency

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self._currency(other))

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self._currency(other))

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise TypeError("Money can only be multiplied by an int or Decimal")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.amount == other.amount and self.currency == other.currency

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    # conversion ---------------------------------------------------------------
    def to_minor(self, exponent: int | None = None) -> int:
        """Integer in the smallest unit; raises if that would lose precision."""
        exp = currency_exponent(self.currency) if exponent is None else exponent
        scaled = self.amount.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{self.amount} {self.currency} is not a whole number of minor units")
        return int(scaled)

    def plain(self) -> str:
        """Plain decimal text with at least the currency's decimals: ``1234.50``."""
        exp = currency_exponent(self.currency)
        amount = self.amount
        current = amount.as_tuple().exponent
        assert isinstance(current, int)
        if -current < exp:
            amount = amount.quantize(Decimal(1).scaleb(-exp))
        return f"{amount:f}"

    def __str__(self) -> str:
        return f"{self.plain()} {self.currency}".strip()
