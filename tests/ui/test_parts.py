"""Formatting, saved-view serialisation, the connections dialog, sync changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from PySide6.QtCore import QLocale, Qt

from orderdesk.models.query import OrderQuery, PaymentFilter, SortField, SortKey
from orderdesk.models.status import StatusCategory
from orderdesk.services.connections import ConnectionService
from orderdesk.ui.connections_dialog import ConnectionsDialog
from orderdesk.ui.format import format_decimal, format_money, freshness, parse_amount
from orderdesk.ui.main_window import MainWindow
from orderdesk.ui.views import query_from_json, query_to_json
from tests.ui.data import varied_order


def test_money_is_formatted_exactly_in_the_locale():
    en, de = QLocale("en_US"), QLocale("de_DE")
    assert format_money(Decimal("1234.5"), "EUR", en) == "€1,234.50"
    assert format_money(Decimal("1234.5"), "EUR", de) == "1.234,50\u00a0€"
    assert format_money(Decimal("-5"), "USD", en) == "-$5.00"
    assert format_money(Decimal("1000"), "JPY", en) == "¥1,000"
    assert format_money(Decimal("0.125"), "EUR", en) == "€0.125"  # never rounds away
    assert format_money(Decimal("12"), "CHF", en) == "CHF\u00a012.00"
    assert format_money(None, "EUR") == ""
    assert format_decimal(Decimal("99999999999999.99"), 2, en) == "99,999,999,999,999.99"
    assert parse_amount("1.234,5", de) == Decimal("1234.5")
    assert parse_amount("12.30", en) == Decimal("12.30")
    assert parse_amount("abc", en) is None


def test_freshness():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert freshness(None) == "never"
    assert freshness(now - timedelta(seconds=10), now) == "just now"
    assert freshness(now - timedelta(minutes=5), now) == "5 min ago"
    assert freshness(now - timedelta(hours=3), now) == "3 h ago"
    assert freshness(now - timedelta(days=4), now) == "4 d ago"


def test_query_json_round_trip():
    query = OrderQuery(
        connections=("staff",), categories=(StatusCategory.SHIPPED, StatusCategory.PAID),
        text="anna", created_from=datetime(2025, 1, 1, tzinfo=UTC),
        created_to=datetime(2025, 2, 1, tzinfo=UTC), total_min=Decimal("10.50"),
        total_max=Decimal("99.99"), payment=PaymentFilter.OUTSTANDING,
        payment_methods=("Card",), countries=("Norway",), has_notes=True, has_problems=False,
        sort=(SortKey(SortField.TOTAL, True), SortKey(SortField.CUSTOMER)))
    data = query_to_json(query)
    assert query_from_json(data) == query
    assert query_from_json({"sort": []}) == OrderQuery(sort=())
    # garbage never stops the window from opening
    assert query_from_json({"total_min": "lots", "payment": "maybe", "sort": ["bogus"],
                            "text": "x"}) == OrderQuery(text="x")
    assert query_from_json(None) == OrderQuery()


def test_connections_dialog_adds_with_env_var_and_explains_missing_keyring(qtbot, ctx):
    dialog = ConnectionsDialog(ConnectionService(ctx))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.new_connection()
    dialog.name.setText("main-shop")
    dialog.base_url.setText("https://shop.example.com")
    dialog.token.setText("secret")
    assert dialog.token.echoMode() == dialog.token.EchoMode.Password
    assert not dialog.save()  # the test machine has no keyring
    assert dialog.banner.isVisible()
    assert "keyring" in dialog.banner.label.text()
    assert "environment variable" in dialog.banner.label.text()
    dialog.token.clear()
    dialog.token_env.setText("MAIN_SHOP_TOKEN")
    assert dialog.save()
    assert [c.name for c in ConnectionService(ctx).list()] == ["main-shop"]
    assert dialog.selected_name() == "main-shop"
    # editing keeps the name fixed; a bad address is explained, not raised
    dialog.base_url.setText("not a url")
    assert not dialog.save()
    assert "http" in dialog.banner.label.text()
    dialog.remove_selected(confirm=False)
    assert ConnectionService(ctx).list() == []
    dialog.close()


def test_sync_changes_keep_the_selection(qtbot, ctx):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    model = window.model
    qtbot.waitUntil(lambda: model.is_complete and not model.is_loading, timeout=10_000)
    with qtbot.waitSignal(window.detailShown, timeout=10_000):
        window.table.selectRow(5)
    chosen = model.ids[5]
    # newer orders arrive (they sort first, by created descending)
    newer = [varied_order(900 + i) for i in range(4)]
    newer = [o.__class__(**{**{f: getattr(o, f) for f in o.__dataclass_fields__},
                            "created_at": o.created_at + timedelta(days=3000)}) for o in newer]
    changes = ctx.store.upsert_page("staff", newer)
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.apply_changes(changes)
    qtbot.waitUntil(lambda: window.current_id() == chosen, timeout=10_000)
    assert model.rowCount() == 124
    assert window.selected_ids() == [chosen]
    assert model.row_of(chosen) == 9
    window.close()


def test_keyboard_focus_and_enter(qtbot, ctx):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model.is_complete, timeout=10_000)
    window.table.setFocus()
    with qtbot.waitSignal(window.detailShown, timeout=10_000):
        qtbot.keyClick(window.table, Qt.Key.Key_Return)  # opens the first order
    assert window.detail.detail is not None
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    for widget in (window.search, window.table, window.detail, window.tabs, window.filter_bar,
                   window.view_combo):
        assert widget.accessibleName()
    window.close()
