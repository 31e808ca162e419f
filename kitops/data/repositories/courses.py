"""Treatment courses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kitops.data.schema import CourseRow, PlanRow, ProductRow, RecipeLineRow
from kitops.domain.courses import parse_course_id
from kitops.errors import InvalidInput


class Courses:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, course_id: int | str, *, lock: bool = False) -> CourseRow:
        key = parse_course_id(course_id)
        # the plan, its kit and recipe, and the clinic come along: every use case needs them
        stmt = (
            select(CourseRow)
            .where(CourseRow.id == key)
            .options(
                joinedload(CourseRow.clinic),
                joinedload(CourseRow.plan)
                .joinedload(PlanRow.kit_product)
                .selectinload(ProductRow.recipe)
                .joinedload(RecipeLineRow.component),
            )
        )
        if lock:
            stmt = stmt.with_for_update(key_share=True, of=CourseRow)
        row = self.session.scalar(stmt)
        if row is None:
            raise InvalidInput("course", course_id, "no course has this number")
        return row
