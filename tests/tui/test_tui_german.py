"""The terminal UI in German: the footer's key bindings (marked with ``N_`` where the
class is defined, translated when shown) and the screens' own words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from tui_support import make_app, settle

from kitops.i18n import set_default_locale


@pytest.fixture
def german() -> Iterator[None]:
    set_default_locale("de")
    try:
        yield
    finally:
        set_default_locale("en")


def _footer(app: object) -> list[str]:
    screen = app.screen  # type: ignore[attr-defined]
    return [key.description for key in screen.query_one(Footer).query(FooterKey)]


def test_footer_bindings_are_shown_in_german(german: None, demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            shown = _footer(app)
            assert "Befehle" in shown
            assert "palette" not in shown

    asyncio.run(scenario())
