"""Display formatting for the window: money, times, freshness. Decimal all the way."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from PySide6.QtCore import QLocale

from orderdesk.models.money import currency_exponent

#: Symbols for the currencies shop staff meet most; anything else shows its ISO code.
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "IRR": "﷼",
            "NOK": "kr", "SEK": "kr", "DKK": "kr", "INR": "₹", "KRW": "₩"}


@lru_cache(maxsize=16)
def _locale_parts(name: str) -> tuple[str, str, str, str]:
    """(decimal point, group separator, currency pattern with ``¤`` and ``#``, minus)."""
    locale = QLocale(name)
    point = locale.decimalPoint() or "."
    group = locale.groupSeparator()
    # Ask Qt where the locale puts the symbol, with a harmless sample, then keep the shape.
    sample = locale.toCurrencyString(1.0, "¤", 0)
    digits = locale.toString(1)
    pattern = sample.replace(digits, "#", 1) if digits in sample else "¤#"
    if locale.language() == QLocale.Language.C:
        pattern = "¤#"  # the C locale puts the symbol after the number; nobody writes that
    minus = locale.negativeSign() or "-"
    return point, group, pattern, minus


def format_decimal(amount: Decimal, places: int, locale: QLocale | None = None) -> str:
    """``amount`` with ``places`` decimals and the locale's separators; exact."""
    point, group, _, minus = _locale_parts((locale or QLocale()).name())
    quantum = Decimal(1).scaleb(-places)
    value = amount.quantize(quantum) if amount.as_tuple().exponent != -places else amount
    sign = minus if value < 0 else ""
    text = f"{abs(value):f}"
    whole, _, frac = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    joined = group.join(groups) if group else "".join(groups)
    return sign + joined + (point + frac if frac else "")


def format_money(amount: Decimal | None, currency: str, locale: QLocale | None = None) -> str:
    """``€1,234.50`` / ``1.234,50 €`` in the user's locale; ``""`` for no amount."""
    if amount is None:
        return ""
    places = currency_exponent(currency) if currency else 2
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        places = -exponent  # keep precision the server sent rather than rounding it away
    _, _, pattern, minus = _locale_parts((locale or QLocale()).name())
    number = format_decimal(abs(amount), places, locale)
    symbol = _SYMBOLS.get(currency.upper(), currency.upper()) if currency else ""
    if not symbol:
        text = number
    else:
        if symbol[-1:].isalpha() and "¤#" in pattern:
            symbol += "\u00a0"  # "CHF 12.00", not "CHF12.00"
        elif symbol[:1].isalpha() and "#¤" in pattern:
            symbol = "\u00a0" + symbol
        text = pattern.replace("#", number).replace("¤", symbol)
    return minus + text if amount < 0 else text


def format_time(value: datetime | None, *, utc: bool = False) -> str:
    if value is None:
        return ""
    shown = value.astimezone(UTC) if utc else value.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M") + (" UTC" if utc else "")


def format_time_long(value: datetime | None, *, utc: bool = False) -> str:
    if value is None:
        return "—"
    shown = value.astimezone(UTC) if utc else value.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M:%S %Z")


def freshness(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago: ``just now``, ``5 min ago``, ``3 h ago``, ``2 d ago``; ``never``."""
    if value is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    if seconds < 45:
        return "just now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} h ago"
    return f"{round(hours / 24)} d ago"


def parse_amount(text: str, locale: QLocale | None = None) -> Decimal | None:
    """A person's typed amount (either separator) → Decimal; ``None`` if empty or invalid."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    point, group, _, _ = _locale_parts((locale or QLocale()).name())
    if group and group != point:
        raw = raw.replace(group, "")
    raw = raw.replace(point, ".").replace(",", ".")
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return None
    return value if value.is_finite() else None
