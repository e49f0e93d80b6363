"""Small shared widgets: the message banner with a Details expander."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


class Banner(QFrame):
    """A dismissable message across the window: info, demo or error (with details)."""

    dismissed = Signal()

    def __init__(self, kind: str = "info", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("kind", kind)
        col = QVBoxLayout(self)
        col.setContentsMargins(12, 6, 8, 6)
        col.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(6)
        row.addLayout(self.action_row)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Show details")
        self.details_button.toggled.connect(self._toggle_details)
        row.addWidget(self.details_button)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.clicked.connect(self.dismiss)
        row.addWidget(self.close_button)
        col.addLayout(row)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(120)
        self.details.setAccessibleName("Error details")
        self.details.hide()
        col.addWidget(self.details)
        self.setAccessibleName("Message")
        self.hide()

    def show_message(self, text: str, details: str = "", *, kind: str | None = None) -> None:
        if kind is not None:
            self.setProperty("kind", kind)
            self.style().unpolish(self)
            self.style().polish(self)
        self.label.setText(text)
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.details.hide()
        self.setAccessibleDescription(text)
        self.show()

    def add_action(self, text: str, slot: object, name: str | None = None) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name or text)
        button.clicked.connect(slot)
        self.action_row.addWidget(button)
        return button

    def _toggle_details(self, on: bool) -> None:
        self.details.setVisible(on)

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
