"""A kit is never reserved for two courses, and a course is refused only when no kit that
fits it is left: several processes fulfil different courses against one small kit pool."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import date, timedelta

from fulfil_worker import AS_OF, fulfil_share, init
from sqlalchemy import select

from kitops.data.repositories.locations import subtree_ids
from kitops.data.schema import KitRow
from kitops.domain.courses import fits
from kitops.services import admin, demo, users
from kitops.services.clinic_calendar import set_hours
from kitops.services.courses import create_course, needs_of
from kitops.services.kits import assemble
from kitops.services.operations import ReceiptInput, receive

WORKERS = 8  # PostgreSQL; SQLite queues its writers, 4 are enough there
KIT = "KIT-HOME-6W"
CLINIC = "LON"
FRIDGE = "LON-FRIDGE"
KITS = 12  # assembled here, beside the demo's 3 still available at LON
COURSES = 30
# Serum for the pool: the demo's lots, whose expiries are fixed days from AS_OF. Kits of
# PTT6-A0603 (2027-01-13) fit the courses starting in the first week only; kits of
# PTT6-B0902 (2027-05-31) fit them all.
EXTRA_STOCK = [
    ("SERUM-5ML", "PTT6-A0603", 52, 24),
    ("SERUM-5ML", "PTT6-B0902", 190, 48),
    ("STAMP-0.5", "DS05-2402", 950, KITS),
]


def _available_at_clinic(w, product_id: int) -> list[tuple[str, tuple[date, ...]]]:
    places = subtree_ids(w.locations.get(CLINIC), w.locations.all())
    rows = w.session.execute(
        select(KitRow.serial, KitRow.vial_expiries).where(
            KitRow.status == "available",
            KitRow.product_id == product_id,
            KitRow.location_id.in_(places),
            ~KitRow.recalled,
        )
    )
    return [
        (serial, tuple(date.fromisoformat(v) for v in vials.split(","))) for serial, vials in rows
    ]


def test_concurrent_fulfil_never_reserves_a_kit_twice(db_url, uow, backend):
    demo.load(uow(), AS_OF)
    for sku, lot, days, quantity in EXTRA_STOCK:
        expiry = (AS_OF + timedelta(days=days)).isoformat()
        receive(uow(), ReceiptInput(location=FRIDGE, sku=sku, lot=lot, expiry=expiry,
                                    quantity=quantity), today=AS_OF)  # fmt: skip
    made = assemble(uow(), KIT, KITS, FRIDGE, min_shelf_life_days=30, today=AS_OF)
    assert len({kit.expiry for kit in made.kits}) > 1  # short- and long-dated kits
    set_hours(uow(), CLINIC, days="every-day")  # the courses start on any day, Sundays too
    course_ids = [
        create_course(uow(), f"P-RACE-{n:03d}", "home-6w", AS_OF + timedelta(days=1 + n % 10),
                      CLINIC, today=AS_OF).id
        for n in range(COURSES)
    ]  # fmt: skip
    with uow(readonly=True) as w:
        product_id = w.products.get(KIT).id
        pool = _available_at_clinic(w, product_id)
    assert KITS < len(pool) < COURSES  # a small pool: some courses must go without

    workers = WORKERS if backend == "postgresql" else 4
    for i in range(workers):
        users.add_user(uow(), f"filler{i}", "stockroom")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    with context.Pool(workers, initializer=init, initargs=(barrier,)) as processes:
        results = processes.starmap(
            fulfil_share, [(db_url, f"filler{i}", course_ids[i::workers]) for i in range(workers)]
        )
    served = [line for result in results for line in result["served"]]
    refused = [line for result in results for line in result["refused"]]

    # every course was either served or refused, once
    assert sorted([c for c, _, _ in served] + [c for c, _ in refused]) == sorted(course_ids)
    twice = [serial for serial, n in Counter(k for _, _, k in served).items() if n > 1]
    assert not twice, f"kits reported reserved for two courses: {twice}"
    assert served, "no course was served"
    assert refused, f"{COURSES} courses for {len(pool)} kits, yet none was refused"

    with uow(readonly=True) as w:
        held = w.session.execute(
            select(KitRow.course_id, KitRow.course_part, KitRow.serial, KitRow.status).where(
                KitRow.course_id.in_(course_ids)
            )
        ).all()
        parts = Counter((course, part) for course, part, _, _ in held)
        assert all(n == 1 for n in parts.values()), f"a course part holds two kits: {parts}"
        assert all(status == "reserved" for *_, status in held)
        # what the workers were told is exactly what the database holds
        assert {(course, part, serial) for course, part, serial, _ in held} == set(served)
        assert len(held) == len(served) <= len(pool)

        # a refused course had no fitting kit left at its clinic: kits only ever leave
        # "available" during the run, so one that fits now was there at the refusal too
        left = _available_at_clinic(w, product_id)
        wrongly = []
        for course_id, reason in refused:
            course = w.courses.get(course_id)
            for need in needs_of(w, course):
                fitting = [serial for serial, vials in left if fits(vials, need)]
                if fitting:
                    wrongly.append((course_id, need.part, fitting, reason))
    assert not wrongly, (
        f"{len(wrongly)} of {len(refused)} refused courses had a fitting kit left "
        f"({len(served)} served, {len(left)} kits still available): {wrongly[:3]}"
    )

    report = admin.check(uow(readonly=True))
    assert report.ok, report.problems
