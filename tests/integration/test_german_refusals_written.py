"""Refusals from the services on a real database, in the language in force when they are
raised: German within ``use_locale("de")``, and nothing written either way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF, writes

from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, NotAllowed, Refused
from kitops.i18n import use_locale
from kitops.services import lots, stock, users
from kitops.services.operations import ReceiptInput, receive


def _serum(lot: str, quantity: int = 5) -> ReceiptInput:
    expiry = (AS_OF + timedelta(days=190)).isoformat()
    return ReceiptInput(
        location="LON-FRIDGE", sku="SERUM-5ML", lot=lot, expiry=expiry, quantity=quantity
    )


def test_receiving_into_a_recalled_lot_is_refused_in_german(loaded, uow):
    lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip
    before = writes(loaded)

    with use_locale("de"), pytest.raises(Refused) as refused:
        receive(uow(), _serum("PTT6-B0902"), today=AS_OF)

    assert str(refused.value) == (
        "Charge PTT6-B0902 ist zurückgerufen; sie kann nicht empfangen werden"
    )
    assert writes(loaded) == before
    with pytest.raises(Refused, match=r"^lot PTT6-B0902 is recalled; it cannot be received$"):
        receive(uow(), _serum("PTT6-B0902"), today=AS_OF)


def test_an_unknown_sku_is_named_in_german_with_its_field_unchanged(loaded, uow):
    with use_locale("de"), pytest.raises(InvalidInput) as refused:
        stock.stock_on_hand(uow(readonly=True), sku="NO-SUCH-SKU", today=AS_OF)

    assert refused.value.field == "sku"
    assert refused.value.reason == "kein Artikel hat diese SKU (siehe `kitops catalog list`)"
    assert str(refused.value) == (
        "sku 'NO-SUCH-SKU': kein Artikel hat diese SKU (siehe `kitops catalog list`)"
    )


def test_a_user_limited_to_a_clinic_is_refused_in_german(loaded, uow):
    users.add_user(uow(), "sam", "stockroom")
    users.set_clinics(uow(), "sam", ["ESX"])

    with use_locale("de"), pytest.raises(NotAllowed) as refused:
        stock.stock_on_hand(uow(actor="sam"), location="LON-FRIDGE", today=AS_OF)

    assert str(refused.value) == (
        "sam darf nicht den Bestand ansehen (Klinik LON): sam ist auf ESX beschränkt"
    )
    assert refused.value.recorded
