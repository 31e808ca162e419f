"""The dashboard's activity tile warns of outbound webhooks whose deliveries are failing
(and says nothing of them while all is well)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from tui_support import make_app, settle

from kitops.data.engine import open_database
from kitops.data.schema import WebhookSubscriptionRow
from kitops.tui.screens.dashboard import DashboardScreen
from kitops.tui.widgets import Tile


def _text(tile: Tile) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(tile.content)
    return console.export_text()


def _webhook(url: str, *, failing: bool) -> None:
    db = open_database(url)
    with db.write_sessions() as session:
        session.add(WebhookSubscriptionRow(
            url="https://erp.example/hooks", events="lot.recalled", secret_file="/x/secret",
            created_by="tester", failing_since=datetime(2026, 11, 22, 7, 0, tzinfo=UTC) if failing
            else None, last_error="HTTP 500" if failing else None))  # fmt: skip
        session.commit()
    db.dispose()


def _activity(url: str) -> str:
    found: list[str] = []

    async def scenario() -> None:
        app = make_app(url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            found.append(_text(app.screen.query_one("#tile-activity", Tile)))

    asyncio.run(scenario())
    return found[0]


def test_the_activity_tile_counts_failing_webhook_deliveries(demo_url: str) -> None:
    _webhook(demo_url, failing=True)
    _webhook(demo_url, failing=True)
    _webhook(demo_url, failing=False)
    assert "webhook deliveries failing: 2 (kitops webhook list)" in _activity(demo_url)


def test_no_warning_while_deliveries_go_through(demo_url: str) -> None:
    _webhook(demo_url, failing=False)
    assert "webhook deliveries failing" not in _activity(demo_url)
