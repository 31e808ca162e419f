"""Kitting without waste (issue 14): assembly at a place draws its components from
anywhere in the same clinic (never from a quarantine place, never from another clinic),
each draw a ledger move, first expiry first out across the clinic; `available` counts the
clinic and says which component holds it back; the default minimum shelf life is what one
kit of the shortest plan needs, so 50-90-day lots are kitted; a kit says which plans it
can still serve.

The demo data is loaded as of ``AS_OF``: London holds serum in LON-FRIDGE (PTT6-A0519
24 days, PTT6-A0603 52 days, PTT6-B0902 190 days; PTT6-C0115 in LON-QUAR awaiting
release) and its loose STAMP-0.5 on LON-SHELF (the fridge's stamps went into the demo's
kits).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import select

from kitops.data.schema import AuditRow, LocationRow, StockMoveRow
from kitops.domain.kits import NotEnoughComponents
from kitops.errors import InvalidInput
from kitops.services import admin, kits, lots, plans, stock
from kitops.services.operations import move

KIT = "KIT-HOME-6W"
# one kit of home-6w (and of home-12w, two kits of six weeks) lasts 6 weeks, + 7 days margin
SHORTEST_KIT_DAYS = 6 * 7 + 7


def _on_hand(uow, location: str) -> dict[tuple[str, str], int]:
    lines = stock.stock_on_hand(
        uow(readonly=True), location=location, include_unavailable=True, today=AS_OF
    )
    return {(line.sku, line.lot): line.quantity for line in lines if line.location == location}


def _usable_serum(uow, clinic: str, days: int) -> int:
    """Released serum anywhere in ``clinic`` lasting ``days`` more days (stock lists
    released, in-date stock only)."""
    lines = stock.stock_on_hand(uow(readonly=True), location=clinic, sku="SERUM-5ML", today=AS_OF)
    horizon = AS_OF + timedelta(days=days)
    return sum(line.quantity for line in lines if line.expiry and line.expiry >= horizon)


def _moves(db, reference: str) -> list[tuple[str, str, str, int]]:
    """(reason, from, to, quantity) of the ledger moves with ``reference``."""
    with db.read_sessions() as session:
        code = {row.id: row.code for row in session.scalars(select(LocationRow))}
        rows = session.scalars(select(StockMoveRow).where(StockMoveRow.reference == reference))
        return sorted(
            (r.reason, code[r.from_location_id], code[r.to_location_id], r.quantity) for r in rows
        )


def _assembly_reference(db) -> str:
    with db.read_sessions() as session:
        audit = session.scalars(
            select(AuditRow).where(AuditRow.action == "kit.assemble").order_by(AuditRow.id.desc())
        ).first()
    assert audit is not None
    return f"assembly:{audit.id}"


def _all_stamps_to_quarantine(uow) -> int:
    shelf = _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")]
    move(uow(), "STAMP-0.5", shelf, "LON-SHELF", "LON-QUAR", lot="DS05-2402", today=AS_OF)
    return shelf


# --- kit available counts the clinic ------------------------------------------------


def test_kit_available_at_a_clinic_counts_the_components_in_its_fridge_and_on_its_shelf(
    loaded, uow
):
    """The issue's report: `kit available KIT-HOME-6W --location LON` said 0 with usable
    vials in LON-FRIDGE and stamps on LON-SHELF, and nobody was told why."""
    serum = _usable_serum(uow, "LON", SHORTEST_KIT_DAYS)
    stamps = _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")]
    assert serum >= 6
    assert stamps >= 1
    expected = min(serum // 6, stamps)

    for place in ("LON", "LON-FRIDGE", "LON-SHELF", "LON-STORE"):
        assert kits.available(uow(readonly=True), KIT, place, today=AS_OF) == expected, place

    found = kits.capacity(uow(readonly=True), KIT, "LON", today=AS_OF)
    assert (found.sku, found.location, found.clinic, found.kits) == (KIT, "LON", "LON", expected)
    assert found.min_shelf_life_days == SHORTEST_KIT_DAYS
    assert found.fresh_until == AS_OF + timedelta(days=SHORTEST_KIT_DAYS)
    assert [(c.sku, c.per_kit, c.usable, c.kits) for c in found.components] == [
        ("SERUM-5ML", 6, serum, serum // 6),
        ("STAMP-0.5", 1, stamps, stamps),
    ]
    assert found.limited_by == (("SERUM-5ML",) if serum // 6 < stamps else ("STAMP-0.5",))


def test_kit_available_says_which_component_is_short_and_never_counts_quarantine_or_other_clinics(
    loaded, uow
):
    _all_stamps_to_quarantine(uow)  # released stamps, but on the quarantine shelf
    esx_stamps = _on_hand(uow, "ESX-SHELF")[("STAMP-0.5", "DS05-2402")]
    assert esx_stamps > 0  # Essex has stamps: not London's

    found = kits.capacity(uow(readonly=True), KIT, "LON-FRIDGE", today=AS_OF)

    assert found.kits == 0
    assert found.limited_by == ("STAMP-0.5",)
    stamps = next(c for c in found.components if c.sku == "STAMP-0.5")
    assert (stamps.usable, stamps.kits) == (0, 0)
    serum = next(c for c in found.components if c.sku == "SERUM-5ML")
    assert serum.usable == _usable_serum(uow, "LON", SHORTEST_KIT_DAYS) > 0
    # the quarantined serum lot PTT6-C0115 in LON-QUAR is not usable either
    assert _on_hand(uow, "LON-QUAR")[("SERUM-5ML", "PTT6-C0115")] > 0
    assert kits.available(uow(readonly=True), KIT, "ESX-FRIDGE", today=AS_OF) > 0


def test_kits_are_never_assembled_at_a_quarantine_place(loaded, uow):
    before = writes(loaded)
    for call in (
        lambda: kits.assemble(uow(), KIT, 1, "LON-QUAR", today=AS_OF),
        lambda: kits.available(uow(readonly=True), KIT, "LON-QUAR", today=AS_OF),
    ):
        with pytest.raises(InvalidInput) as err:
            call()
        assert (err.value.field, err.value.value) == ("location", "LON-QUAR")
        assert "quarantine" in str(err.value)
    assert writes(loaded) == before


# --- assembly draws from the clinic ------------------------------------------------


def test_assembly_in_the_fridge_brings_the_stamps_from_the_shelf_as_ledger_moves(loaded, db, uow):
    shelf_before = _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")]
    fridge_before = _on_hand(uow, "LON-FRIDGE")
    assert ("STAMP-0.5", "DS05-2402") not in fridge_before  # no stamp in the fridge

    result = kits.assemble(uow(), KIT, 3, "LON-FRIDGE", today=AS_OF)

    assert [(d.sku, d.lot, d.from_location, d.quantity) for d in result.drawn] == [
        ("STAMP-0.5", "DS05-2402", "LON-SHELF", 3)
    ]
    for made in result.kits:
        assert (made.location, made.clinic, made.status) == ("LON-FRIDGE", "LON", "available")
        assert {(c.sku, c.quantity) for c in made.components} == {
            ("SERUM-5ML", 6),
            ("STAMP-0.5", 1),
        }
    assert _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")] == shelf_before - 3
    assert _on_hand(uow, "LON-FRIDGE").get(("STAMP-0.5", "DS05-2402"), 0) == 0
    reference = _assembly_reference(db)
    moves = _moves(db, reference)
    # the draw: shelf -> fridge (a transfer), then the fridge's components into the kits
    assert ("transfer", "LON-SHELF", "LON-FRIDGE", 3) in moves
    assert moves.count(("kit_assembly", "ASSEMBLY", "LON-FRIDGE", 1)) == 3
    assert sum(q for r, f, t, q in moves if (r, f, t) == ("kit_assembly", "LON-FRIDGE",
                                                           "ASSEMBLY")) == 3 * 7  # fmt: skip
    # the audit row says what was brought over
    with db.read_sessions() as session:
        audit = session.scalar(select(AuditRow).where(AuditRow.id == int(reference.split(":")[1])))
        assert audit is not None
        assert "LON-SHELF" in str(audit.after)
    assert admin.check(uow(readonly=True)).ok

    # taken apart, the components stay where the kit was made
    kits.disassemble(uow(), result.kits[0].serial)
    assert _on_hand(uow, "LON-FRIDGE")[("STAMP-0.5", "DS05-2402")] == 1
    assert admin.check(uow(readonly=True)).ok


def test_assembly_keeps_first_expiry_first_out_across_the_clinic(loaded, db, uow):
    """A shorter-dated (but long enough) lot on the shelf goes into kits before the
    fridge's longer one: the order of expiry, not of places, decides."""
    a0603 = _on_hand(uow, "LON-FRIDGE")[("SERUM-5ML", "PTT6-A0603")]
    move(uow(), "SERUM-5ML", 6, "LON-FRIDGE", "LON-SHELF", lot="PTT6-A0603", today=AS_OF)
    move(uow(), "SERUM-5ML", a0603 - 6, "LON-FRIDGE", "LON-QUAR", lot="PTT6-A0603", today=AS_OF)
    # now: 6 vials of A0603 on the shelf, the rest in quarantine, B0902 in the fridge

    first = kits.assemble(uow(), KIT, 1, "LON-FRIDGE", today=AS_OF)
    second = kits.assemble(uow(), KIT, 1, "LON-FRIDGE", today=AS_OF)

    assert {c.lot for c in first.kits[0].components} == {"PTT6-A0603", "DS05-2402"}
    assert sorted((d.sku, d.lot, d.from_location, d.quantity) for d in first.drawn) == [
        ("SERUM-5ML", "PTT6-A0603", "LON-SHELF", 6),
        ("STAMP-0.5", "DS05-2402", "LON-SHELF", 1),
    ]
    # the quarantined A0603 vials stay where they are: the next kit takes B0902
    assert {c.lot for c in second.kits[0].components} == {"PTT6-B0902", "DS05-2402"}
    assert _on_hand(uow, "LON-QUAR")[("SERUM-5ML", "PTT6-A0603")] == a0603 - 6
    assert admin.check(uow(readonly=True)).ok


def test_assembly_that_cannot_be_made_says_why_and_writes_nothing(loaded, uow):
    stamps = _all_stamps_to_quarantine(uow)
    before = writes(loaded)

    with pytest.raises(NotEnoughComponents) as err:
        kits.assemble(uow(), KIT, 2, "LON-FRIDGE", today=AS_OF)

    assert [(s.sku, s.usable, s.needed) for s in err.value.shortfalls] == [("STAMP-0.5", 0, 2)]
    message = str(err.value)
    assert "STAMP-0.5: 2 short (0 usable, 2 needed)" in message
    assert "anywhere in LON but quarantine" in message
    assert writes(loaded) == before
    assert _on_hand(uow, "LON-QUAR")[("STAMP-0.5", "DS05-2402")] == stamps


def test_assembly_never_draws_from_another_clinic(loaded, uow):
    _all_stamps_to_quarantine(uow)
    with pytest.raises(NotEnoughComponents):
        kits.assemble(uow(), KIT, 1, "LON-FRIDGE", today=AS_OF)
    esx = _on_hand(uow, "ESX-SHELF")[("STAMP-0.5", "DS05-2402")]
    made = kits.assemble(uow(), KIT, 1, "ESX-FRIDGE", today=AS_OF)
    assert [d.from_location for d in made.drawn] == ["ESX-SHELF"]
    assert _on_hand(uow, "ESX-SHELF")[("STAMP-0.5", "DS05-2402")] == esx - 1


# --- minimum shelf life: the shortest plan ------------------------------------------


def test_default_minimum_shelf_life_is_one_kit_of_the_shortest_plan_so_two_month_lots_are_kitted(
    loaded, uow
):
    """The issue's report: with the longest plan's 91 days, lots with 50-90 days left
    could not be kitted at all. PTT6-A0603 has 52 days left on AS_OF."""
    a0603 = lots.show(uow(readonly=True), "PTT6-A0603").expiry
    assert 50 <= (a0603 - AS_OF).days <= 90

    made = kits.assemble(uow(), KIT, 1, "LON-FRIDGE", today=AS_OF)

    assert made.min_expiry == AS_OF + timedelta(days=SHORTEST_KIT_DAYS)
    assert {c.lot for c in made.kits[0].components} == {"PTT6-A0603", "DS05-2402"}
    assert made.kits[0].expiry == a0603
    # the 24-day A0519 serves no plan: still never kitted by default
    a0603_left = _on_hand(uow, "LON-FRIDGE")[("SERUM-5ML", "PTT6-A0603")]
    b0902 = _on_hand(uow, "LON-FRIDGE")[("SERUM-5ML", "PTT6-B0902")]
    assert kits.available(uow(readonly=True), KIT, "LON", today=AS_OF) == min(
        (a0603_left + b0902) // 6, _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")]
    )


def test_the_shortest_active_plan_using_the_kit_sets_the_default(loaded, uow):
    capacity = kits.capacity(uow(readonly=True), KIT, "LON", today=AS_OF)
    assert capacity.min_shelf_life_days == SHORTEST_KIT_DAYS
    # a 3-week plan of one kit: kits lasting 3 weeks + margin may be made for it
    plans.add_plan(uow(), "home-3w", "At-home 3 weeks", per_week=4, weeks=3, ml="2.5",
                   administered="home", kit=KIT, kits=1)  # fmt: skip
    capacity = kits.capacity(uow(readonly=True), KIT, "LON", today=AS_OF)
    assert capacity.min_shelf_life_days == 3 * 7 + 7
    # an explicit minimum still wins
    explicit = kits.capacity(uow(readonly=True), KIT, "LON", min_shelf_life_days=100, today=AS_OF)
    assert explicit.min_shelf_life_days == 100


# --- which plans a kit can still serve ----------------------------------------------


def test_kit_list_and_show_say_which_plans_each_kit_can_still_serve(loaded, uow):
    # a plan whose single kit must last 12 weeks: only long-dated kits serve it
    plans.add_plan(uow(), "home-weekly-12w", "At-home weekly, 12 weeks", per_week=1, weeks=12,
                   ml="2.5", administered="home", kit=KIT, kits=1)  # fmt: skip
    short = kits.assemble(uow(), KIT, 1, "LON-FRIDGE", today=AS_OF).kits[0]  # A0603, 52 days
    long = kits.assemble(uow(), KIT, 1, "LON-FRIDGE", min_shelf_life_days=120, today=AS_OF).kits[
        0
    ]  # B0902, 190 days

    assert short.servable_plans == ("home-12w", "home-6w")
    assert long.servable_plans == ("home-12w", "home-6w", "home-weekly-12w")
    assert kits.show_kit(uow(readonly=True), short.serial, today=AS_OF) == short
    listed = {k.serial: k for k in kits.list_kits(uow(readonly=True), sku=KIT, today=AS_OF)}
    assert listed[short.serial].servable_plans == short.servable_plans
    assert listed[long.serial].servable_plans == long.servable_plans

    # ten days on, the 52-day kit would run out mid-course (6th vial needed ~45 days)
    later = AS_OF + timedelta(days=10)
    assert kits.show_kit(uow(readonly=True), short.serial, today=later).servable_plans == ()
    assert kits.show_kit(uow(readonly=True), long.serial, today=later).servable_plans == (
        "home-12w", "home-6w", "home-weekly-12w",
    )  # fmt: skip

    # a kit that has left stock serves nothing any more
    kits.disassemble(uow(), short.serial)
    assert kits.show_kit(uow(readonly=True), short.serial, today=AS_OF).servable_plans == ()
