"""Kits and courses: the kit list, the course list, a course (calendar, kits, sessions,
orders) and its calendar as an iCalendar file for the patient's phone."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.views import choices as choice_lists
from kitops.views import pages
from kitops.web.pages.common import CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50


def _offset(value: int) -> int:
    if value < 0:
        raise InvalidInput("offset", value, _("must be 0 or more"))
    return value


@router.get("/kits")
def kits_page(
    request: Request,
    caller: CurrentCaller,
    clinic: str = "",
    status: str = "",
    q: str = "",
    offset: int = 0,
) -> Response:
    page = pages.kits_page(door(request).reading(caller), clinic=clinic or None,
                           status=status or None, search=q.strip(), offset=_offset(offset),
                           limit=PAGE)  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(request, "kits.html", caller, page=page, clinic=clinic, status=status, q=q,
                  clinics=offered.clinics, statuses=offered.kit_statuses, size=PAGE,
                  partial="_kits_table.html")  # fmt: skip


@router.get("/courses")
def courses_page(
    request: Request,
    caller: CurrentCaller,
    clinic: str = "",
    status: str = "",
    q: str = "",
    offset: int = 0,
) -> Response:
    page = pages.courses_page(door(request).reading(caller), clinic=clinic or None,
                              status=status or None, search=q.strip(), offset=_offset(offset),
                              limit=PAGE)  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(request, "courses.html", caller, page=page, clinic=clinic, status=status,
                  q=q, clinics=offered.clinics, statuses=offered.course_statuses, size=PAGE,
                  partial="_courses_table.html")  # fmt: skip


@router.get("/courses/{course_id}")
def course_page(request: Request, caller: CurrentCaller, course_id: str) -> Response:
    from kitops.views import previews  # loaded by the first course page asked for

    detail = previews.course_detail(door(request).reading(caller), course_id)
    return render(request, "course.html", caller, detail=detail, course=detail.course)


@router.get("/courses/{course_id}/calendar.ics")
def course_calendar(request: Request, caller: CurrentCaller, course_id: str) -> Response:
    from kitops.documents.calendar import build_calendar
    from kitops.i18n import use_clinic_locale
    from kitops.services.calendars import read_calendar
    from kitops.services.locales import document_locale

    facts = read_calendar(door(request).reading(caller), course_id)
    clinic = document_locale(door(request).reading(caller), clinic=facts.course.clinic)
    with use_clinic_locale(clinic):  # in the course's clinic's locale, whoever asks
        body = build_calendar(facts, datetime.now(UTC))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="course-{facts.course.id}.ics"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip
