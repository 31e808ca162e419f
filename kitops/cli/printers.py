"""``kitops printer``: the label printers named in settings (admins add, remove and test
them; everyone may list them and print to them with ``kit label --printer``)."""

from __future__ import annotations

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, say
from kitops.i18n import N_, _


@group(
    "printer",
    help=N_("Label printers: Zebra (ZPL II), Brother QL, or PDF, by TCP, device file or CUPS."),
)
def printer() -> None: ...


@printer.command("add", help=N_("Name a printer (admins)."))
@click.argument("name")
@click.option(
    "--format",
    "format_",
    required=True,
    metavar="zpl|ql|pdf",
    help=N_("What the printer takes: ZPL II (Zebra), Brother QL raster, or PDF."),
)
@click.option(
    "--size",
    required=True,
    metavar="62|62x29|50x25",
    help=N_("The labels loaded: 62 (62 mm roll, 40 mm labels), 62x29 or 50x25 mm."),
)
@click.option("--tcp", metavar="HOST[:PORT]", help=N_("Raw TCP printing (port 9100 by default)."))
@click.option("--device", metavar="PATH", help=N_("A device file such as /dev/usb/lp0."))
@click.option("--cups", metavar="QUEUE", help=N_("A CUPS queue (`lp -d QUEUE`)."))
@click.option(
    "--dpi",
    type=int,
    metavar="N",
    help=N_("The printer's resolution: 203 (default), 300 or 600 for ZPL; QL is 300."),
)
@click.option("--model", metavar="QL-…", help=N_("The Brother QL model (default QL-820NWB)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the printer as JSON."))
@pass_context
def printer_add(
    ctx: Context, name: str, format_: str, size: str, tcp: str | None, device: str | None,
    cups: str | None, dpi: int | None, model: str | None, as_json: bool,
) -> None:  # fmt: skip
    from kitops.services import printers

    added = printers.add_printer(ctx.uow(), name, format=format_, size=size, tcp=tcp,
                                 device=device, cups=cups, dpi=dpi, model=model)  # fmt: skip
    if as_json:
        emit_json(added)
        return
    say(_("printer {name}: {format} on {size} labels at {dpi} dpi, {where}").format(
        name=added.name, format=added.format, size=added.size, dpi=added.dpi,
        where=_where(added.via, added.target)))  # fmt: skip


def _where(via: str, target: str) -> str:
    return {"tcp": f"tcp {target}", "device": f"device {target}"}.get(via, f"cups {target}")


@printer.command("list", help=N_("The printers, by name."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of printers."))
@pass_context
def printer_list(ctx: Context, as_json: bool) -> None:
    from kitops.services import printers

    found = printers.list_printers(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table([N_("printer"), N_("format"), N_("size"), N_("dpi"), N_("connection"),
                N_("model")],
               [(p.name, p.format, p.size, p.dpi, _where(p.via, p.target), p.model)
                for p in found], right=("dpi",))  # fmt: skip


@printer.command("remove", help=N_("Forget a printer (admins)."))
@click.argument("name")
@pass_context
def printer_remove(ctx: Context, name: str) -> None:
    from kitops.services import printers

    removed = printers.remove_printer(ctx.uow(), name)
    say(_("printer {name} removed").format(name=removed.name))


@printer.command(
    "test",
    help=N_(
        "Print a test label that names the printer, its format, size and resolution "
        "(admins). A printer that does not answer within 5 s: exit 1."
    ),
)
@click.argument("name")
@pass_context
def printer_test(ctx: Context, name: str) -> None:
    from kitops.documents.printers import print_test

    job = print_test(ctx.uow(readonly=True), name)
    say(_("test label sent to printer {name} ({n} bytes)").format(
        name=job.printer, n=job.bytes_sent))  # fmt: skip
