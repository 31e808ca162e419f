"""A purchase order as the files sent to the supplier: CSV (one line per product) or
PDF (one A4 page or more)."""

from __future__ import annotations

from kitops.documents.files import output_path, printable, write_file
from kitops.errors import InvalidInput
from kitops.services.csvfiles import CsvCell, write_csv
from kitops.services.dto import purchasing as purchasing_dto
from kitops.services.purchasing import order_to_send
from kitops.services.unit_of_work import UnitOfWork


def order_csv(order: purchasing_dto.PurchaseOrder) -> bytes:
    """What the supplier receives, one line per product (UTF-8, with a header); text that a
    spreadsheet would run as a formula is escaped (``csvfiles.write_csv``)."""
    rows: list[list[CsvCell]] = [
        ["po", "supplier", "deliver_to", "as_of", "expected_on", "line", "supplier_sku",
         "sku", "quantity", "unit_cost", "line_total", "currency"],
    ]  # fmt: skip
    for index, line in enumerate(order.lines, start=1):
        rows.append([
            order.number, order.supplier, order.clinic, order.as_of.isoformat(),
            order.expected_on.isoformat() if order.expected_on else "", index,
            line.supplier_sku or "", line.sku, line.quantity,
            line.unit_cost.amount, line.line_total.amount,
            order.currency,
        ])  # fmt: skip
    return write_csv(rows, lineterminator="\r\n").encode("utf-8")


def order_pdf(order: purchasing_dto.PurchaseOrder, clinic_name: str) -> bytes:
    """One A4 page (or more) with the order: header, lines, total. Core Helvetica font."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, printable(f"Purchase order {order.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"To: {order.supplier_name} ({order.supplier})" + (
            f", {order.contact}" if order.contact else ""),
        f"Deliver to: {clinic_name} ({order.clinic})",
        f"Date: {order.as_of.isoformat()}" + (
            f"    Expected: {order.expected_on.isoformat()}" if order.expected_on else ""),
        f"Status: {order.status}    Currency: {order.currency}",
    ):  # fmt: skip
        pdf.cell(0, 6, printable(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (10, 40, 45, 25, 30, 30)
    heads = ("#", "Supplier SKU", "SKU", "Quantity", "Unit cost", "Total")
    pdf.set_font("Helvetica", "B", 10)
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 7, head, border="B", align="R" if width in (25, 30) else "L")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for index, line in enumerate(order.lines, start=1):
        cells = (str(index), line.supplier_sku or "", line.sku, str(line.quantity),
                 str(line.unit_cost), str(line.line_total))  # fmt: skip
        for width, cell in zip(widths, cells, strict=True):
            pdf.cell(width, 6, printable(cell), align="R" if width in (25, 30) else "L")
        pdf.ln()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths[:-1]), 8, "Total", align="R")
    pdf.cell(widths[-1], 8, printable(str(order.total)), align="R")
    pdf.ln()
    return bytes(pdf.output())


def export_order(uow: UnitOfWork, number: str | int, fmt: str, out: str) -> purchasing_dto.Export:
    kind = fmt.strip().lower()
    if kind not in ("csv", "pdf"):
        raise InvalidInput("format", fmt, "must be csv or pdf")
    path = output_path(out, (f".{kind}",))
    order, clinic_name = order_to_send(uow, number)
    data = order_csv(order) if kind == "csv" else order_pdf(order, clinic_name)
    write_file(path, data, out)
    return purchasing_dto.Export(order.number, kind, str(path), len(data))
