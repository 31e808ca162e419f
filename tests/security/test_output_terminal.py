"""Terminal escapes: names and codes holding control characters (written before kitops
refused them, or by plain SQL) print escaped in every text output, so a name holding
cursor-up and erase codes cannot hide lines of a manager's screen; rich markup in a name
is text."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from kitops.data.repositories import Audit
from kitops.data.schema import LocationRow, LotRow, ProductRow, SupplierRow
from kitops.domain.text import json_text, no_control, visible

HIDE = "\x1b[1A\x1b[2K"  # cursor up one line, erase it
C1 = "\x9b2J"  # a one-byte CSI: erase the screen on terminals that take C1 controls
BIDI = "\u202e"  # right-to-left override
RAW = ("\x1b", "\x9b", "\u202e", "\x07")


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    """Tables as wide as their cells, so no name is cut short with an ellipsis."""
    monkeypatch.setenv("COLUMNS", "400")


def plant(db) -> None:
    """Rows as an older kitops (or plain SQL) could have left them."""
    with db.engine.begin() as conn:
        conn.execute(
            update(ProductRow)
            .where(ProductRow.sku == "CHX-0.5")
            .values(name=f"Chlorhexidine{HIDE} [/] [bold]loud[/bold]")
        )
        conn.execute(
            update(LocationRow).where(LocationRow.code == "LON-SHELF").values(name=f"Shelf{C1}\x07")
        )
        conn.execute(
            update(LotRow).where(LotRow.code == "PTT6-A0412").values(code=f"PTT6-A0412{C1}{BIDI}")
        )
        conn.execute(update(SupplierRow).where(SupplierRow.code == "DERMASUPPLY")
                     .values(name=f"Derma{BIDI}gpj.exe"))  # fmt: skip
    with db.write_sessions() as session:
        Audit(session).record(actor=f"mallory{HIDE}", action="access.refused",
                              entity="permission", entity_key="user.known",
                              after={"reason": f"not a user{HIDE}"})  # fmt: skip
        session.commit()


def assert_clean(text: str) -> None:
    for char in RAW:
        assert char not in text, (char, text)


def test_visible_writes_every_control_character_out_and_keeps_the_rest():
    assert visible("mallory\x1b[1A\x1b[2K") == "mallory\\x1b[1A\\x1b[2K"
    assert visible("a\tb\nc\rd\x7f\x9b\u202e") == "a\\tb\\nc\\rd\\x7f\\x9b\\u202e"
    assert visible("two\nlines\x1b", keep_newlines=True) == "two\nlines\\x1b"
    assert visible("Crème brûlée, 5 ml — ok") == "Crème brûlée, 5 ml — ok"
    assert json.loads(json_text({"n": "x\x9b\x1b\u202e"})) == {"n": "x\x9b\x1b\u202e"}
    assert_clean(json_text({"n": "x\x9b\x1b\u202e\x07"}))
    assert no_control("Crème", "name") == "Crème"


def test_listings_and_the_audit_log_show_control_characters_escaped(demo, db):
    plant(db)
    for args, shown in (
        (("catalog", "list"), "Chlorhexidine\\x1b[1A\\x1b[2K"),
        (("location", "list"), "Shelf\\x9b2J\\x07"),
        (("supplier", "list"), "Derma\\u202egpj"),
        (("audit", "--limit", "5"), "mallory\\x1b[1A\\x1b[2K"),
        (("stock", "--sku", "CHX-0.5"), "CHX-0.5"),
    ):
        result = demo(*args)
        assert result.code == 0, (args, result.err)
        assert_clean(result.out)
        assert_clean(result.err)
        flat = result.out.replace("\n", "").replace(" ", "")
        assert shown.replace(" ", "") in flat, (args, result.out)


def test_rich_markup_in_a_name_is_printed_as_text(demo, db):
    plant(db)
    listed = demo("catalog", "list")
    assert listed.code == 0, listed.err
    flat = listed.out.replace("\n", "").replace(" ", "")
    assert "[/][bold]loud[/bold]" in flat


def test_json_output_escapes_what_a_terminal_would_act_on(demo, db):
    plant(db)
    for args in (("catalog", "list", "--json"), ("location", "list", "--json"),
                 ("supplier", "list", "--json"), ("audit", "--json")):  # fmt: skip
        result = demo(*args)
        assert result.code == 0, (args, result.err)
        assert_clean(result.out)
        json.loads(result.out)  # still JSON, the same values
    names = {p["sku"]: p["name"] for p in json.loads(demo("catalog", "list", "--json").out)}
    assert names["CHX-0.5"].startswith(f"Chlorhexidine{HIDE}")


def test_reports_print_control_characters_escaped(demo, db):
    plant(db)
    for fmt in ("table", "csv", "json"):
        result = demo("report", "stock", "--format", fmt)
        assert result.code == 0, (fmt, result.err)
        assert_clean(result.out)
        assert "PTT6-A0412" in result.out


def test_the_terminal_ui_shows_a_cell_as_escaped_plain_text():
    from kitops.tui.widgets import cell

    shown = cell(f"Chlorhexidine{HIDE}[bold]x")
    assert shown.plain == "Chlorhexidine\\x1b[1A\\x1b[2K[bold]x"
    assert not shown.spans
