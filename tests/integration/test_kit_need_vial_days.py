"""Every vial's last day is stored with a home course's kit needs (migration 0026): the
scheduled demand matches a kit of any size vial by vial without its course calendar, and
a database from before 0026 is filled in where its rows already say it (kits of one or
two vials); larger kits' rows go, to be computed again, as after a recipe change. On both
backends."""

from __future__ import annotations

from datetime import date, timedelta

from ledger_support import AS_OF
from sqlalchemy import select, text

from kitops.data import migrate
from kitops.data.schema import CourseKitNeedRow, CourseRow, PlanRow, ProductRow
from kitops.domain.course_lifecycle import NEEDS_STOCK
from kitops.services import catalog, courses, demand, plans


def _stored(uow) -> dict[tuple[int, int], tuple[date, date, date, str]]:
    with uow(readonly=True) as work:
        return {
            (c, p): (first, earliest, last, days)
            for c, p, first, earliest, last, days in work.session.execute(
                select(CourseKitNeedRow.course_id, CourseKitNeedRow.part,
                       CourseKitNeedRow.first_use, CourseKitNeedRow.earliest_vial_last_use,
                       CourseKitNeedRow.last_use, CourseKitNeedRow.vial_last_uses)
            )
        }  # fmt: skip


def test_every_running_home_course_stores_each_vials_last_day(loaded, uow):
    courses.reschedule_course(uow(), _a_home_course(uow), AS_OF + timedelta(days=9), today=AS_OF)
    stored = _stored(uow)
    checked = 0
    with uow(readonly=True) as work:
        for course in work.session.scalars(
            select(CourseRow).where(CourseRow.status.in_(NEEDS_STOCK))
        ):
            for need in courses.needs_of(work, course, margin=0):
                days = stored[(course.id, need.part)][3]
                assert days == ",".join(d.isoformat() for d in need.vial_needed_until)
                assert len(days.split(",")) > 2  # the demo's kits hold 6 and 12 vials
                checked += 1
    assert checked >= 2


def _a_home_course(uow) -> int:
    with uow(readonly=True) as work:
        return work.session.scalars(
            select(CourseRow.id)
            .join(PlanRow, PlanRow.id == CourseRow.plan_id)
            .where(CourseRow.status.in_(NEEDS_STOCK), PlanRow.kit_product_id.is_not(None))
            .order_by(CourseRow.id)
        ).first()


def test_the_demos_kits_of_six_and_twelve_vials_need_no_calendar(loaded, uow, monkeypatch):
    window = (AS_OF - timedelta(days=60), AS_OF + timedelta(days=120))
    demand._kit_needs.cache_clear()
    demand._application_dates.cache_clear()
    with uow(readonly=True) as work:
        from_calendar = demand._collect(work, *window, None, lots=False, stored=False).counts
    calendars: list[str] = []
    real = demand.course_calendar

    def counted(plan, *args, **kwargs):
        calendars.append(plan.code)
        return real(plan, *args, **kwargs)

    monkeypatch.setattr(demand, "course_calendar", counted)
    demand._kit_needs.cache_clear()
    demand._application_dates.cache_clear()
    with uow(readonly=True) as work:
        found = demand._collect(work, *window, None, lots=False)
        kit_ids = {p.id for p in found.cat.products.values() if p.kind == "kit"}
        home = {code for code, plan in ((p.code, p) for p in found.cat.plans.values())
                if plan.uses_kits}  # fmt: skip
    assert found.counts == from_calendar
    assert {key[1] for key in found.counts} & kit_ids  # kits are needed in the window
    assert not set(calendars) & home  # ...and no home course's calendar was computed


def test_0026_fills_kits_of_one_or_two_vials_and_drops_larger_kits_rows(loaded, uow, db):
    catalog.add_product(uow(), catalog.parse_product("KIT-2V", "Kit of 2", "kit", at_home=True))
    catalog.set_recipe(uow(), "KIT-2V", ["SERUM-5ML=2", "STAMP-0.5=1"])
    plans.add_plan(uow(), "home-2v", "At home, 2 vials", per_week=2, weeks=2, ml="2.5",
                   administered="home", kit="KIT-2V", kits=1)  # fmt: skip
    two = courses.create_course(uow(), "P-2V", "home-2v", AS_OF + timedelta(days=1), "LON",
                                today=AS_OF).id  # fmt: skip
    before = _stored(uow)
    assert {c for c, _ in before} - {two}  # the demo's courses of larger kits

    migrate.downgrade(db, "0025")
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD_REVISION
    after = _stored(uow)
    assert after == {key: row for key, row in before.items() if key[0] == two}
    first, earliest, last, days = after[(two, 1)]
    assert days == f"{earliest.isoformat()},{last.isoformat()}"

    # a kit of one vial: its one day is the last use
    with db.write_sessions() as session:
        kit = session.scalar(select(ProductRow.id).where(ProductRow.sku == "KIT-2V"))
        session.execute(
            text("UPDATE kit_recipe_lines SET quantity = 1 WHERE kit_product_id = :kit "
                 "AND quantity = 2"),
            {"kit": kit},
        )  # fmt: skip
        session.commit()
    migrate.downgrade(db, "0025")
    migrate.upgrade(db)
    assert _stored(uow) == {(two, 1): (first, earliest, last, last.isoformat())}
