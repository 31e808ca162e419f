"""The one paged-query helper of the read side: a list filter matching a search text in
the query, and a page (rows in all, this page's rows) of a counting statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.orm import Session

from kitops.domain.numbers import MAX_ID

MAX_PAGE = 1000


def like_pattern(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(text: str, *columns: Any, numbers: Sequence[Any] = ()) -> ColumnElement[bool] | None:
    """A list filter: the columns that contain the text, in any case; a number also
    matches the ``numbers`` columns exactly. None when there is nothing to filter by."""
    text = text.strip()
    if not text:
        return None
    pattern = like_pattern(text)
    matches: list[ColumnElement[bool]] = [
        func.lower(column).like(pattern, escape="\\") for column in columns
    ]
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID:
        matches += [column == int(text) for column in numbers]
    return or_(*matches)


def filters(*asked: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    """The filters a list was asked for (None: that filter was not asked)."""
    return [condition for condition in asked if condition is not None]


def page(
    session: Session,
    counted: Any,
    columns: Sequence[Any],
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> tuple[int, Sequence[Any]]:
    """(rows in all, this page's rows) of a ``select(func.count())`` with its joins and
    filters: the same statement counts, then reads the page's columns."""
    total = session.scalar(counted) or 0
    rows = session.execute(
        counted.with_only_columns(*columns)
        .order_by(*order)
        .offset(max(0, offset))
        .limit(max(1, min(limit, MAX_PAGE)))
    ).all()
    return int(total), rows
