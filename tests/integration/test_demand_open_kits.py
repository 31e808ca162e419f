"""The open kit needs (no kit held for them) are counted per alike need (clinic and kit
product, first day, vial days, served by an available kit or not), and only those of a
clinic and kit product with an available kit go through the expiry-aware assignment.
That gives the same counts, key for key, as matching every open need against every
available kit and counting them one by one: on the mixed set of courses of
``test_demand_grouped`` plus kits available at both clinics (some fit, some expire too
soon), in several windows."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from ledger_support import AS_OF
from sqlalchemy import select, update
from test_demand_grouped import WINDOWS, _mixed

from kitops.data.schema import KitRow
from kitops.domain.assignment import KitOffer, assign
from kitops.services import courses, demand

OPEN = {(demand.KIT, "kit"), (demand.KIT, None), (demand.KIT_COMPONENT, None)}


def _one_by_one(snap: demand._Snapshot, requests: list) -> Counter:
    """The open kit needs counted request by request, every one matched."""
    offers = [KitOffer(k, (clinic, product), vials) for k, _, clinic, product, vials in snap.kits]
    served = assign(requests, offers).served
    counts: Counter = Counter()
    for request in requests:
        clinic, kit_id = request.pool
        need = request.need
        day, last = need.first_use, need.last_needed
        if request.key in served:
            counts[(clinic, kit_id, day, last, demand.KIT, "kit")] += 1
            continue
        counts[(clinic, kit_id, day, last, demand.KIT, None)] += 1
        serum = snap.cat.serum_in_kit(kit_id)[0]
        for product, quantity in snap.cat.recipes[kit_id]:
            if product == serum:
                for until in need.vial_needed_until[:quantity]:
                    counts[(clinic, product, day, until, demand.KIT_COMPONENT, None)] += 1
            else:
                counts[(clinic, product, day, last, demand.KIT_COMPONENT, None)] += quantity
    return counts


def test_open_kit_needs_count_as_when_matched_one_by_one(loaded, uow, monkeypatch):
    _mixed(uow)
    # alike needs: two courses of each home plan at a clinic starting on the same day
    for n, plan in enumerate(("home-6w", "home-12w", "ptt6-weekly-12")):
        for clinic in ("LON", "VIE"):
            for copy in range(2):
                courses.create_course(
                    uow(), f"P-ALIKE-{plan}-{clinic}-{copy}", plan,
                    AS_OF + timedelta(days=3 + n), clinic, today=AS_OF, allow_past=True,
                )  # fmt: skip
    with uow() as work:
        # every kit not held for a course is available: some at each clinic, of various
        # expiries (the demo's)
        work.session.execute(
            update(KitRow).where(KitRow.course_id.is_(None)).values(status="available")
        )
        work.commit()
    captured: list[list] = []
    real_init = demand._PerCourse.__init__

    def init(self, *args):
        real_init(self, *args)
        captured.append(self.open_kits)

    monkeypatch.setattr(demand._PerCourse, "__init__", init)
    served = 0
    for start, end in (*WINDOWS, (AS_OF - timedelta(days=300), AS_OF + timedelta(days=700))):
        captured.clear()
        demand._application_dates.cache_clear()
        demand._kit_needs.cache_clear()
        with uow(readonly=True) as work:
            snap = demand._collect(work, start, end, None, lots=False)
            kits = work.session.scalar(
                select(KitRow.id).where(KitRow.status == "available").limit(1)
            )
        assert kits is not None
        (requests,) = captured
        expected = _one_by_one(snap, requests)
        found = Counter({k: v for k, v in snap.counts.items() if (k[4], k[5]) in OPEN})
        assert found == expected, (start, end)
        served += sum(v for k, v in found.items() if k[5] == "kit")
    # some open needs were served by an available kit, and some by their components
    assert served > 0
    assert any(k[4] == demand.KIT_COMPONENT for k in expected)
    assert max(found.values()) > 1  # needs alike were counted together


def test_an_open_kit_need_with_no_kit_at_its_clinic_counts_its_components(loaded, uow, monkeypatch):
    _mixed(uow)
    with uow() as work:
        work.session.execute(update(KitRow).values(status="recalled", recalled=True))
        work.commit()
    calls: list[int] = []
    real = demand.assign

    def counting(needs, kits):
        calls.append(len(needs))
        return real(needs, kits)

    monkeypatch.setattr(demand, "assign", counting)
    start, end = date(2026, 11, 1), date(2027, 3, 1)
    with uow(readonly=True) as work:
        snap = demand._collect(work, start, end, None, lots=False)
    assert not snap.kits
    assert calls == []  # nothing to match: no kit is available anywhere
    kinds = {(k[4], k[5]) for k in snap.counts}
    assert (demand.KIT, None) in kinds
    assert (demand.KIT_COMPONENT, None) in kinds
    assert (demand.KIT, "kit") not in kinds
