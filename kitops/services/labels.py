"""What a kit label says, read from the database for the label writer
(``kitops.documents.labels`` draws it as PDF or PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kitops.errors import InvalidInput
from kitops.services.kits import kit_dto
from kitops.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Label:
    """What one kit label says."""

    serial: str
    sku: str
    product: str
    expiry: date
    course_id: int | None
    course_part: int | None
    patient_ref: str | None
    recalled: bool


def read_labels(uow: UnitOfWork, serials: Sequence[str]) -> list[Label]:
    """Look every serial up in one read transaction; an unknown serial is bad input."""
    if not serials:
        raise InvalidInput("serial", None, "give at least one kit serial")
    with uow:
        places = {row.id: row for row in uow.locations.all()}
        labels = []
        for serial in serials:
            row = uow.kits.get(serial)
            kit = kit_dto(uow, row, places)
            labels.append(
                Label(
                    serial=kit.serial, sku=kit.sku, product=row.product.name,
                    expiry=kit.expiry, course_id=kit.course_id, course_part=kit.course_part,
                    patient_ref=kit.patient_ref, recalled=kit.recalled,
                )
            )  # fmt: skip
    return labels
