"""``/api/v1/kits`` and ``/api/v1/courses``: kits, courses, and reserving a course's kits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from kitops.services import courses, fulfilment, kits
from kitops.services.dto import courses as courses_dto
from kitops.services.dto import kits as kits_dto
from kitops.views import dto as view
from kitops.views import pages
from kitops.web.api import PREFIX
from kitops.web.api.common import (
    LIMIT_DEFAULT,
    Page,
    answer,
    body_digest,
    caller,
    change,
    check_limit,
    door_of,
    found,
    page,
    read_cursor,
)
from kitops.web.door import Caller

router = APIRouter(prefix=PREFIX, tags=["kits and courses"])


@router.get("/kits", response_model=Page[kits_dto.Kit])
def list_kits(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    clinic: str | None = None,
    status: str | None = None,
    search: str = "",
    limit: int = LIMIT_DEFAULT,
    cursor: str | None = None,
) -> Response:
    """Kits, earliest expiry first (then by serial); components with ``/kits/{serial}``."""
    offset, size = read_cursor(cursor), check_limit(limit)
    found_kits = pages.kits_page(
        door_of(request).reading(who), clinic=clinic, status=status, search=search,
        offset=offset, limit=size,
    )  # fmt: skip
    return page(request, found_kits.kits, found_kits.total, offset, size)


@router.get("/kits/{serial}", response_model=kits_dto.Kit)
def show_kit(request: Request, serial: str, who: Annotated[Caller, Depends(caller)]) -> Response:
    """One kit with its components, course and what it may still serve."""
    with found("serial"):
        return answer(kits.show_kit(door_of(request).reading(who), serial))


@router.get("/courses", response_model=Page[view.CourseSummary])
def list_courses(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    clinic: str | None = None,
    status: str | None = None,
    search: str = "",
    limit: int = LIMIT_DEFAULT,
    cursor: str | None = None,
) -> Response:
    """Courses, soonest start first (then by number), with how many kits each holds."""
    offset, size = read_cursor(cursor), check_limit(limit)
    found_courses = pages.courses_page(
        door_of(request).reading(who), clinic=clinic, status=status, search=search,
        offset=offset, limit=size,
    )  # fmt: skip
    return page(request, found_courses.courses, found_courses.total, offset, size)


@router.get("/courses/{course_id}", response_model=courses_dto.Course)
def show_course(
    request: Request, course_id: str, who: Annotated[Caller, Depends(caller)]
) -> Response:
    """One course: its calendar, kits, sessions and history."""
    with found("course"):
        return answer(courses.show_course(door_of(request).reading(who), course_id))


@router.post("/courses/{course_id}/fulfil", response_model=courses_dto.FulfilReport)
def fulfil_course(
    request: Request,
    course_id: str,
    who: Annotated[Caller, Depends(caller)],
    digest: Annotated[str, Depends(body_digest)],
) -> Response:
    """Reserve the kit(s) of one home course, all or nothing (stockroom staff and up)."""
    return change(
        request, who, digest, lambda uow: fulfilment.fulfil_course(uow, course_id),
        keys=("course",),
    )  # fmt: skip
