"""A purchase order as the files sent to the supplier: CSV (one line per product) or
PDF (A4, as many pages as the lines need, the table's header row on each).

The PDF says what a supplier needs to act on the order: the order reference and date, the
expected delivery, the supplier's name and address, the clinic's delivery address and
contact, each line's description, the supplier's own SKU, quantity, unit price, VAT rate
and VAT amount, the net, VAT and gross totals in the order's currency, and the payment
terms. VAT comes from the rates recorded for the delivery clinic's country and the
product's kind; a line with no rate says "VAT not set" and stays out of the totals.
"""

from __future__ import annotations

from kitops.documents.files import output_path, printable, write_file
from kitops.domain.money import Money
from kitops.domain.vat import rate_text
from kitops.errors import InvalidInput
from kitops.services.csvfiles import CsvCell, write_csv
from kitops.services.dto import purchasing as purchasing_dto
from kitops.services.purchasing import order_paper, order_to_send
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


COLUMNS = ("#", "Supplier SKU", "Description", "Qty", "Unit price", "Net", "VAT %", "VAT")
_WIDTHS = (8, 27, 56, 12, 21, 21, 15, 20)  # mm, 180 in all: A4 less 15 mm margins
_ALIGN = ("RIGHT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
VAT_NOT_SET = "VAT not set"
ROUNDING = (
    "VAT is worked out per line (net x rate) and rounded half up to the currency's minor "
    "unit; the totals are the sums of the lines."
)


def _amount(value: Money) -> str:
    """An amount without its currency (the page says it once): ``1234.50``."""
    return str(value).rsplit(" ", 1)[0]


def _address_lines(text: str | None) -> list[str]:
    """An address kept on one line, commas between its lines, as printed lines."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def paper_notes(paper: purchasing_dto.OrderPaper) -> list[str]:
    """What the page says under the totals: VAT not set (never guessed), the rounding."""
    notes = []
    if paper.vat_missing:
        lines = "line" if paper.vat_missing == 1 else "lines"
        where = (f"in {paper.country}" if paper.country
                 else f"({paper.clinic} has no country)")  # fmt: skip
        notes.append(f"{VAT_NOT_SET} for {paper.vat_missing} {lines}: no VAT rate is "
                     f"recorded for the kind of product {where}; that VAT is not in the "
                     "totals.")  # fmt: skip
    notes.append(ROUNDING)
    return notes


def order_pdf(paper: purchasing_dto.OrderPaper) -> bytes:
    """An A4 purchase order: who orders and where it goes, the supplier, the lines with
    VAT (fpdf2's ``table()``, its header row repeated on every page), the totals, the
    payment terms. Core Helvetica font; a footer numbers the pages."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    number = paper.number

    class OrderPage(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", "", 8)
            self.cell(0, 5, f"Purchase order {number} - page {self.page_no()} of {{nb}}",
                      align="C")  # fmt: skip

    pdf = OrderPage(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(printable(f"Purchase order {number}"))
    pdf.set_creator("kitops")
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", height: float = 5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")

    line(f"Purchase order {number}", 16, "B", 9)
    facts = [f"Order reference: {number}", f"Order date: {paper.as_of.isoformat()}",
             "Expected delivery: "
             + (paper.expected_on.isoformat() if paper.expected_on else "not agreed"),
             f"Currency: {paper.currency} (all amounts)"]  # fmt: skip
    for fact in facts:
        line(fact)
    if paper.status == "draft":
        line("DRAFT: not approved yet; do not send this order.", style="B")
    pdf.ln(3)

    supplier = [paper.supplier_name, f"Supplier code {paper.supplier}",
                *_address_lines(paper.supplier_address)]  # fmt: skip
    if not paper.supplier_address:
        supplier.append("(no address on file)")
    if paper.supplier_contact:
        supplier.append(f"Contact: {paper.supplier_contact}")
    deliver = [f"{paper.clinic_name} ({paper.clinic})", *_address_lines(paper.delivery_address)]
    if not paper.delivery_address:
        deliver.append("(no delivery address on file)")
    if paper.delivery_contact:
        deliver.append(f"Contact: {paper.delivery_contact}")
    top, half = pdf.get_y(), (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    bottoms = []
    for column, (title, lines) in enumerate((("Supplier", supplier), ("Deliver to", deliver))):
        pdf.set_xy(pdf.l_margin + column * half, top)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(half - 4, 5, title, new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for text in lines:
            pdf.multi_cell(half - 4, 5, printable(text), align="L", new_x="LEFT", new_y="NEXT")
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 3)
    line("Payment terms: " + (paper.payment_terms or "as agreed with the supplier"), style="B")
    pdf.ln(3)

    pdf.set_font("Helvetica", "", 9)
    with pdf.table(
        col_widths=_WIDTHS, width=sum(_WIDTHS), align="LEFT", text_align=_ALIGN,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        borders_layout="HORIZONTAL_LINES", line_height=4.5, repeat_headings=1,
    ) as table:  # fmt: skip
        table.row(COLUMNS)
        for item in paper.lines:
            rate = rate_text(item.vat_rate_bp) if item.vat_rate_bp is not None else "not set"
            table.row((
                str(item.position), printable(item.supplier_sku or "-"),
                printable(item.description) + "\n" + printable(f"our SKU {item.sku}"),
                str(item.quantity),
                _amount(item.unit_price), _amount(item.net), rate,
                _amount(item.vat) if item.vat is not None else VAT_NOT_SET,
            ))  # fmt: skip
    pdf.ln(3)

    totals = (("Net total", paper.net), ("VAT total", paper.vat), ("Total to pay", paper.gross))
    if pdf.will_page_break(3 * 6 + 12):
        pdf.add_page()
    for label, value in totals:
        pdf.set_font("Helvetica", "B" if label.startswith("Total") else "", 10)
        pdf.cell(sum(_WIDTHS) - 40, 6, label, align="R")
        pdf.cell(40, 6, printable(str(value)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for note in paper_notes(paper):
        line(note, 8, height=4)
    return bytes(pdf.output())


def export_order(uow: UnitOfWork, number: str | int, fmt: str, out: str) -> purchasing_dto.Export:
    kind = fmt.strip().lower()
    if kind not in ("csv", "pdf"):
        raise InvalidInput("format", fmt, "must be csv or pdf")
    path = output_path(out, (f".{kind}",))
    if kind == "csv":
        order, _ = order_to_send(uow, number)
        name, data = order.number, order_csv(order)
    else:
        paper = order_paper(uow, number)
        name, data = paper.number, order_pdf(paper)
    write_file(path, data, out)
    return purchasing_dto.Export(name, kind, str(path), len(data))
