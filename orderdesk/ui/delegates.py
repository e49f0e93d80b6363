"""Painting helpers: the status badge."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from orderdesk.models.status import OrderStatus, StatusCategory
from orderdesk.ui.table_model import ValueRole

#: (background, text) per status category: calm for done, warm for attention.
STATUS_COLORS: dict[StatusCategory, tuple[str, str]] = {
    StatusCategory.AWAITING_PAYMENT: ("#fef3c7", "#92400e"),
    StatusCategory.PAID: ("#dbeafe", "#1e40af"),
    StatusCategory.PROCESSING: ("#e0e7ff", "#3730a3"),
    StatusCategory.ON_HOLD: ("#ffedd5", "#9a3412"),
    StatusCategory.SHIPPED: ("#cffafe", "#155e75"),
    StatusCategory.DELIVERED: ("#dcfce7", "#166534"),
    StatusCategory.COMPLETED: ("#d1fae5", "#065f46"),
    StatusCategory.CANCELLED: ("#f3f4f6", "#4b5563"),
    StatusCategory.REFUNDED: ("#fce7f3", "#9d174d"),
    StatusCategory.FAILED: ("#fee2e2", "#991b1b"),
    StatusCategory.DELETED: ("#f3f4f6", "#9ca3af"),
    StatusCategory.OTHER: ("#f5f5f4", "#44403c"),
}


def status_colors(category: StatusCategory) -> tuple[str, str]:
    return STATUS_COLORS.get(category, ("#f5f5f4", "#44403c"))


class StatusBadgeDelegate(QStyledItemDelegate):
    """Draws the status as a rounded, coloured pill."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        status = index.data(ValueRole)
        if not isinstance(status, OrderStatus):
            super().paint(painter, option, index)
            return
        # background and selection as usual, without the text
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        bg, fg = status_colors(status.category)
        text = status.label
        metrics = QFontMetrics(opt.font)
        rect = opt.rect.adjusted(4, 3, -4, -3)
        width = min(rect.width(), metrics.horizontalAdvance(text) + 16)
        pill = QRectF(rect.left(), rect.top(), width, rect.height())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        painter.setPen(QColor(fg))
        painter.setFont(opt.font)
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(width) - 12)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, elided)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 16, max(size.height(), 24))
