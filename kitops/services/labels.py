"""What a kit label says, read from the database for the label writer
(``kitops.documents.labels`` draws it as PDF or PNG).

A kit already with its patient (handed over or shipped) is labelled again only on
purpose: ``reprint`` (the command line's ``--reprint``, a confirm dialog in the terminal
UI), needs the ``kit.relabel`` permission and is audited (``kit.label_reprint``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kitops import i18n
from kitops.domain.catalog import ProductKind
from kitops.domain.kits import KitStatus
from kitops.errors import InvalidInput, Refused
from kitops.i18n import N_, _
from kitops.services.kits import kit_dto
from kitops.services.unit_of_work import UnitOfWork

# a kit in these states has left the clinic with its patient
WITH_PATIENT = frozenset({KitStatus.HANDED_OVER.value, KitStatus.SHIPPED.value})
_WITH_PATIENT_WORDS = {
    KitStatus.HANDED_OVER.value: N_("handed over"),
    KitStatus.SHIPPED.value: N_("shipped"),
}


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
    gtin: str | None = None  # the kit product's GTIN-14, when it has one
    serum_lots: tuple[str, ...] = ()  # the serum lots inside, in the kit's order
    storage: str | None = None  # the kit product's label lines (none when unset)
    usage: str | None = None
    status: str = KitStatus.AVAILABLE.value


def with_patient(labels: Sequence[Label]) -> list[Label]:
    """The labels of kits already handed over or shipped to their patient."""
    return [label for label in labels if label.status in WITH_PATIENT]


def read_in(uow: UnitOfWork, serials: Sequence[str]) -> list[Label]:
    """The labels of ``serials``, inside the caller's transaction."""
    if not serials:
        raise InvalidInput("serial", None, _("give at least one kit serial"))
    places = {row.id: row for row in uow.locations.all()}
    labels = []
    for serial in serials:
        row = uow.kits.get(serial)
        kit = kit_dto(uow, row, places)
        serum_lots: list[str] = []
        for part in row.components:
            serum = part.lot.product.kind == ProductKind.SERUM_VIAL.value
            if serum and part.lot.code not in serum_lots:
                serum_lots.append(part.lot.code)
        labels.append(
            Label(
                serial=kit.serial, sku=kit.sku, product=row.product.name,
                expiry=kit.expiry, course_id=kit.course_id, course_part=kit.course_part,
                patient_ref=kit.patient_ref, recalled=kit.recalled, gtin=row.product.gtin,
                serum_lots=tuple(serum_lots), storage=row.product.storage,
                usage=row.product.usage, status=kit.status,
            )
        )  # fmt: skip
    return labels


def read_labels(uow: UnitOfWork, serials: Sequence[str]) -> list[Label]:
    """Look every serial up in one read transaction; an unknown serial is bad input."""
    with uow:
        return read_in(uow, serials)


def refuse_with_patient(labels: Sequence[Label]) -> None:
    """Refused (exit 1) when a kit is already with its patient: its label is printed
    again only on purpose (``--reprint``)."""
    gone = with_patient(labels)
    if gone:
        first = gone[0]
        if len(gone) > 1:
            message = _(
                "kit {kit} is already with the patient ({state}) (and {more} more); "
                "pass --reprint to print its label again"
            )
        else:
            message = _(
                "kit {kit} is already with the patient ({state}); "
                "pass --reprint to print its label again"
            )
        state = i18n.gettext(_WITH_PATIENT_WORDS[first.status])
        raise Refused(message.format(kit=first.serial, state=state, more=len(gone) - 1))


def record_reprints(uow: UnitOfWork, labels: Sequence[Label]) -> None:
    """Inside the caller's transaction: the reprint of each kit already with its patient
    is allowed (``kit.relabel``) and audited, one row per kit."""
    gone = with_patient(labels)
    if not gone:
        return
    uow.require("kit.relabel")
    for label in gone:
        uow.record("kit.label_reprint", "kit", label.serial,
                   after={"status": label.status, "course": label.course_id})  # fmt: skip
