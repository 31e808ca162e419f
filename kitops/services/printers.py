"""Label printers named in settings: add, list, remove, and look one up for a print job.

Each printer is one row of the settings table (key ``printer:NAME``, a short JSON value;
``kitops.domain.printers``), so printers need no table of their own and travel with the
database's backups. Adding and removing need the ``setting.set`` permission (admins) and
are audited (``printer.add``, ``printer.remove``); every active user may list them and
print to them.
"""

from __future__ import annotations

from sqlalchemy import func, select

from kitops.data.schema import SettingRow
from kitops.domain.printers import (
    SETTING_PREFIX,
    PrinterSpec,
    parse_name,
    parse_printer_value,
    printer_spec,
    printer_value,
)
from kitops.errors import Conflict, InvalidInput
from kitops.i18n import _
from kitops.services.dto.printers import Printer
from kitops.services.unit_of_work import UnitOfWork, retrying


def printer_dto(spec: PrinterSpec) -> Printer:
    return Printer(
        name=spec.name, format=spec.format.value, size=spec.size.name, dpi=spec.dpi,
        via=spec.connection.via.value, target=spec.connection.target, model=spec.model,
    )  # fmt: skip


@retrying
def add_printer(
    uow: UnitOfWork,
    name: str,
    *,
    format: str,
    size: str,
    tcp: str | None = None,
    device: str | None = None,
    cups: str | None = None,
    dpi: int | None = None,
    model: str | None = None,
) -> Printer:
    """Name a printer (admins); a name already taken is refused."""
    spec = printer_spec(name, format, size, tcp=tcp, device=device, cups=cups, dpi=dpi,
                        model=model)  # fmt: skip
    value = printer_value(spec)
    with uow:
        uow.require("setting.set", doing=_("add a printer"))
        key = SETTING_PREFIX + spec.name
        taken = uow.session.scalars(
            select(SettingRow.key).where(func.lower(SettingRow.key) == key.lower())
        ).first()
        if taken is not None:
            raise Conflict(
                _("printer {printer} exists already; remove it first").format(
                    printer=taken[len(SETTING_PREFIX) :]
                )
            )
        uow.session.add(SettingRow(key=key, value=value))
        uow.record("printer.add", "printer", spec.name, after={"value": value})
        uow.commit()
    return printer_dto(spec)


def list_printers(uow: UnitOfWork) -> list[Printer]:
    """Every printer, by name."""
    with uow:
        rows = uow.session.execute(
            select(SettingRow.key, SettingRow.value)
            .where(SettingRow.key.like(f"{SETTING_PREFIX}%"))
            .order_by(SettingRow.key)
        ).all()
    return [printer_dto(parse_printer_value(k[len(SETTING_PREFIX) :], v)) for k, v in rows]


def printer_in(uow: UnitOfWork, name: str) -> PrinterSpec:
    """Inside the caller's transaction: the printer ``name`` (any case); unknown is bad
    input."""
    clean = name.strip()
    row = None
    if clean:
        row = uow.session.scalars(
            select(SettingRow).where(func.lower(SettingRow.key) == (SETTING_PREFIX + clean).lower())
        ).first()
    if row is None:
        raise InvalidInput("printer", name, _("no such printer (see `kitops printer list`)"))
    return parse_printer_value(row.key[len(SETTING_PREFIX) :], row.value)


def get_printer(uow: UnitOfWork, name: str) -> Printer:
    with uow:
        return printer_dto(printer_in(uow, name))


@retrying
def remove_printer(uow: UnitOfWork, name: str) -> Printer:
    """Forget a printer (admins)."""
    parse_name(name)
    with uow:
        uow.require("setting.set", doing=_("remove a printer"))
        spec = printer_in(uow, name)
        row = uow.session.get(SettingRow, SETTING_PREFIX + spec.name)
        assert row is not None  # printer_in found it in this transaction
        uow.session.delete(row)
        uow.record("printer.remove", "printer", spec.name, before={"value": row.value})
        uow.commit()
    return printer_dto(spec)
