"""Refusals speak the language in force when they are raised: German within
``use_locale("de")``, English (word for word as before) otherwise. The field an
``InvalidInput`` names is a machine name and stays as it is in every language."""

from __future__ import annotations

import pickle
from datetime import date

import pytest
from fakes import FakeUnitOfWork

from kitops.domain import roles, stock_rules
from kitops.domain.kits import NotEnoughComponents, Shortfall
from kitops.domain.ledger import LotStatus, Shortage
from kitops.domain.locations import LocationKind
from kitops.domain.roles import Role
from kitops.errors import InvalidInput, NotAllowed, Refused
from kitops.i18n import use_locale
from kitops.services import operations

TODAY = date(2026, 11, 22)


def _stockroom(role: Role = Role.STOCKROOM, **settings: str) -> FakeUnitOfWork:
    uow = FakeUnitOfWork("sam", role, settings=settings)
    uow.place("LON", LocationKind.CLINIC, zone="Europe/London")
    uow.place("LON-FRIDGE", LocationKind.FRIDGE, "LON")
    uow.place("LON-SHELF", LocationKind.SHELF, "LON")
    uow.place("SCRAP", LocationKind.SCRAP)
    serum = uow.product("SER-5ML")
    fridge = uow.locations.rows["LON-FRIDGE"]
    uow.lot(serum, "LATE", date(2027, 6, 30), on_hand={fridge: 10})
    uow.lot(serum, "EARLY", date(2027, 1, 31), on_hand={fridge: 4})
    return uow


def _recalled() -> Refused:
    with pytest.raises(Refused) as refused:
        stock_rules.check_existing_lot("L-42", None, LotStatus.RECALLED, None)
    return refused.value


def test_a_recalled_lot_is_refused_in_german_and_in_english_otherwise():
    with use_locale("de"):
        german = _recalled()
    english = _recalled()

    assert str(german) == "Charge L-42 ist zurückgerufen; sie kann nicht empfangen werden"
    assert str(english) == "lot L-42 is recalled; it cannot be received"


def test_not_enough_stock_is_refused_in_german():
    uow = _stockroom()
    with use_locale("de"), pytest.raises(Refused) as refused:
        operations.move(uow, "SER-5ML", 15, "LON-FRIDGE", "LON-SHELF", today=TODAY)

    assert str(refused.value) == (
        "nicht genug freigegebener, nicht abgelaufener Bestand: 14 verfügbar, 15 benötigt"
    )
    assert uow.ledger.moves == []

    with pytest.raises(
        Refused, match=r"^not enough released, in-date stock: 14 available, 15 needed$"
    ):
        operations.move(uow, "SER-5ML", 15, "LON-FRIDGE", "LON-SHELF", today=TODAY)


def test_a_shortage_names_the_stock_in_german():
    with use_locale("de"):
        shortage = Shortage((7, 3), 2, 5)
        named = shortage.named("SER-5ML Charge L-42 in LON-FRIDGE")
        components = NotEnoughComponents(2, [Shortfall("SER-5ML", 12, 4)])

    assert str(shortage) == (
        "nicht genug Bestand von Charge #7 am Lagerort #3: 2 vorrätig, 5 benötigt"
    )
    assert (
        str(named)
        == "nicht genug Bestand von SER-5ML Charge L-42 in LON-FRIDGE: 2 vorrätig, 5 benötigt"
    )
    assert str(components) == (
        "2 Kits können nicht zusammengestellt werden, keines zusammengestellt: "
        "SER-5ML: 8 fehlen (4 verwendbar, 12 benötigt)"
    )
    assert str(Shortage((7, 3), 2, 5)) == (
        "not enough stock of lot #7 at location #3: 2 on hand, 5 needed"
    )


@pytest.mark.parametrize(
    ("sku", "quantity", "field", "german", "english"),
    [
        (
            "NO-SUCH-SKU", 1, "sku",
            "kein Artikel hat diese SKU (siehe `kitops catalog list`)",
            "no product has this SKU (see `kitops catalog list`)",
        ),
        ("SER-5ML", 0, "qty", "muss mindestens 1 sein", "must be at least 1"),
        ("SER-5ML", "zwei", "qty", "muss eine ganze Zahl sein", "must be a whole number"),
    ],
)  # fmt: skip
def test_an_unknown_sku_or_a_bad_quantity_gives_a_german_reason_for_the_same_field(
    sku, quantity, field, german, english
):
    uow = _stockroom()
    with use_locale("de"), pytest.raises(InvalidInput) as refused:
        operations.move(uow, sku, quantity, "LON-FRIDGE", "LON-SHELF", today=TODAY)
    assert (refused.value.field, refused.value.reason) == (field, german)

    with pytest.raises(InvalidInput) as refused:
        operations.move(uow, sku, quantity, "LON-FRIDGE", "LON-SHELF", today=TODAY)
    assert (refused.value.field, refused.value.reason) == (field, english)


def test_a_role_refusal_is_german_and_survives_a_worker_process():
    uow = _stockroom(writeoff_approval_units="5")
    with use_locale("de"), pytest.raises(NotAllowed) as refused:
        operations.write_off(uow, "SER-5ML", 6, "LON-FRIDGE", "damaged", lot="LATE")

    message = (
        "sam (stockroom) darf nicht mehr als 5 Stück auf einmal ausbuchen (6): das darf die Leitung"
    )
    assert str(refused.value) == message
    assert [refusal.permission for refusal in uow.refusals] == ["stock.writeoff_large"]
    copied = pickle.loads(pickle.dumps(refused.value))  # as a worker process hands it back
    assert isinstance(copied, NotAllowed)
    assert (str(copied), copied.permission, copied.actor) == (
        message,
        "stock.writeoff_large",
        "sam",
    )


def test_the_role_table_speaks_german_and_english():
    with use_locale("de"):
        german = roles.refusal("anna", Role.STOCKROOM, "lot.recall")
        jobs = roles.refusal("anna", Role.STOCKROOM, "reorder.run")
    assert german == "anna (stockroom) darf nicht eine Charge zurückrufen: das darf die Leitung"
    assert jobs == (
        "anna (stockroom) darf nicht die Nachbestellung ausführen: "
        "das darf die Leitung oder ein Job-Benutzer"
    )
    assert roles.refusal("anna", Role.STOCKROOM, "reorder.run") == (
        "anna (stockroom) may not run the reorder job: a manager or a job user may"
    )
    with use_locale("de_AT"):  # Austrian German falls back to German
        assert roles.bootstrap_message().startswith("diese Datenbank hat noch keine Benutzer")
    assert roles.bootstrap_message() == roles.BOOTSTRAP_MESSAGE
