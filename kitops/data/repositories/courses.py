"""Treatment courses."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from kitops.data.schema import CourseKitNeedRow, CourseRow, PlanRow, ProductRow, RecipeLineRow
from kitops.domain.course_lifecycle import NEEDS_STOCK
from kitops.domain.courses import parse_course_id
from kitops.errors import InvalidInput
from kitops.i18n import _

if TYPE_CHECKING:
    from sqlalchemy.orm.interfaces import LoaderOption


@cache
def with_plan_and_clinic() -> tuple[LoaderOption, ...]:
    """The loader options that bring a course's plan, its kit and recipe, and its clinic
    along (every use case needs them). Made on first use, not at import: building them
    configures every mapper, which a command that never loads a course should not pay."""
    return (
        joinedload(CourseRow.clinic),
        joinedload(CourseRow.plan)
        .joinedload(PlanRow.kit_product)
        .selectinload(ProductRow.recipe)
        .joinedload(RecipeLineRow.component),
    )


class Courses:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, course_id: int | str, *, lock: bool = False) -> CourseRow:
        key = parse_course_id(course_id)
        stmt = select(CourseRow).where(CourseRow.id == key).options(*with_plan_and_clinic())
        if lock:
            stmt = stmt.with_for_update(key_share=True, of=CourseRow)
        row = self.session.scalar(stmt)
        if row is None:
            raise InvalidInput("course", course_id, _("no course has this number"))
        return row

    def without_stored_needs(self) -> Sequence[CourseRow]:
        """Running courses (scheduled, active) of plans with a kit whose kit need dates are
        not stored."""
        stmt = (
            select(CourseRow)
            .join(PlanRow, PlanRow.id == CourseRow.plan_id)
            .where(
                CourseRow.status.in_(NEEDS_STOCK),
                PlanRow.kit_product_id.is_not(None),
                ~exists().where(CourseKitNeedRow.course_id == CourseRow.id),
            )
            .options(*with_plan_and_clinic())
        )
        return self.session.scalars(stmt).unique().all()
