"""Order status: the provider's raw text kept verbatim, plus a category."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class StatusCategory(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PROCESSING = "processing"
    ON_HOLD = "on_hold"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"
    DELETED = "deleted"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Final[dict[StatusCategory, str]] = {
    StatusCategory.AWAITING_PAYMENT: "Awaiting payment",
    StatusCategory.PAID: "Paid",
    StatusCategory.PROCESSING: "Processing",
    StatusCategory.ON_HOLD: "On hold",
    StatusCategory.SHIPPED: "Shipped",
    StatusCategory.DELIVERED: "Delivered",
    StatusCategory.COMPLETED: "Completed",
    StatusCategory.CANCELLED: "Cancelled",
    StatusCategory.REFUNDED: "Refunded",
    StatusCategory.FAILED: "Failed",
    StatusCategory.DELETED: "Deleted",
    StatusCategory.OTHER: "Other",
}

#: Raw provider statuses (both providers) → category. Anything else is OTHER.
_RAW_TO_CATEGORY: Final[dict[str, StatusCategory]] = {
    # ecommerce-API
    "awaiting_payment": StatusCategory.AWAITING_PAYMENT,
    "paid": StatusCategory.PAID,
    "delivered": StatusCategory.DELIVERED,
    "cancelled": StatusCategory.CANCELLED,
    # shop API
    "new": StatusCategory.AWAITING_PAYMENT,
    "pending": StatusCategory.AWAITING_PAYMENT,
    "hold": StatusCategory.ON_HOLD,
    "failed": StatusCategory.FAILED,
    "processing": StatusCategory.PROCESSING,
    "shipped": StatusCategory.SHIPPED,
    "completed": StatusCategory.COMPLETED,
    "refunded": StatusCategory.REFUNDED,
    "deleted": StatusCategory.DELETED,
    "canceled": StatusCategory.CANCELLED,
}


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """``raw`` exactly as the server sent it; ``category`` for grouping and filters."""

    raw: str
    category: StatusCategory

    @classmethod
    def from_raw(cls, raw: str) -> OrderStatus:
        key = raw.strip().lower()
        return cls(raw, _RAW_TO_CATEGORY.get(key, StatusCategory.OTHER))

    @property
    def known(self) -> bool:
        return self.category is not StatusCategory.OTHER

    @property
    def label(self) -> str:
        """What to show: the category's label, or the raw text for unknown statuses."""
        return self.category.label if self.known else self.raw
