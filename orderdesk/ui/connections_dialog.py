"""Connections: list, add, edit, remove and test; tokens go to the keyring."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from orderdesk.config import DEFAULT_CURRENCY, ConnectionConfig
from orderdesk.models.entities import ConnectionKind
from orderdesk.models.errors import OrderdeskError
from orderdesk.services.connections import ConnectionService
from orderdesk.ui.sync_control import error_text
from orderdesk.ui.tasks import TaskRunner
from orderdesk.ui.widgets import Banner

KIND_LABELS = {
    ConnectionKind.SHOP_STAFF: "Shop API — staff",
    ConnectionKind.SHOP_CUSTOMER: "Shop API — customer",
    ConnectionKind.ECOMMERCE_CUSTOMER: "E-commerce API — customer",
}


class ConnectionsDialog(QDialog):
    """Edits the connections of one orderdesk through ``ConnectionService``."""

    connectionsChanged = Signal()

    def __init__(self, service: ConnectionService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connections")
        self.setAccessibleName("Connections")
        self.resize(760, 460)
        self.service = service
        self.runner = TaskRunner(self, threads=1)
        self._editing: ConnectionConfig | None = None

        outer = QVBoxLayout(self)
        self.banner = Banner("info")
        outer.addWidget(self.banner)
        row = QHBoxLayout()
        outer.addLayout(row, 1)

        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.setAccessibleName("Connections")
        self.list.currentItemChanged.connect(self._selected)
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New")
        self.new_button.setAccessibleName("New connection")
        self.new_button.clicked.connect(self.new_connection)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove connection")
        self.remove_button.clicked.connect(lambda: self.remove_selected(confirm=True))
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)
        row.addLayout(left, 2)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. main-shop")
        self.kind = QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind.value)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("https://shop.example.com")
        self.display_name = QLineEdit()
        self.currency = QLineEdit()
        self.currency.setPlaceholderText(DEFAULT_CURRENCY)
        self.currency.setMaxLength(3)
        self.auth = QComboBox()
        for text, data in (("Default for the kind", ""), ("Bearer token", "bearer"),
                           ("HTTP Basic (e-mail + password)", "basic"), ("API token", "token")):
            self.auth.addItem(text, data)
        self.username = QLineEdit()
        self.username.setPlaceholderText("e-mail, for HTTP Basic only")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("kept in the system keyring, never in files")
        self.token_env = QLineEdit()
        self.token_env.setPlaceholderText("or: name of an environment variable, e.g. SHOP_TOKEN")
        for label, widget, name in (
                ("&Name", self.name, "Connection name"), ("&Kind", self.kind, "Kind"),
                ("&Address", self.base_url, "Base URL"),
                ("&Display name", self.display_name, "Display name"),
                ("&Currency", self.currency, "Currency"),
                ("A&uthentication", self.auth, "Authentication"),
                ("&User", self.username, "User name"),
                ("&Token", self.token, "Token or password"),
                ("Token from &env", self.token_env, "Token environment variable")):
            widget.setAccessibleName(name)
            form.addRow(label, widget)
        hint = QLabel("The token is stored in the system keyring. Where there is none "
                      "(e.g. a headless machine), leave it empty and name an environment "
                      "variable that holds it instead.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        form.addRow(hint)
        actions = QHBoxLayout()
        self.save_button = QPushButton("&Save")
        self.save_button.setAccessibleName("Save connection")
        self.save_button.clicked.connect(self.save)
        self.test_button = QPushButton("T&est connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self.test_selected)
        actions.addStretch(1)
        actions.addWidget(self.test_button)
        actions.addWidget(self.save_button)
        form.addRow(actions)
        holder = QWidget()
        holder.setLayout(form)
        row.addWidget(holder, 3)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        outer.addWidget(close)
        self.reload()

    # list --------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        self.list.clear()
        try:
            connections = self.service.list()
        except OrderdeskError as exc:
            self.banner.show_message(exc.message, exc.details, kind="error")
            connections = []
        for conn in connections:
            text = conn.label + (" (demo)" if conn.demo else "")
            item = QListWidgetItem(f"{text}\n{conn.base_url}")
            item.setData(Qt.ItemDataRole.UserRole, conn.name)
            item.setToolTip(f"{conn.name} · {KIND_LABELS.get(conn.kind, conn.kind)}")
            self.list.addItem(item)
            if conn.name == select:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        if not self.list.count():
            self.new_connection()

    def _selected(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        try:
            conn = self.service.get(name)
        except OrderdeskError as exc:
            self.banner.show_message(exc.message, exc.details, kind="error")
            return
        self._editing = conn
        self.name.setText(conn.name)
        self.name.setReadOnly(True)
        self.kind.setCurrentIndex(max(0, self.kind.findData(conn.kind.value)))
        self.base_url.setText(conn.base_url)
        self.display_name.setText(conn.display_name)
        self.currency.setText(conn.currency)
        self.auth.setCurrentIndex(max(0, self.auth.findData(conn.auth)))
        self.username.setText(conn.username)
        self.token.clear()
        self.token.setPlaceholderText("unchanged — type to replace the stored token")
        self.token_env.setText(conn.token_env)
        self.test_button.setEnabled(True)
        self.remove_button.setEnabled(True)

    def new_connection(self) -> None:
        self._editing = None
        self.list.clearSelection()
        for edit in (self.name, self.base_url, self.display_name, self.currency,
                     self.username, self.token, self.token_env):
            edit.clear()
        self.name.setReadOnly(False)
        self.token.setPlaceholderText("kept in the system keyring, never in files")
        self.kind.setCurrentIndex(0)
        self.auth.setCurrentIndex(0)
        self.test_button.setEnabled(False)
        self.remove_button.setEnabled(False)
        self.name.setFocus()

    # actions -----------------------------------------------------------------------
    def form_config(self) -> ConnectionConfig:
        """The connection the form describes (raises ConfigError with a clear message)."""
        base = self._editing
        return ConnectionConfig(
            name=self.name.text().strip(),
            kind=ConnectionKind(self.kind.currentData()),
            base_url=self.base_url.text().strip(),
            display_name=self.display_name.text().strip(),
            currency=self.currency.text().strip().upper(),
            auth=self.auth.currentData() or "",
            username=self.username.text().strip(),
            token_env=self.token_env.text().strip(),
            page_size=base.page_size if base else 0,  # 0: the kind's default
            timeout_s=base.timeout_s if base else 30.0,
            demo=base.demo if base else False,
            extra=dict(base.extra) if base else {},
        )

    def save(self) -> bool:
        try:
            config = self.form_config()
            self.service.add(config, self.token.text() or None)
        except OrderdeskError as exc:
            message = exc.message
            if "keyring" in message.lower():
                message += " Fill in “Token from env” with the variable's name."
                self.token_env.setFocus()
            self.banner.show_message(message, exc.details, kind="error")
            return False
        self.token.clear()
        self.banner.show_message(f"Saved “{config.label}”.", kind="info")
        self.reload(select=config.name)
        self.connectionsChanged.emit()
        return True

    def selected_name(self) -> str | None:
        item = self.list.currentItem()
        if item is None:
            return None
        name = item.data(Qt.ItemDataRole.UserRole)
        return str(name) if name else None

    def remove_selected(self, *, confirm: bool = True) -> None:
        name = self.selected_name()
        if name is None:
            return
        if confirm and QMessageBox.question(
                self, "Remove connection",
                f"Remove the connection “{name}” and its cached orders?") \
                != QMessageBox.StandardButton.Yes:
            return
        try:
            self.service.remove(name)
        except OrderdeskError as exc:
            self.banner.show_message(exc.message, exc.details, kind="error")
            return
        self.banner.show_message(f"Removed “{name}”.", kind="info")
        self.reload()
        self.connectionsChanged.emit()

    def test_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        self.test_button.setEnabled(False)
        self.banner.show_message(f"Testing “{name}”…", kind="info")
        service = self.service

        def done(text: str) -> None:
            self.test_button.setEnabled(True)
            self.banner.show_message(text, kind="ok")

        def failed(exc: Exception) -> None:
            self.test_button.setEnabled(True)
            message, details = error_text(exc)
            self.banner.show_message(message, details, kind="error")

        self.runner.submit("test", lambda: service.test(name), done, failed)

    def done(self, result: int) -> None:
        self.runner.shutdown(5000)
        super().done(result)
