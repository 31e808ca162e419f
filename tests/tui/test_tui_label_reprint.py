"""The Kits screen asks before printing the label of a kit already with its patient; the
reprint is audited."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from tui_support import AS_OF, make_app, service_uow, settle, settle_until, table_text, type_text

from kitops.data.schema import AuditRow
from kitops.services import kits
from kitops.tui.lists import ListScreen
from kitops.tui.modals import ConfirmDialog, FormDialog

SIZE = (100, 30)


async def _open_kit(pilot: Pilot[Any], serial: str) -> None:
    await pilot.press("f5")
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, ListScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ListScreen)
    await pilot.press("slash")
    await type_text(pilot, serial)
    await pilot.press("enter")
    await settle_until(pilot, lambda: table_text(screen.table).strip().count("\n") == 0
                       and serial in table_text(screen.table))  # fmt: skip


def _reprints(url: str) -> list[str]:
    with service_uow(url) as uow:
        return list(uow.session.scalars(select(AuditRow.entity_key).where(
            AuditRow.action == "kit.label_reprint")))  # fmt: skip


def test_a_handed_over_kits_label_is_asked_for_first_then_audited(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    kits.dispatch(service_uow(demo_url), "K0000005", handover=True, today=AS_OF)

    async def scenario() -> str:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _open_kit(pilot, "K0000005")
            await pilot.press("l")
            await settle_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            question = app.screen.message  # type: ignore[attr-defined]
            await pilot.click("#confirm")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            await pilot.click("#ok")
            await settle(pilot)
            await settle_until(pilot, (tmp_path / "label-K0000005.pdf").exists)
            return str(question)

    question = asyncio.run(scenario())
    assert "already with the patient (handed over)" in question
    assert (tmp_path / "label-K0000005.pdf").read_bytes().startswith(b"%PDF")
    assert _reprints(demo_url) == ["K0000005"]
