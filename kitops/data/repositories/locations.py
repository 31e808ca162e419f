"""Locations: the clinic → stockroom → fridge/shelf tree, and the lookups of one place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import LocationRow
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind, clinic_today, parse_location_code
from kitops.errors import InvalidInput
from kitops.i18n import _


def clinic_of(row: LocationRow, by_id: dict[int, LocationRow]) -> LocationRow | None:
    node: LocationRow | None = row
    while node is not None:
        if node.kind == LocationKind.CLINIC.value:
            return node
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return None


def subtree_ids(root: LocationRow, rows: Sequence[LocationRow]) -> set[int]:
    """``root`` and every location below it."""
    children: dict[int, list[int]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)
    found, todo = set(), [root.id]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


class Locations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> LocationRow | None:
        return self.session.scalar(select(LocationRow).where(LocationRow.code == code))

    def get(self, code: str, field: str = "location") -> LocationRow:
        row = self.by_code(code)
        if row is None:
            raise InvalidInput(
                field, code, _("no location has this code (see `kitops location list`)")
            )
        return row

    def all(self) -> Sequence[LocationRow]:
        return self.session.scalars(select(LocationRow).order_by(LocationRow.id)).all()

    def physical_ids(self) -> set[int]:
        kinds = [k.value for k in PHYSICAL_KINDS]
        return set(self.session.scalars(select(LocationRow.id).where(LocationRow.kind.in_(kinds))))

    def add(self, row: LocationRow) -> LocationRow:
        self.session.add(row)
        self.session.flush()
        return row

    def clinic(self, code: str, field: str = "clinic") -> LocationRow:
        row = self.get(parse_location_code(code, field), field)
        if row.kind != LocationKind.CLINIC.value:
            raise InvalidInput(
                field, row.code, _("is a {kind}, not a clinic").format(kind=row.kind)
            )
        return row

    def physical(self, code: str, field: str = "location") -> LocationRow:
        row = self.get(parse_location_code(code, field), field)
        if LocationKind(row.kind) not in PHYSICAL_KINDS:
            raise InvalidInput(
                field,
                row.code,
                _("is the virtual {kind} location, not a place").format(kind=row.kind),
            )
        return row

    def assembly_place(self, location: str) -> LocationRow:
        """Where kits are made: a physical place, never a quarantine one."""
        place = self.physical(location)
        if place.kind == LocationKind.QUARANTINE.value:
            raise InvalidInput(
                "location", place.code,
                _(
                    "is a quarantine place; kits are made from released stock "
                    "elsewhere in the clinic"
                ),
            )  # fmt: skip
        return place

    def latest_clinic_today(self) -> date:
        """The latest 'today' among the clinics: a lot is expired as soon as it is expired
        on any clinic's calendar (the expiry sweep, releasing a lot, reorder)."""
        zones = {row.timezone for row in self.all() if row.kind == LocationKind.CLINIC.value}
        days = [clinic_today(zone) for zone in zones if zone]
        return max(days) if days else clinic_today(None)

    def local_today(self, location: LocationRow) -> date:
        """Today on the calendar of the clinic that holds ``location``."""
        by_id = {row.id: row for row in self.all()}
        clinic = clinic_of(location, by_id)
        return clinic_today(clinic.timezone if clinic else None)
